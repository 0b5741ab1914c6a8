"""The merge's checks on where a write lands: the family in reach, references inside the
family and agency, and the fields the server owns.

Observations and addenda are never refused for something that is not the writer's fault:
a visit or person deleted meanwhile, or a family the practitioner was allocated to but is
not now. They are kept, with ``attention`` saying why a person should look at them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from server.clock import iso, now_iso, utcnow
from server.storage import scope, sync_reach
from server.storage.tx import Tx

from . import content_refs
from . import hlc as hlc_mod
from .model import Entity
from .policy import Refused
from .writer import Writer


class Checks:
    db: Tx
    writer: Writer
    # families found in reach, and (entity, id, family) found by a reference check: records
    # are never removed within a batch, so a batch on one visit asks about it once.
    _families: set[str]
    _refs_found: set[tuple[str, str, str]]

    def require_family(self, family_id: str | None, entity: Entity | None = None) -> str | None:
        """Raise unless the writer may write this family now. For an entry that must not
        be lost, answer ``recorded-out-of-reach`` instead when the writer was allocated to
        the family once (an allocation ended while the phone was offline)."""
        if not family_id:
            raise Refused("family_id is required", "invalid", "family_id")
        if family_id in self._families:
            return None
        reach = sync_reach.family_reach(self.db, self.writer.principal, family_id)
        if reach is None:
            raise Refused("no such family", "not-found", "family_id")
        deleted, in_reach = reach
        if in_reach and not deleted:
            self._families.add(family_id)
            return None
        if entity is not None and entity.insert_only and not deleted and self._was_allocated(family_id):
            return "recorded-out-of-reach"
        raise Refused("the family is not in your reach now", "out-of-reach", "family_id")

    def in_reach(self, family_id: str) -> bool:
        try:
            self.require_family(family_id)
        except Refused:
            return False
        return True

    def _was_allocated(self, family_id: str) -> bool:
        who = self.writer.actor.user_id
        return bool(who) and sync_reach.was_allocated(self.db, family_id, who)

    def check_refs(self, entity: Entity, values: dict[str, Any], family_id: str) -> str | None:
        """Raise unless each reference names a record of the family (or staff / a team of
        the agency). For insert-only entries a missing or deleted record is not refused:
        the answer is the ``attention`` to record."""
        attention = None
        for name, value in values.items():
            f = entity.field(name)
            if value is None or f is None or f.ref is None or f.server_owned:
                continue
            if f.ref == "subject" and value == values.get("visit_id"):
                continue  # an answer about the visit as a whole names the visit as its subject
            if f.ref in ("person", "visit", "observation", "subject"):
                # A reference names a record of its own entity; a "subject", a person.
                state = self._ref_state("person" if f.ref == "subject" else f.ref, value, family_id)
                if state == "missing" and f.ref == "subject" and entity.name == "flag":
                    # A flag the server raises on an overdue follow-up has that follow-up as subject.
                    state = self._ref_state("follow_up", value, family_id)
                if state == "live":
                    continue
                if entity.insert_only and f.ref in ("visit", "person"):
                    attention = attention or f"{f.ref}-deleted"
                    continue
                if state == "deleted":
                    raise Refused(f"{name} names a record that was deleted", "invalid", name)
                raise Refused(f"{name} does not name a record of this family", "invalid", name)
            elif f.ref == "user":
                self._check_user(entity, name, value, family_id)
            elif f.ref in ("checklist", "checklist-item"):
                content_refs.check(name, f.ref, values)
            elif f.ref == "team":
                if not sync_reach.team_in_agency(self.db, value, self.writer.agency_id):
                    raise Refused("team_id does not name a team of this agency", "invalid", name)
                if self.writer.role == "supervisor" and value != self.writer.principal.team_id:
                    raise Refused("supervisors write families of their own team only", "forbidden", name)
        return attention

    def _ref_state(self, entity_name: str, value: str, family_id: str) -> str:
        key = (entity_name, value, family_id)
        if key in self._refs_found:
            return "live"
        state = sync_reach.record_state(self.db, entity_name, value, family_id)
        if state == "live":
            self._refs_found.add(key)
        return state

    def _check_user(self, entity: Entity, name: str, value: str, family_id: str) -> None:
        member = sync_reach.staff_member(self.db, value, self.writer.agency_id)
        if member is None:
            raise Refused(f"{name} does not name a member of staff", "invalid", name)
        role, team_id = member
        if name == "assignee_id":
            # Someone who can act on the family: a practitioner or supervisor of its team.
            family_team = scope.family_team(self.db, family_id)
            if role not in ("practitioner", "supervisor") or (family_team and team_id != family_team):
                raise Refused(f"{name} is not a practitioner or supervisor of the family's team", "invalid", name)
        if name == "practitioner_id" and role != "practitioner" and entity.name == "allocation":
            raise Refused(f"{name} is not a practitioner", "invalid", name)

    # -- fields the server owns -------------------------------------------------------------

    def recorded_at(self, op_hlc: str) -> str:
        """When an entry was recorded: the writer's clock, never later than now (a phone
        records offline; the server's own clock bounds a phone that runs fast)."""
        now = utcnow()
        try:
            wall = hlc_mod.parse(op_hlc).wall_ms
        except ValueError:
            return iso(now)
        at = datetime.fromtimestamp(wall / 1000, tz=timezone.utc)
        return iso(min(at, now))

    def server_values(self, entity: Entity, values: dict[str, Any], op_hlc: str) -> dict[str, Any]:
        """The values a new record is stored with: an op's values for server-owned fields
        are dropped (the server's own jobs excepted) and the server's are set."""
        w = self.writer
        if w.role != "system":
            values = {k: v for k, v in values.items() if not (entity.field(k) and entity.field(k).server_owned)}
        if entity.insert_only and w.role != "system":
            values.update(recorded_by=w.who, device_id=w.actor.device_id, recorded_at=self.recorded_at(op_hlc))
        if entity.owner and w.role == "practitioner" and values.get(entity.owner) is None:
            values[entity.owner] = w.who  # sent empty or not at all: a practitioner's own record
        for f in entity.fields:
            if f.default is not None:
                values.setdefault(f.name, f.default)
        values.update(self.transition_values(entity, {}, values))
        return values

    def transition_values(self, entity: Entity, current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """Server-owned fields a change brings with it: who signed a visit and when, when a
        follow-up was finished, who acknowledged and decided a flag."""
        w, now = self.writer, now_iso()
        merged = {**current, **changes}
        out: dict[str, Any] = {}

        def fill(name: str, value: Any) -> None:
            if merged.get(name) is None:
                out[name] = value

        status = changes.get("status")
        if entity.name == "visit" and status == "completed":
            fill("completed_at", now)
            fill("signed_by", w.actor.user_id)
        elif entity.name == "follow_up" and status in ("done", "cancelled"):
            fill("completed_at", now)
        elif entity.name == "flag":
            if status in ("acknowledged", "closed"):
                fill("acknowledged_by", w.who)
                fill("acknowledged_at", now)
            if "decision" in changes and changes["decision"] is not None:
                out["decided_by"], out["decided_at"] = w.who, now
        if entity.name == "visit":
            _starts_before_it_completes({**merged, **out})
        return out


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _starts_before_it_completes(visit: dict[str, Any]) -> None:
    """On every write path (all go through the merge): a visit cannot be completed before
    it started, whichever of the two arrives second."""
    started, completed = visit.get("started_at"), visit.get("completed_at")
    if started and completed and _instant(started) > _instant(completed):
        raise Refused("a visit cannot complete before it starts", "invalid", "started_at")
