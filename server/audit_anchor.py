"""The audit trail's anchor: its keyed head, kept outside the database.

The hash chain in ``audit_events`` shows a changed or removed entry *inside* the trail,
but not a trail whose end was cut off (drop the trigger, delete every entry after N,
reset its counter), wiped, or rolled back to an older copy: what is left is
still a valid chain. So after every commit that appended to the trail, the chain's head
(seq, entry hash, the change log's position) is written as one JSON line, keyed with an
HMAC under the keyring, to an append-only file in another directory, and optionally
shipped to syslog. ``hearthside audit verify`` compares the database with the anchor.

What is tolerated, and why:

- The database *ahead* of the anchor by its newest entries: the server stopped (or the
  anchor write failed, which is logged) between a commit and the anchor write. Entries
  cannot be added to the chain without the key, so "more than the anchor knows" is never
  an attack on the trail. Reported, not failed.
- A ``restore`` line: ``hearthside restore`` records which backup was put in place and the
  head it holds, so the restored database is named as restored, never silently intact;
  anchor lines before it describe the trail that the restore replaced.

Lines hold ids, counters and hashes only, never personal data. Each line is keyed on its
own: a line cannot be forged or altered without the keyring. Removing lines from the end
of the file is the one attack left on the anchor itself: ship it to syslog (or make the
file append-only with ``chattr +a``) so a copy lives where the database's owner cannot
reach.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import logging.handlers
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .clock import now_iso
from .storage import audit_log
from .storage.tx import Tx

log = logging.getLogger("hearthside.audit")
FORMAT = 1


def anchor_key(keyring: Any) -> bytes:
    from .audit import audit_key

    return hmac.new(audit_key(keyring), b"hearthside/audit-anchor/v1", hashlib.sha256).digest()


def _mac(key: bytes, fields: dict[str, Any]) -> str:
    body = json.dumps({k: v for k, v in fields.items() if k != "mac"}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def sign(keyring: Any, fields: dict[str, Any]) -> str:
    """One anchor line (JSON, keyed)."""
    fields = {"v": FORMAT, **fields}
    fields["mac"] = _mac(anchor_key(keyring), fields)
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def committed_head(db: Tx) -> tuple[int, str, int]:
    """(seq, hash, change-log seq) of what is committed now."""
    return audit_log.committed_head(db)


def _syslog_handler(target: str) -> logging.Handler | None:
    if not target:
        return None
    if target == "local":
        address: Any = "/dev/log"
    else:
        host, _, port = target.rpartition(":")
        address = (host or "127.0.0.1", int(port))
    handler = logging.handlers.SysLogHandler(address=address, facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV)
    handler.setFormatter(logging.Formatter("hearthside-audit: %(message)s"))
    return handler


class Anchor:
    """Appends keyed head lines to ``path`` (0600, in a 0700 folder) and to syslog."""

    def __init__(self, path: Path, keyring: Any, syslog: str = "") -> None:
        self.path = path
        self.keyring = keyring
        self._syslog = _syslog_handler(syslog)
        self._lock = threading.Lock()
        self._last_seq = -1

    def append(self, fields: dict[str, Any]) -> None:
        line = sign(self.keyring, {"at": now_iso(), **fields})
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # O_APPEND: each line lands whole at the end, whichever process writes it.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
        if self._syslog is not None:
            self._syslog.emit(logging.makeLogRecord({"msg": line, "levelno": logging.INFO, "levelname": "INFO"}))

    def write_head(self, db: Tx) -> None:
        """After a commit that appended to the trail: anchor what is committed now (which
        may include other writers' entries; a later head covers the earlier ones)."""
        try:
            seq, digest, log_seq = committed_head(db)
            with self._lock:
                if seq <= self._last_seq:
                    return
                self.append({"kind": "head", "seq": seq, "hash": digest, "log_seq": log_seq})
                self._last_seq = seq
        except Exception as exc:  # noqa: BLE001 - the action is committed; never fail it now
            log.error("audit anchor not written: %s (audit verify will show the lag)", type(exc).__name__)


# -- reading and checking -----------------------------------------------------------------------


@dataclass
class AnchorCheck:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_lines(path: Path, keyring: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The anchor's lines in order, and a problem for each line that is not keyed by this
    keyring (forged, altered, or from another installation)."""
    key = anchor_key(keyring)
    lines, problems = [], []
    for n, text in enumerate(path.read_text().splitlines(), start=1):
        if not text.strip():
            continue
        try:
            fields = json.loads(text)
            ok = isinstance(fields, dict) and hmac.compare_digest(_mac(key, fields), str(fields.get("mac", "")))
        except ValueError:
            ok = False
        if not ok:
            problems.append(f"audit anchor line {n} is not keyed by this keyring (forged or altered)")
            continue
        lines.append(fields)
    return lines, problems


def check(db: Tx, keyring: Any, path: Path, hashes: dict[int, str]) -> AnchorCheck:
    """Compare the database's trail (``hashes``: seq -> entry hash) with the anchor."""
    out = AnchorCheck()
    db_head = max(hashes, default=0)
    if not path.exists():
        if db_head:
            out.problems.append(f"no audit anchor at {path}: the end of the trail cannot be checked "
                                "(was it removed, or is HEARTHSIDE_AUDIT_ANCHOR_FILE set differently?)")
        return out
    lines, out.problems = read_lines(path, keyring)
    restores = [i for i, line in enumerate(lines) if line.get("kind") == "restore"]
    current = lines[restores[-1]:] if restores else lines
    if restores:
        r = current[0]
        out.notes.append(f"restored on {r['at']} from a backup taken {r.get('backup_taken_at')} "
                         f"(sha256 {str(r.get('backup_sha256'))[:12]}…), which ended at entry {r['seq']}; "
                         "entries recorded after that backup, before the restore, are not in this database")
    for line in current:
        seq, digest = int(line["seq"]), line["hash"]
        if seq and seq in hashes and not hmac.compare_digest(hashes[seq], digest):
            out.problems.append(f"audit entry {seq} is not the entry anchored on {line['at']}: the database "
                                "was replaced or its trail rewritten")
    anchored = max(current, key=lambda line: int(line["seq"]), default=None)
    if anchored is None:
        return out
    top, at = int(anchored["seq"]), anchored["at"]
    if db_head < top:
        missing = f"{db_head + 1}" if db_head + 1 == top else f"{db_head + 1} to {top}"
        if db_head == 0:
            out.problems.append(f"every audit entry was deleted: the anchor recorded entry {top} on {at}, "
                                "the database holds none")
        elif committed_head(db)[2] < int(anchored.get("log_seq") or 0):
            out.problems.append(f"the database was rolled back to an older copy: it ends at audit entry {db_head} "
                                f"but entry {top} was anchored on {at} (entries {missing} and the changes after "
                                "them are missing; an older backup put in place without `hearthside restore`?)")
        else:
            out.problems.append(f"audit entry {missing} was deleted: the end of the trail was cut off (the anchor "
                                f"recorded entry {top} on {at})")
    elif db_head > top:
        ahead = f"{top + 1}" if top + 1 == db_head else f"{top + 1} to {db_head}"
        out.notes.append(f"entries {ahead} are newer than the anchor (normal if the server stopped between a "
                         "commit and the anchor write; they are still checked by the chain)")
    return out


def record_restore(path: Path, keyring: Any, db_path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Anchor a restore: the backup put in place and the head it holds, so ``verify``
    names the database as restored (not cut off, not silently intact)."""
    from .storage.backup import committed_head_of_file

    seq, digest, log_seq = committed_head_of_file(db_path)
    fields = {"kind": "restore", "seq": seq, "hash": digest, "log_seq": log_seq,
              "backup_sha256": manifest.get("sha256"), "backup_taken_at": manifest.get("started_at")}
    Anchor(path, keyring).append(fields)
    return fields
