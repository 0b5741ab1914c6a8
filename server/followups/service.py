"""Follow-ups: lists scoped by ``access``, writes through ``records``; status only moves
forward (open -> done | cancelled)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlite_utils

from .. import audit
from ..access import Principal, family_condition, load_in_reach, require_family, require_role
from ..clock import iso, now_iso, utcnow
from ..errors import Conflict, FieldError, Forbidden, InvalidInput
from ..ids import new_id
from ..storage import records
from ..storage.crypto import Keyring
from ..storage.records import Actor
from . import dates
from .schemas import FollowUpComplete, FollowUpCreate, FollowUpRead, FollowUpReassign


def actor_of(p: Principal) -> Actor:
    return Actor(user_id=p.user_id, device_id=p.device_id)


def to_read(row: dict[str, Any], tz, now: datetime) -> FollowUpRead:
    late = dates.days_overdue(row["due_at"], now, tz) if row["status"] == "open" else 0
    overdue = row["status"] == "open" and row["due_at"] < iso(now)
    return FollowUpRead(
        id=row["id"], family_id=row["family_id"], visit_id=row.get("visit_id"), rule_id=row.get("rule_id"),
        subject_id=row.get("subject_id"), assignee_id=row.get("assignee_id"), due_at=row["due_at"],
        due_date=dates.local_date(row["due_at"], tz).isoformat(), text=row["text"], status=row["status"],
        note=row.get("note"), completed_at=row.get("completed_at"), overdue=overdue, days_overdue=late,
        created_at=row["created_at"], version=row["version"],
    )


def _parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("Not a date.", errors=[FieldError(field, "not a valid date (YYYY-MM-DD)")]) from None


def check_assignee(db: sqlite_utils.Database, p: Principal, family_id: str, assignee_id: str, field: str) -> None:
    """Someone who can act on the family: an enabled practitioner or supervisor of the
    family's team (an admin may assign anyone enabled in the agency)."""
    rows = list(db.query(
        "SELECT u.team_id, u.role FROM users u WHERE u.id = ? AND u.agency_id = ? AND u.disabled_at IS NULL"
        " AND u.role IN ('practitioner', 'supervisor')", [assignee_id, p.agency_id]))
    team = list(db.query("SELECT team_id FROM families WHERE id = ?", [family_id]))
    if not rows or (team and team[0]["team_id"] and rows[0]["team_id"] != team[0]["team_id"]):
        raise InvalidInput("That person cannot be given this follow-up.",
                           errors=[FieldError(field, "not a practitioner or supervisor of the family's team")])


def _load(db: sqlite_utils.Database, keyring: Keyring, p: Principal, follow_up_id: str) -> dict[str, Any]:
    return load_in_reach(db, keyring, p, "follow_up", follow_up_id, "follow-up")


def list_follow_ups(
    db: sqlite_utils.Database, keyring: Keyring, p: Principal, *, scope: str, status: str, due: str | None,
    now: datetime | None = None,
) -> list[FollowUpRead]:
    now = now or utcnow()
    tz = dates.agency_zone(db, p.agency_id)
    cond, params = family_condition(p, "family_id")
    where = [cond]
    if scope == "mine" or p.role == "practitioner":
        where.append("assignee_id = ?")
        params.append(p.user_id)
    if status != "all":
        where.append("status = ?")
        params.append(status)
    today = now.astimezone(tz).date()
    if due == "overdue":
        where.append("status = 'open' AND due_at < ?")
        params.append(iso(now))
    elif due == "today":
        where.append("status = 'open' AND due_at >= ? AND due_at <= ?")
        params += [iso(now), dates.due_at_for(today, tz)]
    elif due == "upcoming":
        where.append("status = 'open' AND due_at > ?")
        params.append(dates.due_at_for(today, tz))
    rows = records.find(db, keyring, "follow_up", " AND ".join(where), params, order_by="due_at, id")
    return [to_read(r, tz, now) for r in rows]


def get_follow_up(db: sqlite_utils.Database, keyring: Keyring, p: Principal, follow_up_id: str) -> FollowUpRead:
    row = _load(db, keyring, p, follow_up_id)
    return to_read(row, dates.agency_zone(db, p.agency_id), utcnow())


def create_follow_up(db: sqlite_utils.Database, keyring: Keyring, p: Principal, body: FollowUpCreate) -> FollowUpRead:
    require_family(db, p, body.family_id)
    assignee = body.assignee_id or p.user_id
    if p.role == "practitioner" and assignee != p.user_id:
        raise Forbidden("Practitioners add follow-ups for themselves; a supervisor can reassign them.")
    check_assignee(db, p, body.family_id, assignee, "body.assignee_id")
    if body.visit_id and not list(db.query("SELECT 1 FROM visits WHERE id = ? AND family_id = ?",
                                           [body.visit_id, body.family_id])):
        raise InvalidInput("No such visit for this family.", errors=[FieldError("body.visit_id", "no such visit")])
    follow_up_id = body.id or new_id()
    if list(db.query("SELECT 1 FROM follow_ups WHERE id = ?", [follow_up_id])):
        raise InvalidInput("That id is already used.", errors=[FieldError("body.id", "already used")])
    tz = dates.agency_zone(db, p.agency_id)
    due_at = dates.due_at_for(_parse_day(body.due_date, "body.due_date"), tz)
    records.insert(db, keyring, "follow_up", {
        "id": follow_up_id, "agency_id": p.agency_id, "family_id": body.family_id, "visit_id": body.visit_id,
        "assignee_id": assignee, "due_at": due_at, "text": body.text, "status": "open"}, actor_of(p))
    audit.record(db, "follow-up-created", entity="follow_up", entity_id=follow_up_id, family_id=body.family_id,
                 **audit.by(p))
    return get_follow_up(db, keyring, p, follow_up_id)


def complete_follow_up(
    db: sqlite_utils.Database, keyring: Keyring, p: Principal, follow_up_id: str, body: FollowUpComplete
) -> FollowUpRead:
    row = _load(db, keyring, p, follow_up_id)
    if p.role == "practitioner" and row["assignee_id"] != p.user_id:
        raise Forbidden("Only the person it is assigned to (or a supervisor) can complete this follow-up.")
    if row["status"] != "open":
        # Status only moves forward: a done or cancelled follow-up stays so.
        raise Conflict(f"This follow-up is already {row['status']}.",
                       errors=[FieldError("body.status", f"already {row['status']}")])
    records.update(db, keyring, "follow_up", follow_up_id,
                   {"status": body.status, "note": body.note, "completed_at": now_iso()}, actor_of(p))
    audit.record(db, f"follow-up-{body.status}", entity="follow_up", entity_id=follow_up_id,
                 family_id=row["family_id"], **audit.by(p))
    return get_follow_up(db, keyring, p, follow_up_id)


def reassign_follow_up(
    db: sqlite_utils.Database, keyring: Keyring, p: Principal, follow_up_id: str, body: FollowUpReassign
) -> FollowUpRead:
    require_role(p, "supervisor", "admin")
    row = _load(db, keyring, p, follow_up_id)
    if row["status"] != "open":
        raise Conflict(f"This follow-up is already {row['status']}.")
    check_assignee(db, p, row["family_id"], body.assignee_id, "body.assignee_id")
    changes: dict[str, Any] = {"assignee_id": body.assignee_id}
    if body.due_date:
        changes["due_at"] = dates.due_at_for(_parse_day(body.due_date, "body.due_date"),
                                             dates.agency_zone(db, p.agency_id))
    records.update(db, keyring, "follow_up", follow_up_id, changes, actor_of(p))
    audit.record(db, "follow-up-reassigned", entity="follow_up", entity_id=follow_up_id, family_id=row["family_id"],
                 **audit.by(p))
    return get_follow_up(db, keyring, p, follow_up_id)
