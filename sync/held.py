"""Held ops: kept on the server, applied later, never lost.

- ``out-of-reach``: the family was not in the writer's reach when the op arrived (an
  allocation ended, or the family moved team, while the phone was offline). When the
  writer's access returns, their held ops are applied in the order they were made.
- ``device-revoked``: everything a revoked phone uploads. It changes no record until a
  supervisor (their team's) or an admin (their agency's) accepts it; a declined op stays
  on file with who declined it.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from server.access import Principal
from server.clock import now_iso
from server.storage import held as held_store
from server.storage.crypto import Keyring
from server.storage.records import Actor
from server.storage.tx import Tx

from .hooks import AppliedChange, run_after_apply
from .oplog import Outcome
from .policy import Refused
from .protocol import OpResult, op_decoder


class HeldRead(msgspec.Struct):
    id: str
    op_id: str
    client_seq: int
    kind: str
    status: str
    reason: str
    user_id: str | None
    device_id: str | None
    entity: str | None
    entity_id: str | None
    family_id: str | None
    received_at: str
    decided_by: str | None = None
    decided_at: str | None = None
    result: Any = None
    op: Any = None


def _apply_one(db: Tx, keyring: Keyring, row: dict[str, Any], batch_cache: dict) -> Outcome:
    from .merge import Batch
    from .writer import writer_for

    key = (row["user_id"], row["device_id"], row["client_id"])
    batch = batch_cache.get(key)
    if batch is None:
        actor = Actor(user_id=row["user_id"], device_id=row["device_id"], client_id=row["client_id"])
        batch = batch_cache[key] = Batch(db, keyring, writer_for(db, actor, agency_id=row["agency_id"]))
    op = op_decoder.decode(keyring.decrypt(row["op"], f"sync_held/{row['op_id']}/op"))
    outcome = batch.run(op)
    if outcome.status != "held":
        held_store.mark_applied(db, row["id"], json.dumps({"status": outcome.status, "reason": outcome.reason}),
                                now_iso())
        batch.log.remember(row["op_id"], row["client_seq"], outcome)
        if outcome.status == "rejected":
            batch.log.quarantine(row["op_id"], row["client_seq"], outcome.reason or "rejected",
                                 keyring.decrypt(row["op"], f"sync_held/{row['op_id']}/op"),
                                 row["entity"], row["entity_id"], row["family_id"])
    return outcome


def _finish(db: Tx, keyring: Keyring, batch_cache: dict) -> None:
    for batch in batch_cache.values():
        run_after_apply(db, keyring, batch.writer.actor, batch.changes, batch.writer.agency_id)


def release_for_changes(db: Tx, keyring: Keyring, changes: list[AppliedChange]) -> int:
    """Apply held ops of families whose access just widened (an allocation made active, a
    family moved team); returns how many were applied."""
    families = {c.family_id for c in changes if c.family_id and (
        (c.entity == "allocation" and c.values.get("active", c.op == "insert") is True)
        or (c.entity == "family" and "team_id" in c.values))}
    if not families:
        return 0
    rows = held_store.out_of_reach(db, sorted(families))
    cache: dict = {}
    applied = 0
    for row in rows:
        try:
            if _apply_one(db, keyring, row, cache).status != "held":
                applied += 1
        except ValueError:
            continue  # the writer was disabled meanwhile: the op stays held, visible to a supervisor
    _finish(db, keyring, cache)
    return applied


def list_held(db: Tx, keyring: Keyring, p: Principal, status: str = "held",
              limit: int = 200) -> list[HeldRead]:
    rows = held_store.list_for(db, p, status, limit)
    out = []
    for r in rows:
        op = json.loads(keyring.decrypt(r["op"], f"sync_held/{r['op_id']}/op"))
        out.append(HeldRead(**{k: r[k] for k in HeldRead.__struct_fields__ if k in r and k not in ("result", "op")},
                            result=json.loads(r["result"]) if r["result"] else None, op=op))
    return out


def decide(db: Tx, keyring: Keyring, p: Principal, held_id: str, accept: bool) -> OpResult:
    """A reviewer accepts (applies, as its writer made it) or declines a held op."""
    row = held_store.get_for(db, p, held_id)
    if row is None:
        raise Refused("no such held op", "not-found")
    if row["status"] != "held":
        raise Refused(f"this op was already {row['status']}", "conflict")
    if not accept:
        held_store.decline(db, held_id, p.user_id, now_iso())
        return OpResult(op_id=row["op_id"], client_seq=row["client_seq"], status="rejected",
                        reason="declined by a reviewer")
    cache: dict = {}
    outcome = _apply_one(db, keyring, row, cache)
    if outcome.status == "held":
        raise Refused("the family is not in its writer's reach now", "conflict")
    held_store.set_decided_by(db, held_id, p.user_id)
    _finish(db, keyring, cache)
    return OpResult(op_id=row["op_id"], client_seq=row["client_seq"], status=outcome.status,  # type: ignore[arg-type]
                    version=outcome.version, field_version=outcome.field_version, conflict_id=outcome.conflict_id,
                    reason=outcome.reason, value=outcome.value)
