"""Merging one field: apply, no-op, order, or a conflict kept for a person.

- An open conflict on the field is joined first, whatever the value: a writer's later
  value replaces its own earlier candidate (the stored one included), and when every
  candidate agrees the conflict closes by itself.
- Otherwise: the same value (compared exactly) is a no-op; a monotonic field moves by its
  order; a set on the field's current version applies; anything else is a conflict with
  every competing value, the newest by HLC shown as provisional.
- A phone's own queued edits follow each other (the field was last written by the same
  device at an earlier clock). Only a device has that chain: a REST call or an agency
  write is stamped by the server on arrival, so a stale one would always look newer.
"""

from __future__ import annotations

from typing import Any

from server.clock import now_iso, parse_iso
from server.ids import new_id
from server.storage import records, sync_reach
from server.storage.crypto import Keyring
from server.storage.tx import Tx

from . import hlc as hlc_mod
from .hooks import AppliedChange
from .model import Entity, rank
from .oplog import Outcome
from .protocol import Op
from .values import same
from .writer import Writer


def _instant(v: Any) -> Any:
    """Datetimes compare as instants (a phone may send "Z" or "+00:00", or milliseconds)."""
    try:
        return parse_iso(v).timestamp() if isinstance(v, str) else v
    except ValueError:
        return v


def writer_key(c: dict[str, Any]) -> str | None:
    return c.get("device_id") or c.get("client_id") or c.get("user_id")


def meta_hlc(meta: dict[str, Any]) -> str | None:
    """A stored value's clock; writes made without one (server tools) get one from their time."""
    if meta.get("hlc"):
        return meta["hlc"]
    if meta.get("at"):
        try:
            return hlc_mod.format_hlc(int(parse_iso(meta["at"]).timestamp() * 1000), 0, "server")
        except ValueError:
            return None
    return None


class FieldMerge:
    db: Tx
    keyring: Keyring
    writer: Writer
    _pending: list[AppliedChange]

    def actor_for(self, op: Op) -> records.Actor: ...  # provided by Batch
    def transition_values(self, entity: Entity, current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]: ...

    def merge_field(self, op: Op, entity: Entity, current: dict[str, Any], name: str, value: Any,
                    base: int) -> Outcome:
        meta = current["field_meta"].get(name) or {}
        field_version = int(meta.get("v", 0))
        current_value = current.get(name)
        open_conflict = self.open_conflict(entity.name, current["id"], name)
        if open_conflict is not None:
            return self.conflict(op, entity, current, name, value, meta, open_conflict)
        if same(value, current_value):
            return Outcome("applied", version=int(current["version"]), field_version=field_version,
                           reason="unchanged")
        f = entity.field(name)
        if f is not None and f.order is not None:
            new_rank = rank(f.order, value)
            old_rank = rank(f.order, current_value) if current_value is not None else -1
            if new_rank > old_rank:
                return self.write(op, entity, current, name, value)
            if new_rank < old_rank:
                return Outcome("applied", version=int(current["version"]), field_version=field_version,
                               reason="superseded", value=current_value)
            # Two different states of equal rank (done / cancelled): a person decides.
        elif base == field_version or self.same_device(meta, op):
            return self.write(op, entity, current, name, value)
        elif f is not None and f.resolve is not None and current_value is not None and value is not None:
            pick = min if f.resolve == "earliest" else max
            settled = pick(value, current_value, key=_instant)
            if same(settled, current_value):
                return Outcome("applied", version=int(current["version"]), field_version=field_version,
                               reason=f"settled by rule: the {f.resolve}", value=current_value)
            outcome = self.write(op, entity, current, name, settled)
            outcome.reason = f"settled by rule: the {f.resolve}"
            return outcome
        return self.conflict(op, entity, current, name, value, meta, None)

    def same_device(self, meta: dict[str, Any], op: Op) -> bool:
        a = self.writer.actor
        if not a.device_id or op.client_seq < 1 or not meta.get("hlc") or meta["hlc"] >= op.hlc:
            return False
        return meta.get("dev") == a.device_id

    def write(self, op: Op, entity: Entity, current: dict[str, Any], name: str, value: Any) -> Outcome:
        changes = {name: value, **self.transition_values(entity, current, {name: value})}
        version = records.update(self.db, self.keyring, entity.name, current["id"], changes, self.actor_for(op),
                                 current=current)
        self._pending.append(AppliedChange(entity.name, current["id"], current["family_id"], "update",
                                           changes, version, self.writer.agency_id))
        return Outcome("applied", version=version, field_version=version)

    def open_conflict(self, entity_name: str, entity_id: str, name: str) -> dict[str, Any] | None:
        found = records.find_by(self.db, self.keyring, "conflict", entity=entity_name, entity_id=entity_id, field=name,
                                status="open", limit=1)
        return found[0] if found else None

    def candidate(self, op: Op, value: Any) -> dict[str, Any]:
        a = self.writer.actor
        # The writer's name, so the person deciding sees who, not "a colleague".
        name = self.writer.principal.display_name if a.user_id else None
        return {"value": value, "user_id": a.user_id, "user_name": name or None, "device_id": a.device_id,
                "client_id": a.client_id, "hlc": op.hlc, "at": now_iso(), "op_id": op.op_id}

    def stored_candidate(self, value: Any, meta: dict[str, Any]) -> dict[str, Any]:
        by = meta.get("by")
        user = sync_reach.display_name(self.db, by) if by else None
        return {"value": value, "user_id": by if user else None, "user_name": user,
                "device_id": meta.get("dev"), "client_id": None if user else by, "hlc": meta_hlc(meta),
                "at": meta.get("at"), "op_id": None}

    def conflict(self, op: Op, entity: Entity, current: dict[str, Any], name: str, value: Any,
                 meta: dict[str, Any], open_conflict: dict[str, Any] | None) -> Outcome:
        mine = self.candidate(op, value)
        stored = self.stored_candidate(current.get(name), meta)
        if open_conflict is not None:
            candidates = list(open_conflict["candidates"])
            if not any(same(c["value"], current.get(name)) for c in candidates):
                candidates.append(stored)
        else:
            candidates = [stored]
        # In an open conflict a writer's later edit replaces its own earlier candidate (they
        # follow each other). Never when opening one: a stale write of the same writer
        # competes with the value stored, it does not replace it.
        key = writer_key(mine)
        earlier = [c for c in candidates if key is not None and writer_key(c) == key]
        if open_conflict is not None and earlier and max(c.get("hlc") or "" for c in earlier) < op.hlc:
            candidates = [c for c in candidates if writer_key(c) != key]
        candidates.append(mine)
        actor = self.actor_for(op)
        if open_conflict is not None:
            conflict_id = open_conflict["id"]
            records.update(self.db, self.keyring, "conflict", conflict_id, {"candidates": candidates}, actor)
        else:
            conflict_id = new_id()
            records.insert(self.db, self.keyring, "conflict", {
                "id": conflict_id, "agency_id": current["agency_id"], "family_id": current["family_id"],
                "entity": entity.name, "entity_id": current["id"], "field": name, "candidates": candidates,
                "status": "open"}, actor)
        provisional = max(candidates, key=lambda c: c.get("hlc") or "")
        agreed = all(same(c["value"], provisional["value"]) for c in candidates)
        if agreed and open_conflict is not None:
            # The writers now agree (one changed their mind): nothing is left for a person.
            records.update(self.db, self.keyring, "conflict", conflict_id, {
                "status": "resolved", "resolution": {"value": provisional["value"], "agreed": True, "hlc": op.hlc},
                "resolved_by": self.writer.who, "resolved_at": now_iso()}, actor)
        if not same(provisional["value"], current.get(name)):
            outcome = self.write(op, entity, current, name, provisional["value"])
        else:
            outcome = Outcome(version=int(current["version"]), field_version=int(meta.get("v", 0)))
        outcome.conflict_id = conflict_id
        if agreed and open_conflict is not None:
            outcome.reason = "the competing writers now agree"
            return outcome
        outcome.status = "conflict"
        if not same(provisional["value"], value):
            outcome.value = provisional["value"]
        return outcome
