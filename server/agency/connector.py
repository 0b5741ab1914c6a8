"""A file connector for core systems that import files: ``hearthside agency pull``.

Exactly once, across crashes:
1. acknowledge anything already filed but not yet acknowledged (a crash before acking);
2. fetch the page after the saved cursor;
3. write only what is not already on disk (dedupe by id + version; what is on disk is
   re-read at every start, so the files themselves are the record of what was filed) as a
   new batch folder, written in a temporary folder, flushed, then renamed into place;
4. save the cursor (atomically, after the files);
5. acknowledge the page's items, and note them as acknowledged.
A crash between any two steps repeats at most a fetch; it never loses or duplicates a file.

Layout of OUT: ``batches/<cursor>/`` holding ``<ResourceType>.ndjson`` (FHIR),
``<item type>.ndjson`` (JSON) or ``<item type>.csv``, ``answers.csv``, ``observations.csv``
(CSV, see flat_csv.py), and ``_items.txt`` (the feed
items the batch files, ``type/id/version`` a line); ``.hearthside/state.json``
(cursor) and ``.hearthside/acked.txt``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import httpx

from . import flat_csv

FEED_ITEM_SYSTEM = "urn:hearthside:fhir:feed-item"
# The connector acknowledges under its own identifier namespace: where it filed an item is
# its bookkeeping, not an id of the agency's core system.
CONNECTOR_SYSTEM = "urn:hearthside:connector:file"
ACK_CHUNK = 500
# Each batch lists the feed items it files: an item whose resources were all on disk
# already (a Patient sent earlier with its family) is filed by that listing alone.
MANIFEST = "_items.txt"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class Connector:
    def __init__(self, url: str, token: str, out: Path, fmt: str, *, limit: int = 100,
                 client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.out = Path(out)
        self.fmt = fmt
        self.limit = limit
        self.http = client or httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60)
        self.meta = self.out / ".hearthside"
        self.batches = self.out / "batches"
        self.meta.mkdir(parents=True, exist_ok=True)
        self.batches.mkdir(parents=True, exist_ok=True)
        self.pages_written = 0
        self.epoch: str | None = None

    # -- state ----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        path = self.meta / "state.json"
        if not path.exists():
            return {"cursor": 0, "epoch": None}
        state = json.loads(path.read_text())
        if state.get("format") != self.fmt:
            raise SystemExit(f"{self.out} holds {state.get('format')} files; use a separate folder per format.")
        return {"cursor": int(state["cursor"]), "epoch": state.get("epoch")}

    def cursor(self) -> int:
        return self.state()["cursor"]

    def save_cursor(self, cursor: int, epoch: str | None = None) -> None:
        _write_atomic(self.meta / "state.json",
                      json.dumps({"cursor": cursor, "format": self.fmt, "epoch": epoch}).encode())

    def acked(self) -> set[str]:
        path = self.meta / "acked.txt"
        return set(path.read_text().split()) if path.exists() else set()

    def note_acked(self, keys: list[str]) -> None:
        with open(self.meta / "acked.txt", "a") as fh:
            fh.write("".join(k + "\n" for k in keys))
            fh.flush()
            os.fsync(fh.fileno())

    def on_disk(self) -> tuple[set[str], set[str]]:
        """(record keys for dedupe, feed item keys) of everything filed so far."""
        records: set[str] = set()
        items: set[str] = set()
        for batch in sorted(self.batches.iterdir()):
            if batch.name.startswith("."):
                continue  # an unfinished batch from a crash: never renamed, so never filed
            for f in batch.iterdir():
                if f.name == MANIFEST:
                    items.update(f.read_text().split())
                    continue
                for rec in self._read_file(f):
                    r_key, i_keys = self._keys(rec)
                    records.add(r_key)
                    items.update(i_keys)
        return records, items

    def _read_file(self, f: Path) -> list[dict[str, Any]]:
        if f.suffix == ".csv":
            if f.name in flat_csv.DERIVED_FILES:
                return []  # answers and observations: rows of the items filed beside them
            return [dict(row, version=int(row["version"])) for row in flat_csv.read_items(f.read_bytes())]
        return [json.loads(line) for line in f.read_text().splitlines() if line.strip()]

    def _keys(self, rec: dict[str, Any]) -> tuple[str, list[str]]:
        if self.fmt == "fhir":
            key = f"{rec['resourceType']}/{rec['id']}/{rec.get('meta', {}).get('versionId', '')}"
            tags = [t["code"] for t in rec.get("meta", {}).get("tag", []) if t.get("system") == FEED_ITEM_SYSTEM]
            return key, tags
        key = f"{rec['type']}/{rec['id']}/{rec['version']}"
        return key, [key]

    # -- steps ----------------------------------------------------------------------------
    def checkpoint(self, point: str) -> None:
        """Where a crash must lose nothing (``after-write``, ``after-cursor``). Does nothing:
        the crash tests replace it to kill the process there."""

    def ack(self, keys: list[str]) -> None:
        for start in range(0, len(keys), ACK_CHUNK):
            chunk = keys[start:start + ACK_CHUNK]
            body = []
            for k in chunk:
                item_type, item_id, version = k.split("/")
                body.append({"item_type": item_type, "id": item_id, "version": int(version),
                             "external_id": f"{self.out.name}/{item_type}/{item_id}", "system": CONNECTOR_SYSTEM})
            r = self.http.post(f"{self.url}/api/agency/v1/acks", json=body)
            r.raise_for_status()
            self.note_acked(chunk)

    def fetch(self, cursor: int, epoch: str | None = None) -> tuple[list[dict[str, Any]], int, bool]:
        fmt = "fhir" if self.fmt == "fhir" else "json"
        params: dict[str, Any] = {"cursor": cursor, "limit": self.limit, "format": fmt}
        if epoch and cursor:
            params["epoch"] = epoch
        for attempt in range(5):
            try:
                r = self.http.get(f"{self.url}/api/agency/v1/feed", params=params)
                if r.status_code < 500 and r.status_code != 429:
                    break
            except httpx.TransportError:
                if attempt == 4:
                    raise
            time.sleep(min(2 ** attempt, 30))
        if r.status_code == 409 and r.json().get("type") == "urn:hearthside:problem:feed-cursor-stale":
            # Files already written stay as they are; going on from here would skip what the
            # server's restore rewound, and starting again is the operator's decision.
            raise SystemExit(f"The server's change log was restored from a backup, so the cursor saved in "
                             f"{self.out.name} no longer applies. The files written are kept: read the feed from "
                             f"the start into a new folder and file items by id and version.")
        r.raise_for_status()
        self.epoch = r.headers.get("Hearthside-Log-Epoch") or epoch
        body = r.json()
        if fmt == "fhir":
            records = [e["resource"] for e in body.get("entry", [])]
        else:
            records = body["items"]
        return records, int(r.headers["Hearthside-Next-Cursor"]), r.headers["Hearthside-Has-More"] == "true"

    def write_batch(self, name: str, records: list[dict[str, Any]], items: list[str]) -> None:
        groups: dict[str, list[dict[str, Any]]] = {}
        for rec in records:
            groups.setdefault(rec["resourceType"] if self.fmt == "fhir" else rec["type"], []).append(rec)
        final = self.batches / name
        if final.exists():
            return
        tmp = self.batches / f".{name}.tmp"
        if tmp.exists():
            for f in tmp.iterdir():
                f.unlink()
        tmp.mkdir(exist_ok=True)
        if self.fmt == "csv":
            files = flat_csv.files_for(records)
        else:
            files = {f"{group}.ndjson": "".join(json.dumps(rec, sort_keys=True) + "\n" for rec in recs).encode()
                     for group, recs in groups.items()}
        for fname, data in files.items():
            with open(tmp / fname, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        with open(tmp / MANIFEST, "w") as fh:
            fh.write("".join(k + "\n" for k in items))
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(tmp)
        os.replace(tmp, final)
        _fsync_dir(self.batches)

    def run(self) -> dict[str, int]:
        seen, filed = self.on_disk()
        pending = sorted(filed - self.acked())
        self.ack(pending)
        stats = {"pages": 0, "written": 0, "skipped_duplicates": 0, "acknowledged": len(pending)}
        state = self.state()
        cursor, self.epoch = state["cursor"], state["epoch"]
        while True:
            records, next_cursor, has_more = self.fetch(cursor, self.epoch)
            fresh, items = [], []
            for rec in records:
                r_key, i_keys = self._keys(rec)
                if r_key in seen:
                    stats["skipped_duplicates"] += 1
                else:
                    seen.add(r_key)
                    fresh.append(rec)
                items.extend(k for k in i_keys if k not in filed)
            items = sorted(set(items))
            if fresh or items:
                self.write_batch(f"{next_cursor:012d}", fresh, items)
                stats["written"] += len(fresh)
            self.pages_written += 1
            self.checkpoint("after-write")
            self.save_cursor(next_cursor, self.epoch)
            self.checkpoint("after-cursor")
            filed.update(items)
            self.ack(items)
            stats["acknowledged"] += len(items)
            stats["pages"] += 1
            cursor = next_cursor
            if not has_more:
                return stats
