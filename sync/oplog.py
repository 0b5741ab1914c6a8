"""What the merge remembers about ops: the answer first given to each op id (a replay is
answered the same way, whole), the quarantine of refused ops, and ops held for later."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlite_utils

from server.clock import now_iso
from server.ids import new_id
from server.storage.crypto import Keyring

from .protocol import OpResult
from .writer import Writer


@dataclass
class Outcome:
    status: str = "applied"
    version: int | None = None
    field_version: int | None = None
    conflict_id: str | None = None
    reason: str | None = None
    value: Any = msgspec.UNSET


def short(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)[:64]


class OpLog:
    def __init__(self, db: sqlite_utils.Database, keyring: Keyring, writer: Writer) -> None:
        self.db, self.keyring, self.writer = db, keyring, writer
        # op ids known to have no earlier answer (one query for a batch instead of one per op)
        self.fresh: set[str] = set()

    def prefetch(self, op_ids: list[str]) -> None:
        if not op_ids:
            return
        marks = ",".join("?" * len(op_ids))
        known = {r[0] for r in self.db.conn.execute(f"SELECT op_id FROM sync_ops WHERE op_id IN ({marks})", op_ids)}
        self.fresh = set(op_ids) - known

    def prior(self, op_id: str) -> OpResult | str | None:
        """The answer first given to ``op_id`` as a duplicate result (a reason string if
        another writer used the id)."""
        if op_id in self.fresh:
            return None
        cur = self.db.conn.execute("SELECT * FROM sync_ops WHERE op_id = ?", [op_id])
        row = cur.fetchone()
        if row is None:
            return None
        r = dict(zip([d[0] for d in cur.description], row))
        a = self.writer.actor
        if (r["device_id"], r["client_id"], r["user_id"]) != (a.device_id, a.client_id, a.user_id):
            return "op_id was already used by another writer"
        value: Any = msgspec.UNSET
        if r["value"] is not None:
            value = json.loads(self.keyring.decrypt(r["value"], f"sync_ops/{op_id}/value"))
        return OpResult(op_id=op_id, client_seq=r["client_seq"], status="duplicate", version=r["version"],
                        field_version=r["field_version"], conflict_id=r["conflict_id"], reason=r["reason"],
                        value=value, first_status=r["status"])

    def remember(self, op_id: str, client_seq: int, o: Outcome) -> None:
        self.fresh.discard(op_id)  # the same id later in this batch is a duplicate
        a = self.writer.actor
        value = None
        if o.value is not msgspec.UNSET:
            value = self.keyring.encrypt(json.dumps(o.value).encode(), f"sync_ops/{op_id}/value")
        self.db.conn.execute(
            "INSERT INTO sync_ops (op_id, agency_id, user_id, device_id, client_id, client_seq, status, version,"
            " field_version, conflict_id, reason, value, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(op_id) DO UPDATE SET status = excluded.status, version = excluded.version,"
            " field_version = excluded.field_version, conflict_id = excluded.conflict_id,"
            " reason = excluded.reason, value = excluded.value",
            [op_id, self.writer.agency_id, a.user_id, a.device_id, a.client_id, client_seq, o.status, o.version,
             o.field_version, o.conflict_id, o.reason, value, now_iso()],
        )

    def quarantine(self, op_id: str | None, client_seq: int | None, reason: str, raw: bytes,
                   entity: str | None, entity_id: str | None, family_id: str | None) -> None:
        qid = new_id()
        a = self.writer.actor
        self.db.conn.execute(
            "INSERT INTO sync_quarantine (id, agency_id, op_id, client_seq, user_id, device_id, client_id, entity,"
            " entity_id, family_id, reason, op, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [qid, self.writer.agency_id, short(op_id), client_seq, a.user_id, a.device_id, a.client_id,
             short(entity), short(entity_id), short(family_id), reason,
             self.keyring.encrypt(bytes(raw), f"sync_quarantine/{qid}/op"), now_iso()],
        )

    def hold(self, op_id: str, client_seq: int, kind: str, reason: str, raw: bytes, entity: str | None,
             entity_id: str | None, family_id: str | None) -> None:
        hid = new_id()
        a = self.writer.actor
        self.db.conn.execute(
            "INSERT INTO sync_held (id, agency_id, op_id, client_seq, user_id, device_id, client_id, entity,"
            " entity_id, family_id, kind, reason, op, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(op_id) DO NOTHING",
            [hid, self.writer.agency_id, op_id, client_seq, a.user_id, a.device_id, a.client_id, short(entity),
             short(entity_id), short(family_id), kind, reason,
             self.keyring.encrypt(bytes(raw), f"sync_held/{op_id}/op"), now_iso()],
        )
