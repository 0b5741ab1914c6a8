"""Follow-ups: lists scoped by ``access``; writes are ops through the one write path
(``server.writes``, ``sync.merge``), whose policy says who may create, complete and
reassign, and whose model says status only moves forward (open -> done | cancelled) and
a finished follow-up is not edited."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sync.protocol import CreateOp
from sync.writer import make_create

from .. import audit, writes
from ..access import Principal, load_in_reach
from ..clock import iso, utcnow
from ..errors import FieldError, InvalidInput, id_taken
from ..ids import new_id
from ..storage import families as family_rows, followups as follow_up_rows
from ..storage.crypto import Keyring
from ..storage.tx import Tx
from . import dates
from .schemas import FollowUpComplete, FollowUpCreate, FollowUpRead, FollowUpReassign


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


def _load(db: Tx, keyring: Keyring, p: Principal, follow_up_id: str) -> dict[str, Any]:
    return load_in_reach(db, keyring, p, "follow_up", follow_up_id, "follow-up")


def list_follow_ups(
    db: Tx, keyring: Keyring, p: Principal, *, scope: str, status: str, due: str | None,
    now: datetime | None = None,
) -> list[FollowUpRead]:
    now = now or utcnow()
    tz = dates.agency_zone(db, p.agency_id)
    today = now.astimezone(tz).date()
    window: dict[str, Any] = {}
    if due == "overdue":
        window = {"open_only": True, "due_before": iso(now)}
    elif due == "today":
        window = {"open_only": True, "due_from": iso(now), "due_through": dates.due_at_for(today, tz)}
    elif due == "upcoming":
        window = {"open_only": True, "due_after": dates.due_at_for(today, tz)}
    rows = follow_up_rows.in_reach(
        db, keyring, p, assignee_id=p.user_id if scope == "mine" or p.role == "practitioner" else None,
        status=None if status == "all" else status, **window)
    return [to_read(r, tz, now) for r in rows]


def get_follow_up(db: Tx, keyring: Keyring, p: Principal, follow_up_id: str) -> FollowUpRead:
    row = _load(db, keyring, p, follow_up_id)
    return to_read(row, dates.agency_zone(db, p.agency_id), utcnow())


def create_op(db: Tx, p: Principal, body: FollowUpCreate) -> CreateOp:
    """The op for a new follow-up: yours unless it names someone else (whom the policy then
    judges: a practitioner adds follow-ups for themselves only)."""
    follow_up_id = body.id or new_id()
    if family_rows.exists(db, "follow_up", follow_up_id):
        raise id_taken()
    due_at = dates.due_at_for(_parse_day(body.due_date, "body.due_date"), dates.agency_zone(db, p.agency_id))
    values = {"assignee_id": body.assignee_id or p.user_id, "due_at": due_at, "text": body.text}
    if body.visit_id:
        values["visit_id"] = body.visit_id
    return make_create("follow_up", follow_up_id, body.family_id, values)


def create_follow_up(db: Tx, keyring: Keyring, p: Principal, body: FollowUpCreate) -> FollowUpRead:
    op = create_op(db, p, body)
    writes.apply(db, keyring, p, [op])
    audit.record(db, "follow-up-created", entity="follow_up", entity_id=op.entity_id, family_id=body.family_id,
                 **audit.by(p))
    return get_follow_up(db, keyring, p, op.entity_id)


def complete_follow_up(
    db: Tx, keyring: Keyring, p: Principal, follow_up_id: str, body: FollowUpComplete,
    if_match: str | None,
) -> writes.Written:
    """Mark done or cancelled with a note. The note goes first: on a follow-up already
    finished it is refused (409, not edited any more) before the status is looked at."""
    row = _load(db, keyring, p, follow_up_id)
    ops = writes.set_ops("follow_up", row, {"note": body.note, "status": body.status},
                         writes.require_if_match(if_match, row))
    results = writes.apply(db, keyring, p, ops)
    audit.record(db, f"follow-up-{body.status}", entity="follow_up", entity_id=follow_up_id,
                 family_id=row["family_id"], **audit.by(p))
    read = get_follow_up(db, keyring, p, follow_up_id)
    return writes.outcome(read, read.version, ops, results)


def reassign_follow_up(
    db: Tx, keyring: Keyring, p: Principal, follow_up_id: str, body: FollowUpReassign,
    if_match: str | None,
) -> writes.Written:
    row = _load(db, keyring, p, follow_up_id)
    changes: dict[str, Any] = {"assignee_id": body.assignee_id}
    if body.due_date:
        changes["due_at"] = dates.due_at_for(_parse_day(body.due_date, "body.due_date"),
                                             dates.agency_zone(db, p.agency_id))
    ops = writes.set_ops("follow_up", row, changes, writes.require_if_match(if_match, row))
    results = writes.apply(db, keyring, p, ops)
    audit.record(db, "follow-up-reassigned", entity="follow_up", entity_id=follow_up_id, family_id=row["family_id"],
                 **audit.by(p))
    read = get_follow_up(db, keyring, p, follow_up_id)
    return writes.outcome(read, read.version, ops, results)
