"""The per-field merge: the one way an op becomes a write, for a phone, a supervisor's
tool or an agency's write-back.

``apply_ops(db, keyring, actor, ops)`` applies ops in order inside the caller's
transaction and answers each as applied / duplicate / conflict / rejected:

- creates insert (observations and addenda are only ever created, so they cannot
  conflict); creating an id that exists merges its values as sets on base version 0;
- a set applies when its ``base_version`` is the field's version (or when the field was
  last written by the same device: its own queued edits follow each other); the same
  value is a no-op; otherwise the competing values are kept in a conflict record, the
  newest by HLC shows as provisional, and a person resolves it (a ``resolve`` op);
- monotonic fields merge by their order (``records.rank``);
- a signed visit is never edited; anything refused is quarantined for an admin.

Each op runs in a savepoint, so a refused op leaves nothing behind and never stops the
ops after it. Every op id is remembered with its answer: a replay is answered the same
way and changes nothing.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import msgspec
import sqlite_utils

from server.access import Principal, family_condition
from server.clock import now_iso, parse_iso
from server.ids import new_id
from server.storage import records
from server.storage.crypto import Keyring
from server.storage.records import ENTITIES, Actor, Entity

from . import hlc as hlc_mod
from .hooks import AppliedChange, run_after_apply
from .protocol import CreateOp, DeleteOp, Op, OpResult, ResolveOp, SetOp, encoder

log = logging.getLogger("hearthside.sync")

MAX_VALUE_BYTES = 32_000
# Records whose every write changes who may see what: not for practitioners' phones.
MANAGED_ENTITIES = {"family", "allocation"}
MANAGER_ROLES = {"supervisor", "admin", "integration"}
# Fields naming another record of the same family.
FAMILY_REFS = {
    "visit_id": "visits",
    "adult_id": "persons",
    "child_id": "persons",
    "about_person_id": "persons",
    "subject_id": "persons",
    "supersedes_id": "observations",
}
# Fields naming a member of staff of the same agency.
USER_REFS = {"practitioner_id", "assignee_id"}
# Signing details a visit's completer may fill in after ``status`` became completed.
SIGNATURE_FIELDS = {"completed_at", "signed_by"}
# A flag's management decision: for supervisors (and admins, integrations) to record.
FLAG_DECISION_FIELDS = {"decision", "rationale", "decided_by", "decided_at", "acknowledged_by", "acknowledged_at"}


class Rejected(Exception):
    """The op cannot be applied; ``reason`` names fields only, never values."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Writer:
    actor: Actor
    agency_id: str
    role: str  # practitioner / supervisor / admin / integration
    principal: Principal

    @property
    def key(self) -> str:
        return self.actor.device_id or self.actor.client_id or self.actor.user_id or "server"


def writer_for(db: sqlite_utils.Database, actor: Actor, principal: Principal | None = None) -> Writer:
    """Who is writing, with the access scope their writes are checked against. An
    integration client may write any family of its agency."""
    if principal is not None:
        return Writer(actor, principal.agency_id, principal.role, principal)
    if actor.client_id:
        rows = list(db.query("SELECT agency_id FROM integration_clients WHERE id = ? AND revoked_at IS NULL",
                             [actor.client_id]))
        if not rows:
            raise ValueError("unknown or revoked integration client")
        agency_id = rows[0]["agency_id"]
        scope = Principal(user_id=actor.client_id, username="", display_name="", role="admin", agency_id=agency_id,
                          team_id=None, device_id="")
        return Writer(actor, agency_id, "integration", scope)
    if actor.user_id:
        rows = list(db.query("SELECT * FROM users WHERE id = ? AND disabled_at IS NULL", [actor.user_id]))
        if not rows:
            raise ValueError("unknown or disabled user")
        u = rows[0]
        p = Principal(user_id=u["id"], username=u["username"], display_name=u["display_name"], role=u["role"],
                      agency_id=u["agency_id"], team_id=u["team_id"], device_id=actor.device_id or "")
        return Writer(actor, u["agency_id"], u["role"], p)
    raise ValueError("an actor needs a user or an integration client")


def apply_ops(
    db: sqlite_utils.Database,
    keyring: Keyring,
    actor: Actor,
    ops: list[Op],
    *,
    principal: Principal | None = None,
    run_hooks: bool = True,
) -> list[OpResult]:
    """Apply ``ops`` in order within the caller's transaction (``store.write()``); one
    result per op. Does not check client_seq (the push endpoint does); idempotent by op id.
    The after-apply hooks run at the end unless ``run_hooks`` is false."""
    batch = Batch(db, keyring, writer_for(db, actor, principal))
    results = [batch.apply(op) for op in ops]
    if run_hooks:
        batch.finish()
    return results


def server_op_id() -> str:
    return new_id()


def make_set(entity: str, entity_id: str, family_id: str, field_name: str, value: Any, base_version: int) -> SetOp:
    """A set op stamped by the server's clock, for writers without their own (agency
    write-back: ``base_version`` is the field version their If-Match named)."""
    return SetOp(op_id=new_id(), hlc=hlc_mod.server_clock.now(), entity=entity, entity_id=entity_id,
                 family_id=family_id, field=field_name, value=value, base_version=base_version)


def make_create(entity: str, entity_id: str, family_id: str, values: dict[str, Any]) -> CreateOp:
    return CreateOp(op_id=new_id(), hlc=hlc_mod.server_clock.now(), entity=entity, entity_id=entity_id,
                    family_id=family_id, values=values)


def make_resolve(conflict_id: str, value: Any) -> ResolveOp:
    return ResolveOp(op_id=new_id(), hlc=hlc_mod.server_clock.now(), conflict_id=conflict_id, value=value)


def make_delete(entity: str, entity_id: str, family_id: str) -> DeleteOp:
    return DeleteOp(op_id=new_id(), hlc=hlc_mod.server_clock.now(), entity=entity, entity_id=entity_id,
                    family_id=family_id)


@dataclass
class _Outcome:
    status: str = "applied"
    version: int | None = None
    field_version: int | None = None
    conflict_id: str | None = None
    reason: str | None = None
    value: Any = msgspec.UNSET


@dataclass
class Batch:
    """Applies ops for one writer inside one transaction."""

    db: sqlite_utils.Database
    keyring: Keyring
    writer: Writer
    changes: list[AppliedChange] = field(default_factory=list)
    _families: set[str] = field(default_factory=set)
    _pending: list[AppliedChange] = field(default_factory=list)
    # (table, id, family) found by a reference check: records are never removed within a
    # push, so a batch of observations on one visit asks about that visit once.
    _refs_found: set[tuple[str, str, str]] = field(default_factory=set)
    # op ids known to have no earlier answer (one query for the batch instead of one per op)
    _fresh: set[str] = field(default_factory=set)

    def prefetch(self, op_ids: list[str]) -> None:
        if not op_ids:
            return
        marks = ",".join("?" * len(op_ids))
        known = {r["op_id"] for r in self.db.query(f"SELECT op_id FROM sync_ops WHERE op_id IN ({marks})", op_ids)}
        self._fresh = set(op_ids) - known

    # -- entry points ---------------------------------------------------------------------

    def apply(self, op: Op) -> OpResult:
        prior = self._prior(op.op_id)
        if prior is not None:
            return prior if isinstance(prior, OpResult) else self._result(op, _Outcome("rejected", reason=prior))
        try:
            hlc_mod.server_clock.observe(op.hlc)
        except ValueError:
            pass
        self._pending = []
        self.db.conn.execute("SAVEPOINT sync_op")
        try:
            outcome = self._dispatch(op)
        except Rejected as exc:
            self.db.conn.execute("ROLLBACK TO sync_op")
            outcome = _Outcome("rejected", reason=exc.reason)
        except sqlite3.IntegrityError as exc:
            self.db.conn.execute("ROLLBACK TO sync_op")
            outcome = _Outcome("rejected", reason=_integrity_reason(exc))
        except sqlite3.OperationalError:
            # Locked / disk full / I/O: the batch cannot be trusted; let it fail whole.
            self.db.conn.execute("ROLLBACK TO sync_op")
            self.db.conn.execute("RELEASE sync_op")
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must not block the phone's queue
            self.db.conn.execute("ROLLBACK TO sync_op")
            log.error("sync op failed unexpectedly: %s", type(exc).__name__,
                      exc_info=(type(exc), None, exc.__traceback__))
            outcome = _Outcome("rejected", reason="the server could not apply this op")
        self.db.conn.execute("RELEASE sync_op")
        if outcome.status == "rejected":
            self.quarantine(op.op_id, op.client_seq, outcome.reason or "rejected", encoder.encode(op),
                            getattr(op, "entity", "conflict"), getattr(op, "entity_id", None),
                            getattr(op, "family_id", None))
        else:
            self.changes.extend(self._pending)
        self._remember(op.op_id, op.client_seq, outcome)
        return self._result(op, outcome)

    def reject_unreadable(self, op_id: str, client_seq: int, reason: str, raw: bytes) -> OpResult:
        """An op that failed validation but whose id and sequence could be read."""
        prior = self._prior(op_id)
        if prior is not None:
            if isinstance(prior, OpResult):
                return prior
            return OpResult(op_id=op_id, client_seq=client_seq, status="rejected", reason=prior)
        entity = entity_id = family_id = None
        try:
            loose = json.loads(raw)
            if isinstance(loose, dict):
                entity, entity_id, family_id = (_short(loose.get(k)) for k in ("entity", "entity_id", "family_id"))
        except ValueError:
            pass
        self.quarantine(op_id, client_seq, reason, bytes(raw), entity, entity_id, family_id)
        outcome = _Outcome("rejected", reason=reason)
        self._remember(op_id, client_seq, outcome)
        return OpResult(op_id=op_id, client_seq=client_seq, status="rejected", reason=reason)

    def reject_reused_seq(self, op: Op | None, op_id: str, client_seq: int, raw: bytes) -> OpResult:
        reason = "client_seq was already used by another op"
        self.quarantine(op_id, client_seq, reason, bytes(raw), getattr(op, "entity", None),
                        getattr(op, "entity_id", None), getattr(op, "family_id", None))
        return OpResult(op_id=op_id, client_seq=client_seq, status="rejected", reason=reason)

    def finish(self) -> None:
        run_after_apply(self.db, self.keyring, self.writer.actor, self.changes, self.writer.agency_id)

    # -- bookkeeping ----------------------------------------------------------------------

    def known(self, op_id: str) -> OpResult | str | None:
        """The answer first given to ``op_id`` (a reason string if another writer used it)."""
        return self._prior(op_id)

    def _prior(self, op_id: str) -> OpResult | str | None:
        if op_id in self._fresh:
            return None
        rows = list(self.db.query("SELECT * FROM sync_ops WHERE op_id = ?", [op_id]))
        if not rows:
            return None
        r = rows[0]
        a = self.writer.actor
        if (r["device_id"], r["client_id"], r["user_id"]) != (a.device_id, a.client_id, a.user_id):
            return "op_id was already used by another writer"
        return OpResult(op_id=op_id, client_seq=r["client_seq"], status="duplicate", version=r["version"],
                        field_version=r["field_version"], conflict_id=r["conflict_id"],
                        reason=f"first answer: {r['status']}" + (f" ({r['reason']})" if r["reason"] else ""))

    def _remember(self, op_id: str, client_seq: int, o: _Outcome) -> None:
        self._fresh.discard(op_id)  # the same id later in this batch is a duplicate
        a = self.writer.actor
        self.db.conn.execute(
            "INSERT INTO sync_ops (op_id, agency_id, user_id, device_id, client_id, client_seq, status, version,"
            " field_version, conflict_id, reason, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [op_id, self.writer.agency_id, a.user_id, a.device_id, a.client_id, client_seq, o.status, o.version,
             o.field_version, o.conflict_id, o.reason, now_iso()],
        )

    def quarantine(self, op_id: str | None, client_seq: int | None, reason: str, raw: bytes,
                   entity: str | None, entity_id: str | None, family_id: str | None) -> None:
        qid = new_id()
        a = self.writer.actor
        self.db.conn.execute(
            "INSERT INTO sync_quarantine (id, agency_id, op_id, client_seq, user_id, device_id, client_id, entity,"
            " entity_id, family_id, reason, op, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [qid, self.writer.agency_id, _short(op_id), client_seq, a.user_id, a.device_id, a.client_id,
             _short(entity), _short(entity_id), _short(family_id), reason,
             self.keyring.encrypt(bytes(raw), f"sync_quarantine/{qid}/op"), now_iso()],
        )

    def _result(self, op: Op, o: _Outcome) -> OpResult:
        return OpResult(op_id=op.op_id, client_seq=op.client_seq, status=o.status, version=o.version,  # type: ignore[arg-type]
                        field_version=o.field_version, conflict_id=o.conflict_id, reason=o.reason, value=o.value)

    def _actor(self, op: Op) -> Actor:
        a = self.writer.actor
        return Actor(user_id=a.user_id, device_id=a.device_id, client_id=a.client_id, hlc=op.hlc)

    # -- checks ---------------------------------------------------------------------------

    def _entity(self, name: str) -> Entity:
        entity = ENTITIES.get(name)
        if entity is None:
            raise Rejected("unknown entity")
        if entity.name == "conflict":
            raise Rejected("conflicts change only through a resolve op")
        if entity.name in MANAGED_ENTITIES and self.writer.role not in MANAGER_ROLES:
            raise Rejected(f"{entity.name} records are written by supervisors, admins and agency systems")
        return entity

    def _require_family(self, family_id: str | None) -> None:
        if not family_id:
            raise Rejected("family_id is required")
        if family_id in self._families:
            return
        cond, params = family_condition(self.writer.principal, "id")
        if not list(self.db.query(
            f"SELECT 1 FROM families WHERE id = ? AND agency_id = ? AND deleted = 0 AND {cond}",
            [family_id, self.writer.agency_id, *params],
        )):
            raise Rejected("the family is not in your reach")
        self._families.add(family_id)

    def _check_value(self, entity: Entity, name: str, value: Any) -> None:
        if name not in entity.fields:
            raise Rejected(f"unknown field {entity.name}.{name}")
        if len(encoder.encode(value)) > MAX_VALUE_BYTES:
            raise Rejected(f"value of {name} is too large")
        if name in entity.json_fields:
            return
        if name in entity.bool_fields:
            if value is not None and not isinstance(value, bool):
                raise Rejected(f"{name} must be true or false")
            return
        if isinstance(value, (dict, list)):
            raise Rejected(f"{name} must be a single value")
        if name in entity.personal and value is not None and not isinstance(value, str):
            raise Rejected(f"{name} must be text")
        if name in entity.monotonic:
            if value is None:
                raise Rejected(f"{name} is not a known state")
            try:
                records.rank(entity.monotonic[name], value)
            except ValueError:
                raise Rejected(f"{name} is not a known state") from None

    def _check_refs(self, values: dict[str, Any], family_id: str) -> None:
        for name, value in values.items():
            if value is None:
                continue
            if name == "subject_id" and value == values.get("visit_id"):
                continue  # an answer about the visit as a whole names the visit as its subject
            if name in FAMILY_REFS:
                if not isinstance(value, str):
                    raise Rejected(f"{name} does not name a record of this family")
                key = (FAMILY_REFS[name], value, family_id)
                if key in self._refs_found:
                    continue
                if self.db.conn.execute(
                    f"SELECT 1 FROM {FAMILY_REFS[name]} WHERE id = ? AND family_id = ?", [value, family_id]
                ).fetchone() is None:
                    raise Rejected(f"{name} does not name a record of this family")
                self._refs_found.add(key)
            elif name in USER_REFS:
                if not isinstance(value, str) or not list(self.db.query(
                    "SELECT 1 FROM users WHERE id = ? AND agency_id = ?", [value, self.writer.agency_id]
                )):
                    raise Rejected(f"{name} does not name a member of staff")
            elif name == "team_id":
                if not isinstance(value, str) or not list(self.db.query(
                    "SELECT 1 FROM teams WHERE id = ? AND agency_id = ?", [value, self.writer.agency_id]
                )):
                    raise Rejected("team_id does not name a team of this agency")
                if self.writer.role == "supervisor" and value != self.writer.principal.team_id:
                    raise Rejected("supervisors write families of their own team only")

    def _load(self, entity: Entity, entity_id: str, family_id: str) -> dict[str, Any]:
        current = records.get(self.db, self.keyring, entity.name, entity_id, include_deleted=True)
        if current is None:
            raise Rejected("no such record")
        if current["deleted"]:
            raise Rejected("the record was deleted")
        if current["family_id"] != family_id or current["agency_id"] != self.writer.agency_id:
            raise Rejected("the record is not in that family")
        self._require_family(family_id)
        return current

    def _visit_signed(self, visit_id: str | None) -> dict[str, Any] | None:
        if not visit_id:
            return None
        visit = records.get(self.db, self.keyring, "visit", visit_id)
        if visit and visit["status"] == "completed":
            return visit
        return None

    def _check_not_signed(self, entity: Entity, current: dict[str, Any], field_name: str | None) -> None:
        if entity.name == "visit" and current["status"] == "completed":
            completer = (current["field_meta"].get("status") or {}).get("by")
            who = self.writer.actor.user_id or self.writer.actor.client_id
            if field_name in SIGNATURE_FIELDS and current.get(field_name) is None and completer == who:
                return
            raise Rejected("the visit is signed: add an addendum instead")
        if entity.name == "checklist_response" and self._visit_signed(current.get("visit_id")):
            raise Rejected("the visit is signed: add an addendum instead")

    def _check_flag_decision(self, entity: Entity, record: dict[str, Any], name: str, value: Any) -> None:
        """The rules of ``server.flags.service`` for edits arriving by sync: only managers
        decide, and a flag is closed only with a decision already recorded (the PWA sends
        the decision's fields before the status)."""
        if entity.name != "flag":
            return
        deciding = name in FLAG_DECISION_FIELDS or (name == "status" and value in ("acknowledged", "closed"))
        if deciding and self.writer.role not in MANAGER_ROLES:
            raise Rejected("only a supervisor records a decision on a flag")
        if name == "status" and value == "closed" and not record.get("decision"):
            raise Rejected("a flag is closed only with a recorded decision")

    # -- ops ------------------------------------------------------------------------------

    def _dispatch(self, op: Op) -> _Outcome:
        if isinstance(op, SetOp):
            return self._set(op)
        if isinstance(op, CreateOp):
            return self._create(op)
        if isinstance(op, ResolveOp):
            return self._resolve(op)
        if isinstance(op, DeleteOp):
            return self._delete(op)
        raise Rejected("unknown op type")

    def _create(self, op: CreateOp) -> _Outcome:
        entity = self._entity(op.entity)
        values = dict(op.values)
        for name, value in values.items():
            self._check_value(entity, name, value)
        if entity.name == "family" and op.entity_id != op.family_id:
            raise Rejected("a family's entity_id and family_id must be the same")
        values = self._server_values(entity, values)
        existing = None
        if self.db.conn.execute(f"SELECT 1 FROM {entity.table} WHERE id = ?", [op.entity_id]).fetchone():
            existing = records.get(self.db, self.keyring, entity.name, op.entity_id, include_deleted=True)
        if existing is not None:
            return self._create_existing(op, entity, existing, values)
        if entity.name == "family":
            if self.writer.role == "supervisor":
                values["team_id"] = values.get("team_id") or self.writer.principal.team_id
            values.setdefault("status", "active")
            self._check_refs(values, op.family_id)
        else:
            self._require_family(op.family_id)
            self._check_refs(values, op.family_id)
            if entity.name == "checklist_response" and self._visit_signed(values.get("visit_id")):
                raise Rejected("the visit is signed: add an addendum instead")
            for name, value in values.items():
                self._check_flag_decision(entity, values, name, value)
        row = {"id": op.entity_id, "agency_id": self.writer.agency_id, "family_id": op.family_id, **values}
        records.insert(self.db, self.keyring, entity.name, row, self._actor(op))
        self._pending.append(AppliedChange(entity.name, op.entity_id, op.family_id, "insert", values, 1,
                                           self.writer.agency_id))
        return _Outcome("applied", version=1, field_version=1)

    def _server_values(self, entity: Entity, values: dict[str, Any]) -> dict[str, Any]:
        a = self.writer.actor
        if entity.insert_only:
            if a.user_id:
                # Who recorded an entry is who signed in, not what the phone says.
                values["recorded_by"] = a.user_id
                values["device_id"] = a.device_id
            values.setdefault("recorded_at", now_iso())
        if entity.name == "visit" and a.user_id:
            values.setdefault("practitioner_id", a.user_id)
        return values

    def _create_existing(self, op: CreateOp, entity: Entity, existing: dict[str, Any],
                         values: dict[str, Any]) -> _Outcome:
        if existing["deleted"]:
            raise Rejected("the record was deleted")
        if existing["family_id"] != op.family_id or existing["agency_id"] != self.writer.agency_id:
            raise Rejected("that id is already used")
        self._require_family(op.family_id)
        if entity.insert_only:
            same = all(existing.get(k) == v for k, v in values.items() if k not in {"recorded_at", "device_id"})
            if not same:
                raise Rejected(f"{entity.name} records are append-only: add a new entry")
            return _Outcome("applied", version=int(existing["version"]))
        for name in entity.immutable:
            if name in values and existing.get(name) != values[name]:
                raise Rejected(f"{name} cannot change after the record is created")
        mutable = {k: v for k, v in values.items() if k not in entity.immutable}
        if mutable:
            self._check_not_signed(entity, existing, None)
        outcome = _Outcome("applied", version=int(existing["version"]))
        for name, value in mutable.items():
            current = records.get(self.db, self.keyring, entity.name, op.entity_id, include_deleted=True)
            assert current is not None
            o = self._merge_field(op, entity, current, name, value, 0)
            outcome.version = o.version
            if o.status == "conflict" and outcome.status != "conflict":
                outcome.status, outcome.conflict_id = "conflict", o.conflict_id
        return outcome

    def _set(self, op: SetOp) -> _Outcome:
        entity = self._entity(op.entity)
        if entity.insert_only:
            raise Rejected(f"{entity.name} records are append-only: add a new entry")
        if op.field not in entity.fields:
            raise Rejected(f"unknown field {entity.name}.{op.field}")
        if op.field in entity.immutable:
            raise Rejected(f"{op.field} cannot change after the record is created")
        self._check_value(entity, op.field, op.value)
        current = self._load(entity, op.entity_id, op.family_id)
        self._check_not_signed(entity, current, op.field)
        self._check_flag_decision(entity, current, op.field, op.value)
        self._check_refs({op.field: op.value}, op.family_id)
        return self._merge_field(op, entity, current, op.field, op.value, op.base_version)

    def _merge_field(self, op: Op, entity: Entity, current: dict[str, Any], name: str, value: Any,
                     base: int) -> _Outcome:
        meta = current["field_meta"].get(name) or {}
        field_version = int(meta.get("v", 0))
        current_value = current.get(name)
        open_conflict = self._open_conflict(entity.name, current["id"], name)
        row_version = int(current["version"])
        if value == current_value:
            return _Outcome("applied", version=row_version, field_version=field_version, reason="unchanged")
        if name in entity.monotonic and open_conflict is None:
            order = entity.monotonic[name]
            new_rank = records.rank(order, value)
            old_rank = records.rank(order, current_value) if current_value is not None else -1
            if new_rank > old_rank:
                return self._write(op, entity, current, name, value)
            if new_rank < old_rank:
                return _Outcome("applied", version=row_version, field_version=field_version, reason="superseded",
                                value=current_value)
            # Two different states of equal rank (done / cancelled): a person decides.
        elif open_conflict is None and (base == field_version or self._same_writer(meta, op)):
            return self._write(op, entity, current, name, value)
        return self._conflict(op, entity, current, name, value, meta, open_conflict)

    def _same_writer(self, meta: dict[str, Any], op: Op) -> bool:
        """The field was last written by this very device (or integration client) at an
        earlier clock: its queued edits are in sequence, not in competition."""
        a = self.writer.actor
        if not meta or not meta.get("hlc") or meta["hlc"] >= op.hlc:
            return False
        if a.device_id:
            return meta.get("dev") == a.device_id
        return a.client_id is not None and meta.get("dev") is None and meta.get("by") == a.client_id

    def _write(self, op: Op, entity: Entity, current: dict[str, Any], name: str, value: Any) -> _Outcome:
        version = records.update(self.db, self.keyring, entity.name, current["id"], {name: value}, self._actor(op),
                                 current=current)
        self._pending.append(AppliedChange(entity.name, current["id"], current["family_id"], "update",
                                           {name: value}, version, self.writer.agency_id))
        return _Outcome("applied", version=version, field_version=version)

    def _open_conflict(self, entity_name: str, entity_id: str, name: str) -> dict[str, Any] | None:
        if self.db.conn.execute(
            "SELECT 1 FROM conflicts WHERE entity = ? AND entity_id = ? AND field = ? AND status = 'open'"
            " AND deleted = 0", [entity_name, entity_id, name]
        ).fetchone() is None:
            return None
        rows = records.find(self.db, self.keyring, "conflict", "entity = ? AND entity_id = ? AND field = ? AND status = 'open'",
                            [entity_name, entity_id, name])
        return rows[0] if rows else None

    def _candidate(self, op: Op, value: Any) -> dict[str, Any]:
        a = self.writer.actor
        return {"value": value, "user_id": a.user_id, "device_id": a.device_id, "client_id": a.client_id,
                "hlc": op.hlc, "at": now_iso(), "op_id": op.op_id}

    def _stored_candidate(self, value: Any, meta: dict[str, Any]) -> dict[str, Any]:
        by = meta.get("by")
        is_user = bool(by) and bool(list(self.db.query("SELECT 1 FROM users WHERE id = ?", [by])))
        return {"value": value, "user_id": by if is_user else None, "device_id": meta.get("dev"),
                "client_id": None if is_user else by, "hlc": _meta_hlc(meta), "at": meta.get("at"), "op_id": None}

    def _conflict(self, op: Op, entity: Entity, current: dict[str, Any], name: str, value: Any,
                  meta: dict[str, Any], open_conflict: dict[str, Any] | None) -> _Outcome:
        mine = self._candidate(op, value)
        if open_conflict is not None:
            candidates = list(open_conflict["candidates"])
            if not any(c["value"] == current.get(name) for c in candidates):
                candidates.append(self._stored_candidate(current.get(name), meta))
            # A writer's later edit replaces its own earlier candidate: they follow each other.
            key = _writer_key(mine)
            same = [c for c in candidates if _writer_key(c) == key and c.get("op_id")]
            if same and max(c["hlc"] or "" for c in same) < op.hlc:
                candidates = [c for c in candidates if not (_writer_key(c) == key and c.get("op_id"))]
            candidates.append(mine)
            conflict_id = open_conflict["id"]
            records.update(self.db, self.keyring, "conflict", conflict_id, {"candidates": candidates}, self._actor(op))
        else:
            candidates = [self._stored_candidate(current.get(name), meta), mine]
            conflict_id = new_id()
            records.insert(self.db, self.keyring, "conflict", {
                "id": conflict_id, "agency_id": current["agency_id"], "family_id": current["family_id"],
                "entity": entity.name, "entity_id": current["id"], "field": name, "candidates": candidates,
                "status": "open"}, self._actor(op))
        provisional = max(candidates, key=lambda c: c["hlc"] or "")
        if all(c["value"] == provisional["value"] for c in candidates):
            # The writers now agree (one changed their mind): nothing is left for a person.
            a = self.writer.actor
            records.update(self.db, self.keyring, "conflict", conflict_id, {
                "status": "resolved", "resolution": {"value": value, "agreed": True, "hlc": op.hlc},
                "resolved_by": a.user_id or a.client_id, "resolved_at": now_iso()}, self._actor(op))
            if value != current.get(name):
                outcome = self._write(op, entity, current, name, value)
            else:
                outcome = _Outcome(version=int(current["version"]), field_version=int(meta.get("v", 0)))
            outcome.conflict_id = conflict_id
            outcome.reason = "the competing writers now agree"
            return outcome
        if provisional["value"] != current.get(name):
            outcome = self._write(op, entity, current, name, provisional["value"])
        else:
            outcome = _Outcome(version=int(current["version"]), field_version=int(meta.get("v", 0)))
        outcome.status, outcome.conflict_id = "conflict", conflict_id
        if provisional["value"] != value:
            outcome.value = provisional["value"]
        return outcome

    def _resolve(self, op: ResolveOp) -> _Outcome:
        conflict = records.get(self.db, self.keyring, "conflict", op.conflict_id)
        if conflict is None or conflict["agency_id"] != self.writer.agency_id:
            raise Rejected("no such conflict")
        self._require_family(conflict["family_id"])
        entity = ENTITIES[conflict["entity"]]
        name = conflict["field"]
        self._check_value(entity, name, op.value)
        if conflict["status"] == "resolved":
            if (conflict["resolution"] or {}).get("value") == op.value:
                return _Outcome("applied", version=int(conflict["version"]))
            raise Rejected("the conflict was already resolved with another value")
        a = self.writer.actor
        resolution = {"value": op.value, "user_id": a.user_id, "device_id": a.device_id, "client_id": a.client_id,
                      "hlc": op.hlc}
        records.update(self.db, self.keyring, "conflict", conflict["id"], {
            "status": "resolved", "resolution": resolution, "resolved_by": a.user_id or a.client_id,
            "resolved_at": now_iso()}, self._actor(op))
        target = records.get(self.db, self.keyring, entity.name, conflict["entity_id"])
        if target is None:
            return _Outcome("applied", reason="the record was deleted: resolution recorded only")
        try:
            self._check_not_signed(entity, target, None)
        except Rejected:
            return _Outcome("applied", version=int(target["version"]),
                            reason="the visit is signed: resolution recorded only")
        if target.get(name) == op.value:
            fv = int((target["field_meta"].get(name) or {}).get("v", 0))
            return _Outcome("applied", version=int(target["version"]), field_version=fv)
        return self._write(op, entity, target, name, op.value)

    def _delete(self, op: DeleteOp) -> _Outcome:
        entity = self._entity(op.entity)
        if entity.insert_only:
            raise Rejected(f"{entity.name} records are append-only and are never deleted")
        current = records.get(self.db, self.keyring, entity.name, op.entity_id, include_deleted=True)
        if current is not None and current["deleted"] and current["family_id"] == op.family_id:
            if current["agency_id"] != self.writer.agency_id:
                raise Rejected("the record is not in that family")
            return _Outcome("applied", version=int(current["version"]))
        current = self._load(entity, op.entity_id, op.family_id)
        self._check_not_signed(entity, current, None)
        version = records.tombstone(self.db, self.keyring, entity.name, op.entity_id, self._actor(op))
        self._pending.append(AppliedChange(entity.name, op.entity_id, op.family_id, "delete", {}, version,
                                           self.writer.agency_id))
        return _Outcome("applied", version=version)


def _writer_key(c: dict[str, Any]) -> str | None:
    return c.get("device_id") or c.get("client_id") or c.get("user_id")


def _meta_hlc(meta: dict[str, Any]) -> str | None:
    """A stored value's clock; writes made without one (server tools) get one from their time."""
    if meta.get("hlc"):
        return meta["hlc"]
    if meta.get("at"):
        try:
            return hlc_mod.format_hlc(int(parse_iso(meta["at"]).timestamp() * 1000), 0, "server")
        except ValueError:
            return None
    return None


def _short(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)[:64]


def _integrity_reason(exc: sqlite3.IntegrityError) -> str:
    """Turn a constraint failure into a reason naming the column, never the value."""
    text = str(exc)
    for prefix, label in (("NOT NULL constraint failed: ", "is required"),
                          ("CHECK constraint failed: ", "has a value that is not allowed"),
                          ("FOREIGN KEY constraint failed", None),
                          ("UNIQUE constraint failed: ", "is already used")):
        if text.startswith(prefix):
            if label is None:
                return "a referenced record does not exist"
            column = text[len(prefix):].split(".")[-1].split(" ")[0]
            return f"{column} {label}"
    if "cannot store" in text:
        return "a value has the wrong type"
    return "the record could not be stored"
