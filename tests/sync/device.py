"""A tiny model of a phone's sync client, shared by the sync tests and the benchmark.

It keeps what the server confirmed apart from its own pending edits (as a real client
should): ``confirmed[(entity, id)] = {field: (value, field_version)}``, tombstones, an
outbox of ops with gap-free ``client_seq`` numbers, and a pull cursor.
"""

from __future__ import annotations

from typing import Any

from server.ids import new_id
from sync.hlc import Clock
from tests.factories import PASSWORD, auth, login


class DeviceModel:
    def __init__(self, device_id: str, now_ms=None) -> None:
        self.device_id = device_id
        self.clock = Clock(device_id, now_ms) if now_ms else Clock(device_id)
        self.seq = 0
        self.outbox: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []  # every op ever queued
        self.confirmed: dict[tuple[str, str], dict[str, tuple[Any, int]]] = {}
        self.families: dict[tuple[str, str], str] = {}
        self.deleted: set[tuple[str, str]] = set()
        self.cursor = 0
        self.epoch: str | None = None
        self.resyncs = 0
        self.results: dict[str, dict[str, Any]] = {}
        self.purged: list[str] = []

    # -- making ops ---------------------------------------------------------------------
    def _queue(self, op: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        op = {"op_id": new_id(), "client_seq": self.seq, "hlc": self.clock.now(), **op}
        self.outbox.append(op)
        self.sent.append(op)
        return op

    def field_version(self, entity: str, entity_id: str, field: str) -> int:
        return self.confirmed.get((entity, entity_id), {}).get(field, (None, 0))[1]

    def set(self, entity: str, entity_id: str, family_id: str, field: str, value: Any) -> dict[str, Any]:
        return self._queue({"type": "set", "entity": entity, "entity_id": entity_id, "family_id": family_id,
                            "field": field, "value": value,
                            "base_version": self.field_version(entity, entity_id, field)})

    def create(self, entity: str, family_id: str, values: dict[str, Any], entity_id: str | None = None):
        return self._queue({"type": "create", "entity": entity, "entity_id": entity_id or new_id(),
                            "family_id": family_id, "values": values})

    def resolve(self, conflict_id: str, value: Any) -> dict[str, Any]:
        return self._queue({"type": "resolve", "conflict_id": conflict_id, "value": value})

    # -- answers ------------------------------------------------------------------------
    def take_push_response(self, body: dict[str, Any], sent: list[dict[str, Any]]) -> None:
        self.clock.observe(body["server_hlc"])
        by_id = {op["op_id"]: op for op in sent}
        done = set()
        for r in body["results"]:
            self.results.setdefault(r["op_id"], r)
            done.add(r["op_id"])
            op = by_id.get(r["op_id"])
            if op and op["type"] == "set" and r["status"] in ("applied", "conflict") and r.get("field_version"):
                key = (op["entity"], op["entity_id"])
                if key not in self.deleted:
                    value = r["value"] if "value" in r else op["value"]
                    have = self.confirmed.setdefault(key, {}).get(op["field"], (None, 0))
                    if r["field_version"] >= have[1]:
                        self.confirmed[key][op["field"]] = (value, r["field_version"])
                    # Remember its family, so a later purge of that family removes it too
                    # (the record may have come back to this device only through this answer).
                    self.families[key] = op["family_id"]
        self.outbox = [op for op in self.outbox if op["op_id"] not in done]

    def resync(self) -> None:
        """Another change log (a restore): forget what the server confirmed, keep the outbox."""
        self.confirmed.clear()
        self.families.clear()
        self.deleted.clear()
        self.cursor = 0
        self.epoch = None
        self.resyncs += 1

    def take_pull_response(self, body: dict[str, Any]) -> None:
        if "server_hlc" in body:
            self.clock.observe(body["server_hlc"])
        if any(ins["type"] == "resync" for ins in body.get("instructions", [])):
            self.resync()
            return
        for ins in body.get("instructions", []):
            if ins["type"] == "purge":
                self.purged.append(ins["family_id"])
                for key in [k for k, f in self.families.items() if f == ins["family_id"]]:
                    self.confirmed.pop(key, None)
                    self.families.pop(key, None)
        for ch in body.get("changes", []):
            key = (ch["entity"], ch["entity_id"])
            if ch["op"] == "delete":
                self.deleted.add(key)
                self.confirmed.pop(key, None)
                continue
            if key in self.deleted:
                continue
            rec = self.confirmed.setdefault(key, {})
            self.families[key] = ch["family_id"]
            for f, v in ch["values"].items():
                fv = ch["field_versions"].get(f, 0)
                if f not in rec or fv > rec[f][1]:
                    rec[f] = (v, fv)
        self.cursor = body.get("next_cursor", self.cursor)
        self.epoch = body.get("epoch") or self.epoch

    @property
    def conflicts(self) -> list[dict[str, Any]]:
        """Open conflicts, built from ``conflict`` changes like any other record."""
        return [{"id": cid, "family_id": self.families.get(("conflict", cid)), **self.values("conflict", cid)}
                for (entity, cid) in sorted(self.confirmed) if entity == "conflict"
                and self.values("conflict", cid).get("status") == "open"]

    def values(self, entity: str, entity_id: str) -> dict[str, Any]:
        return {f: v for f, (v, _) in self.confirmed.get((entity, entity_id), {}).items()}


class Phone:
    """A signed-in device talking to the sync API (a TestClient, or an httpx.Client with a
    live server's base_url)."""

    def __init__(self, client, username: str, password: str | None = None) -> None:
        self.client = client
        self.session = login(client, username, password or PASSWORD)
        self.headers = auth(self.session)
        self.model = DeviceModel(self.session["device"]["id"])

    def push(self, ops: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        ops = list(self.model.outbox) if ops is None else ops
        r = self.client.post("/api/v1/sync/push", json={"ops": ops}, headers=self.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        self.model.take_push_response(body, ops)
        return body

    def pull_all(self, limit: int = 500, **params: Any) -> list[dict[str, Any]]:
        pages = []
        while True:
            epoch = {"epoch": self.model.epoch} if self.model.epoch else {}
            r = self.client.get("/api/v1/sync/pull", params={"cursor": self.model.cursor, "limit": limit, **epoch,
                                                             **params}, headers=self.headers)
            assert r.status_code == 200, r.text
            body = r.json()
            pages.append(body)
            self.model.take_pull_response(body)
            if not body.get("has_more"):
                return pages
