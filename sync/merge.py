"""The one write path: every change to a family's records is an op applied here.

A phone's push, a supervisor's or admin's REST call, an agency's write-back, the server's
own rules, the demo seeder and the CLI all build ops and call ``apply_ops`` (or a
``Batch``) inside their transaction; each op is answered applied / duplicate / conflict /
rejected / held. The checks, in order, for every path alike:

1. the op's values against the model (``sync.values``: types exact, choices, lengths);
2. the family in the writer's reach (``checks``), else the op is *held* and applied when
   the writer's access returns; an entry that must not be lost is kept instead;
3. the writer's right to create / set / delete / resolve (``sync.policy``), and the
   record's state (a signed visit, a closed flag, a finished follow-up is frozen);
4. references inside the family and agency; server-owned fields set by the server;
5. the per-field merge (``sync.conflicts``).

Each op runs in a savepoint, so a refused op leaves nothing behind and never stops the
ops after it. Every op id is remembered with its whole answer: a replay is answered the
same way and changes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from server.access import Principal
from server.clock import now_iso
from server.security import alerts
from server.storage import records
from server.storage.crypto import Keyring
from server.storage.records import Actor
from server.storage.tx import Busy, ConstraintViolated, Tx, savepoint

from . import hlc as hlc_mod
from . import policy
from .checks import Checks
from .conflicts import FieldMerge
from .hooks import AppliedChange, run_after_apply
from .model import ENTITIES, Entity
from .oplog import OpLog, Outcome, short
from .policy import ID_TAKEN, Refused
from .protocol import CreateOp, DeleteOp, Op, OpResult, ResolveOp, SetOp, encoder
from .values import Invalid, check, same
from .writer import Writer, make_create, make_delete, make_resolve, make_set, writer_for

__all__ = ["Batch", "apply_ops", "make_create", "make_delete", "make_resolve", "make_set", "writer_for"]

log = logging.getLogger("hearthside.sync")


def apply_ops(
    db: Tx,
    keyring: Keyring,
    actor: Actor,
    ops: list[Op],
    *,
    principal: Principal | None = None,
    agency_id: str | None = None,
    run_hooks: bool = True,
    strict: bool = False,
) -> list[OpResult]:
    """Apply ``ops`` in order within the caller's transaction; one result per op. Does not
    check client_seq (the push endpoint does); idempotent by op id. ``agency_id`` with no
    user or client in ``actor``: the server's own write. Hooks run at the end unless
    ``run_hooks`` is false. ``strict``: for writers that answer at once (a REST call, an
    agency write-back), see ``Batch.run_strict``."""
    batch = Batch(db, keyring, writer_for(db, actor, principal, agency_id=agency_id))
    results = [batch.run_strict(op) if strict else batch.apply(op) for op in ops]
    if run_hooks:
        batch.finish()
    return results


@dataclass
class Batch(Checks, FieldMerge):
    """Applies ops for one writer inside one transaction. ``revoked``: the device was
    revoked, so every op it sends is held for a supervisor's review, never applied."""

    db: Tx
    keyring: Keyring
    writer: Writer
    revoked: bool = False
    changes: list[AppliedChange] = field(default_factory=list)
    _families: set[str] = field(default_factory=set)
    _pending: list[AppliedChange] = field(default_factory=list)
    _refs_found: set[tuple[str, str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.log = OpLog(self.db, self.keyring, self.writer)

    def prefetch(self, op_ids: list[str]) -> None:
        self.log.prefetch(op_ids)

    def known(self, op_id: str) -> OpResult | str | None:
        return self.log.prior(op_id)

    # -- entry points ---------------------------------------------------------------------

    def apply(self, op: Op, *, raw: bytes | None = None) -> OpResult:
        prior = self.log.prior(op.op_id)
        if prior is not None:
            return prior if isinstance(prior, OpResult) else self._result(op, Outcome("rejected", reason=prior))
        raw = raw if raw is not None else encoder.encode(op)
        if self.revoked:
            outcome = Outcome("held", reason="the device was revoked: a supervisor reviews this upload")
            self.log.hold(op.op_id, op.client_seq, "device-revoked", outcome.reason or "", raw, *_where(op))
        else:
            outcome = self.run(op)
            if outcome.status == "held":
                self.log.hold(op.op_id, op.client_seq, "out-of-reach", outcome.reason or "", raw, *_where(op))
            elif outcome.status == "rejected":
                # The reason names fields only, never values: safe to log.
                log.warning("op refused (%s %s): %s", type(op).__name__, getattr(op, "entity", "conflict"),
                            outcome.reason)
                self.log.quarantine(op.op_id, op.client_seq, outcome.reason or "rejected", raw, *_where(op))
                if isinstance(op, DeleteOp):
                    alerts.delete_refused(self.db, self.writer, op.entity, op.entity_id, op.family_id)
        self.log.remember(op.op_id, op.client_seq, outcome)
        return self._result(op, outcome)

    def run_strict(self, op: Op) -> OpResult:
        """Apply ``op`` for a writer that answers at once (REST, agency write-back): a
        refusal raises its ``Refused`` (or ``Invalid``) for the caller to answer with, and
        its transaction rolls back. Nothing is quarantined, held or remembered by op id: a
        person who sent it sees the reason now, and nobody else needs to review it."""
        return self._result(op, self.run(op, strict=True))

    def run(self, op: Op, *, strict: bool = False) -> Outcome:
        """Dispatch one op in a savepoint; refusals roll it back and become the answer
        (``strict``: are raised, see ``run_strict``)."""
        try:
            hlc_mod.server_clock.observe(op.hlc)
        except ValueError:
            pass
        self._pending = []
        # The savepoint undoes a refused op's writes, whatever refused it, and leaves the
        # ops before and after it in the batch as they are.
        try:
            with savepoint(self.db, "sync_op"):
                outcome = self._dispatch(op)
        except (Refused, Invalid) as exc:
            if strict:
                raise
            held = isinstance(exc, Refused) and exc.kind == "out-of-reach"
            outcome = Outcome("held" if held else "rejected", reason=exc.reason)
        except ConstraintViolated as exc:
            # A database constraint the model did not foresee: a defect, but never a 5xx.
            log.error("sync op broke a database constraint: %s", exc)
            if strict:
                raise Refused("the record could not be stored", "invalid") from None
            outcome = Outcome("rejected", reason="the record could not be stored")
        except Busy:
            # Locked / disk full / I/O: the batch cannot be trusted; let it fail whole.
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must not block the phone's queue
            if strict:  # a REST caller gets its 500; nothing of the op is kept
                raise
            log.error("sync op failed unexpectedly: %s", type(exc).__name__,
                      exc_info=(type(exc), None, exc.__traceback__))
            outcome = Outcome("rejected", reason="the server could not apply this op")
        if outcome.status not in ("rejected", "held"):
            self.changes.extend(self._pending)
        return outcome

    def reject_unreadable(self, op_id: str, client_seq: int, reason: str, raw: bytes) -> OpResult:
        """An op that failed validation but whose id and sequence could be read."""
        prior = self.log.prior(op_id)
        if prior is not None:
            if isinstance(prior, OpResult):
                return prior
            return OpResult(op_id=op_id, client_seq=client_seq, status="rejected", reason=prior)
        entity = entity_id = family_id = None
        try:
            loose = json.loads(raw)
            if isinstance(loose, dict):
                entity, entity_id, family_id = (short(loose.get(k)) for k in ("entity", "entity_id", "family_id"))
        except ValueError:
            pass
        self.log.quarantine(op_id, client_seq, reason, bytes(raw), entity, entity_id, family_id)
        self.log.remember(op_id, client_seq, Outcome("rejected", reason=reason))
        return OpResult(op_id=op_id, client_seq=client_seq, status="rejected", reason=reason)

    def reject_reused_seq(self, op: Op | None, op_id: str, client_seq: int, raw: bytes) -> OpResult:
        reason = "client_seq was already used by another op"
        self.log.quarantine(op_id, client_seq, reason, bytes(raw), *(_where(op) if op else (None, None, None)))
        return OpResult(op_id=op_id, client_seq=client_seq, status="rejected", reason=reason)

    def finish(self) -> None:
        run_after_apply(self.db, self.keyring, self.writer.actor, self.changes, self.writer.agency_id)
        from .held import release_for_changes  # held ops re-enter through a Batch of their own

        release_for_changes(self.db, self.keyring, self.changes)

    # -- helpers ------------------------------------------------------------------------

    def _result(self, op: Op, o: Outcome) -> OpResult:
        return OpResult(op_id=op.op_id, client_seq=op.client_seq, status=o.status, version=o.version,  # type: ignore[arg-type]
                        field_version=o.field_version, conflict_id=o.conflict_id, reason=o.reason, value=o.value)

    def actor_for(self, op: Op) -> Actor:
        a = self.writer.actor
        return Actor(user_id=a.user_id, device_id=a.device_id, client_id=a.client_id, hlc=op.hlc)

    def _entity(self, name: str) -> Entity:
        entity = ENTITIES.get(name)
        if entity is None:
            raise Refused("unknown entity", "invalid", "entity")
        return entity

    def _load(self, entity: Entity, entity_id: str, family_id: str) -> dict[str, Any]:
        current = records.get(self.db, self.keyring, entity.name, entity_id, include_deleted=True)
        # Not there and elsewhere (another agency or family) answer alike: existence is information.
        if current is None or current["agency_id"] != self.writer.agency_id or current["family_id"] != family_id:
            raise Refused("no such record", "not-found")
        self.require_family(family_id)
        if current["deleted"]:
            raise Refused("the record was deleted", "not-found")
        return current

    def _froze_by(self, entity: Entity, record: dict[str, Any]) -> str | None:
        if entity.frozen_when is None:
            return None
        return (record["field_meta"].get(entity.frozen_when[0]) or {}).get("by")

    def _check_state(self, entity: Entity, record: dict[str, Any], name: str | None) -> None:
        w = self.writer.policy_role
        policy.check_not_frozen(entity, record, name, w, self._froze_by(entity, record))
        if entity.frozen_with_visit and record.get("visit_id"):
            visit = records.get(self.db, self.keyring, "visit", record["visit_id"])
            if visit is not None and policy.frozen(ENTITIES["visit"], visit):
                raise Refused("the visit is signed: add an addendum instead", "frozen")

    # -- ops ------------------------------------------------------------------------------

    def _dispatch(self, op: Op) -> Outcome:
        if isinstance(op, SetOp):
            return self._set(op)
        if isinstance(op, CreateOp):
            return self._create(op)
        if isinstance(op, ResolveOp):
            return self._resolve(op)
        if isinstance(op, DeleteOp):
            return self._delete(op)
        raise Refused("unknown op type", "invalid")

    def _create(self, op: CreateOp) -> Outcome:
        entity = self._entity(op.entity)
        values = {name: check(entity, name, value) for name, value in op.values.items()}
        if entity.name == "family" and op.entity_id != op.family_id:
            raise Refused("a family's entity_id and family_id must be the same", "invalid", "entity_id")
        values = self.server_values(entity, values, op.hlc)
        if records.exists(self.db, entity.name, op.entity_id):
            existing = records.get(self.db, self.keyring, entity.name, op.entity_id, include_deleted=True)
            assert existing is not None
            return self._create_existing(op, entity, existing, values)
        attention = None
        if entity.name == "family":
            if self.writer.role == "supervisor":
                values["team_id"] = values.get("team_id") or self.writer.principal.team_id
        else:
            attention = self.require_family(op.family_id, entity)
        policy.check_create(entity, self.writer.policy_role, values)
        for f in entity.fields:
            if f.required and values.get(f.name) is None:
                raise Refused(f"{f.name} is required", "invalid", f.name)
        # Recorded out of reach comes first: the visit it names may be held with it (not
        # deleted), and is applied when access returns.
        ref_attention = self.check_refs(entity, values, op.family_id)
        attention = attention or ref_attention
        if entity.frozen_with_visit and values.get("visit_id"):
            visit = records.get(self.db, self.keyring, "visit", values["visit_id"])
            if visit is not None and policy.frozen(ENTITIES["visit"], visit):
                raise Refused("the visit is signed: add an addendum instead", "frozen")
        if attention and entity.field("attention"):
            values["attention"] = attention
        row = {"id": op.entity_id, "agency_id": self.writer.agency_id, "family_id": op.family_id, **values}
        records.insert(self.db, self.keyring, entity.name, row, self.actor_for(op))
        self._pending.append(AppliedChange(entity.name, op.entity_id, op.family_id, "insert", values, 1,
                                           self.writer.agency_id))
        return Outcome("applied", version=1, field_version=1, reason=f"kept: {attention}" if attention else None)

    def _create_existing(self, op: CreateOp, entity: Entity, existing: dict[str, Any],
                         values: dict[str, Any]) -> Outcome:
        """Creating an id that exists: each value merges as a set on base version 0, so equal
        values are no-ops and different values conflict (never overwrite)."""
        # An id held out of reach (another agency or family; a family out of reach): one answer.
        if existing["agency_id"] != self.writer.agency_id or existing["family_id"] != op.family_id \
                or (entity.name == "family" and not self.in_reach(op.family_id)):
            raise Refused(ID_TAKEN, "invalid", "entity_id")
        self.require_family(op.family_id)
        if existing["deleted"]:
            raise Refused("the record was deleted", "not-found")
        owned = {f.name for f in entity.fields if f.server_owned} | {"attention"}
        if entity.insert_only:
            if not all(same(existing.get(k), v) for k, v in values.items() if k not in owned):
                raise Refused(f"{entity.name} records are append-only: add a new entry", "invalid")
            return Outcome("applied", version=int(existing["version"]), reason="unchanged")
        for name in (f.name for f in entity.fields if f.immutable):
            if name in values and not same(existing.get(name), values[name]):
                raise Refused(f"{name} cannot change after the record is created", "invalid", name)
        mutable = {k: v for k, v in values.items()
                   if k not in owned and not entity.field(k).immutable and not same(existing.get(k), v)}  # type: ignore[union-attr]
        outcome = Outcome("applied", version=int(existing["version"]), reason="unchanged")
        for name, value in mutable.items():
            current = records.get(self.db, self.keyring, entity.name, op.entity_id, include_deleted=True)
            assert current is not None
            policy.check_set(entity, self.writer.policy_role, current, name)
            self._check_state(entity, current, name)
            o = self.merge_field(op, entity, current, name, value, 0)
            outcome.version, outcome.reason = o.version, None
            if o.status == "conflict" and outcome.status != "conflict":
                outcome.status, outcome.conflict_id = "conflict", o.conflict_id
        return outcome

    def _set(self, op: SetOp) -> Outcome:
        entity = self._entity(op.entity)
        if entity.insert_only:
            raise Refused(f"{entity.name} records are append-only: add a new entry", "invalid")
        f = entity.field(op.field)
        if f is None:
            raise Refused(f"unknown field {entity.name}.{op.field}", "invalid", op.field)
        if f.immutable:
            raise Refused(f"{op.field} cannot change after the record is created", "invalid", op.field)
        value = check(entity, op.field, op.value)
        current = self._load(entity, op.entity_id, op.family_id)
        if f.server_owned and self.writer.role != "system":
            # Who signed, who decided, when: the server's to say. The phone learns the value.
            fv = int((current["field_meta"].get(op.field) or {}).get("v", 0))
            return Outcome("applied", version=int(current["version"]), field_version=fv, reason="set by the server",
                           value=current.get(op.field))
        policy.check_set(entity, self.writer.policy_role, current, op.field)
        self._check_state(entity, current, op.field)
        if entity.name == "flag" and op.field == "status" and value == "closed" and not current.get("decision"):
            raise Refused("a flag is closed only with a recorded decision", "conflict", "decision")
        self.check_refs(entity, {op.field: value}, op.family_id)
        return self.merge_field(op, entity, current, op.field, value, op.base_version)

    def _resolve(self, op: ResolveOp) -> Outcome:
        conflict = records.get(self.db, self.keyring, "conflict", op.conflict_id)
        if conflict is None or conflict["agency_id"] != self.writer.agency_id:
            raise Refused("no such conflict", "not-found")
        self.require_family(conflict["family_id"])
        entity = ENTITIES[conflict["entity"]]
        name = conflict["field"]
        value = check(entity, name, op.value)
        target = records.get(self.db, self.keyring, entity.name, conflict["entity_id"])
        # Resolving is setting the field: the same right, on the record as it stands.
        policy.check_set(entity, self.writer.policy_role, target or {}, name)
        if conflict["status"] == "resolved":
            if same((conflict["resolution"] or {}).get("value"), value):
                return Outcome("applied", version=int(conflict["version"]), reason="unchanged")
            raise Refused("the conflict was already resolved with another value", "conflict")
        a = self.writer.actor
        resolution = {"value": value, "user_id": a.user_id, "device_id": a.device_id, "client_id": a.client_id,
                      "hlc": op.hlc}
        records.update(self.db, self.keyring, "conflict", conflict["id"], {
            "status": "resolved", "resolution": resolution, "resolved_by": self.writer.who,
            "resolved_at": now_iso()}, self.actor_for(op))
        if target is None:
            return Outcome("applied", reason="the record was deleted: resolution recorded only")
        try:
            self._check_state(entity, target, name)
        except Refused:
            return Outcome("applied", version=int(target["version"]), reason="the record is frozen: resolution recorded only")
        if same(target.get(name), value):
            fv = int((target["field_meta"].get(name) or {}).get("v", 0))
            return Outcome("applied", version=int(target["version"]), field_version=fv)
        return self.write(op, entity, target, name, value)

    def _delete(self, op: DeleteOp) -> Outcome:
        entity = self._entity(op.entity)
        current = records.get(self.db, self.keyring, entity.name, op.entity_id, include_deleted=True)
        if current is not None and current["deleted"] and current["family_id"] == op.family_id \
                and current["agency_id"] == self.writer.agency_id:
            return Outcome("applied", version=int(current["version"]), reason="unchanged")
        current = self._load(entity, op.entity_id, op.family_id)
        policy.check_delete(entity, self.writer.policy_role, current)
        self._check_state(entity, current, None)
        version = records.tombstone(self.db, self.keyring, entity.name, op.entity_id, self.actor_for(op))
        self._pending.append(AppliedChange(entity.name, op.entity_id, op.family_id, "delete", {}, version,
                                           self.writer.agency_id))
        self._close_conflicts_of_deleted(op, entity)
        return Outcome("applied", version=version)

    def _close_conflicts_of_deleted(self, op: DeleteOp, entity: Entity) -> None:
        """Nobody should be asked to choose between values of a record that is gone: its
        open conflicts close with the deletion as their resolution (every candidate stays
        in the conflict's record), and leave every phone's list on its next pull."""
        for c in records.find_by(self.db, self.keyring, "conflict", entity=entity.name, entity_id=op.entity_id,
                                 status="open"):
            records.update(self.db, self.keyring, "conflict", c["id"], {
                "status": "resolved", "resolution": {"value": None, "record_deleted": True, "hlc": op.hlc},
                "resolved_by": self.writer.who, "resolved_at": now_iso()}, self.actor_for(op))


def _where(op: Op) -> tuple[str | None, str | None, str | None]:
    if isinstance(op, ResolveOp):
        return "conflict", op.conflict_id, None
    return op.entity, op.entity_id, op.family_id
