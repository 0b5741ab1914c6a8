"""What the merge remembers about ops: the answer first given to each op id (a replay is
answered the same way, whole), the quarantine of refused ops, and ops held for later."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import msgspec

from server.clock import now_iso
from server.ids import new_id
from server.storage import held as held_store
from server.storage import sync_log
from server.storage.crypto import Keyring
from server.storage.tx import Tx

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
    def __init__(self, db: Tx, keyring: Keyring, writer: Writer) -> None:
        self.db, self.keyring, self.writer = db, keyring, writer
        # op ids known to have no earlier answer (one query for a batch instead of one per op)
        self.fresh: set[str] = set()

    def prefetch(self, op_ids: list[str]) -> None:
        if not op_ids:
            return
        self.fresh = set(op_ids) - sync_log.known_op_ids(self.db, op_ids)

    def prior(self, op_id: str) -> OpResult | str | None:
        """The answer first given to ``op_id`` as a duplicate result (a reason string if
        another writer used the id)."""
        if op_id in self.fresh:
            return None
        r = sync_log.op_answer(self.db, op_id)
        if r is None:
            return None
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
        sync_log.remember_op(
            self.db, op_id=op_id, agency_id=self.writer.agency_id, user_id=a.user_id, device_id=a.device_id,
            client_id=a.client_id, client_seq=client_seq, status=o.status, version=o.version,
            field_version=o.field_version, conflict_id=o.conflict_id, reason=o.reason, value=value,
            received_at=now_iso())

    def quarantine(self, op_id: str | None, client_seq: int | None, reason: str, raw: bytes,
                   entity: str | None, entity_id: str | None, family_id: str | None) -> None:
        qid = new_id()
        a = self.writer.actor
        sync_log.quarantine(
            self.db, id=qid, agency_id=self.writer.agency_id, op_id=short(op_id), client_seq=client_seq,
            user_id=a.user_id, device_id=a.device_id, client_id=a.client_id, entity=short(entity),
            entity_id=short(entity_id), family_id=short(family_id), reason=reason,
            op=self.keyring.encrypt(bytes(raw), f"sync_quarantine/{qid}/op"), received_at=now_iso())

    def hold(self, op_id: str, client_seq: int, kind: str, reason: str, raw: bytes, entity: str | None,
             entity_id: str | None, family_id: str | None) -> None:
        a = self.writer.actor
        held_store.hold(
            self.db, id=new_id(), agency_id=self.writer.agency_id, op_id=op_id, client_seq=client_seq,
            user_id=a.user_id, device_id=a.device_id, client_id=a.client_id, entity=short(entity),
            entity_id=short(entity_id), family_id=short(family_id), kind=kind, reason=reason,
            op=self.keyring.encrypt(bytes(raw), f"sync_held/{op_id}/op"), received_at=now_iso())
