"""Flags to supervisors: listed by severity and age, acknowledged, decided with a
rationale, closed only with a decision (status open -> acknowledged -> closed; a flag is
never deleted). Writes are ops through the one write path (``server.writes``,
``sync.merge``): the policy says who may act on a flag, the merge records who
acknowledged and decided, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sync.policy import Refused

from .. import audit, writes
from ..access import Principal, load_in_reach, require_role
from ..clock import iso, parse_iso, utcnow
from ..followups import dates
from ..followups.schemas import FollowUpCreate
from ..followups.service import create_op as follow_up_op, get_follow_up, to_read as follow_up_read
from ..storage import flags as flag_rows, followups as follow_up_rows, records
from ..storage.crypto import Keyring
from ..storage.tx import Tx
from .schemas import FlagDecision, FlagDetail, FlagRead, FlagRecord, Overview, PractitionerOverdue, PractitionerSync

SEVERITY_ORDER = {"urgent": 0, "high": 1, "routine": 2}
STATUS_FILTERS = {
    "active": ("open", "acknowledged"),
    "open": ("open",),
    "acknowledged": ("acknowledged",),
    "closed": ("closed",),
    "all": ("open", "acknowledged", "closed"),
}


def to_read(row: dict[str, Any], now: datetime) -> FlagRead:
    age = (now - parse_iso(row["created_at"])).total_seconds() / 3600
    return FlagRead(**{k: row.get(k) for k in (
        "id", "family_id", "visit_id", "rule_id", "subject_id", "severity", "reason", "answers", "status",
        "acknowledged_by", "acknowledged_at", "decision", "rationale", "decided_by", "decided_at", "raised_by",
        "created_at", "version")}, age_hours=round(max(age, 0.0), 1))


def _sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Most severe first; within a severity the oldest (longest waiting) first.
    return sorted(rows, key=lambda r: (SEVERITY_ORDER.get(r["severity"], 9), r["created_at"], r["id"]))


def list_flags(db: Tx, keyring: Keyring, p: Principal, status: str = "active",
               now: datetime | None = None) -> list[FlagRead]:
    now = now or utcnow()
    rows = flag_rows.in_reach(db, keyring, p, STATUS_FILTERS[status])
    return [to_read(r, now) for r in _sorted(rows)]


def _load(db: Tx, keyring: Keyring, p: Principal, flag_id: str) -> dict[str, Any]:
    return load_in_reach(db, keyring, p, "flag", flag_id, "flag")


def _record_behind(db: Tx, keyring: Keyring, p: Principal, flag: dict[str, Any]) -> FlagRecord:
    now = utcnow()
    tz = dates.agency_zone(db, p.agency_id)
    family = records.get(db, keyring, "family", flag["family_id"]) or {}
    visit = records.get(db, keyring, "visit", flag["visit_id"]) if flag.get("visit_id") else None
    subject = None
    if flag.get("subject_id"):
        person = records.get(db, keyring, "person", flag["subject_id"])
        if person is not None:
            subject = {k: person.get(k) for k in ("id", "role", "given_name", "family_name", "date_of_birth",
                                                  "protection_plan")}
    # The follow-ups of the visit behind the flag, or the follow-up an overdue flag escalates.
    linked = flag_rows.linked_follow_ups(db, keyring, flag.get("visit_id"), flag.get("subject_id"))
    practitioner = flag_rows.user_name(db, visit["practitioner_id"]) if visit is not None else None
    return FlagRecord(
        family={"id": flag["family_id"], "family_name": family.get("family_name"),
                "postcode": family.get("postcode"), "team_id": family.get("team_id")},
        visit=None if visit is None else {
            "id": visit["id"], "type": visit["type"], "status": visit["status"],
            "completed_at": visit.get("completed_at"), "planned_for": visit.get("planned_for"),
            "practitioner_id": visit["practitioner_id"],
            "practitioner_name": practitioner["display_name"] if practitioner else None},
        subject=subject,
        follow_ups=[follow_up_read(r, tz, now) for r in linked],
    )


def get_flag(db: Tx, keyring: Keyring, p: Principal, flag_id: str) -> FlagDetail:
    flag = _load(db, keyring, p, flag_id)
    audit.record(db, "flag-read", entity="flag", entity_id=flag_id, family_id=flag["family_id"],
                 purpose="review flag", **audit.by(p))
    return FlagDetail(flag=to_read(flag, utcnow()), record=_record_behind(db, keyring, p, flag))


def _set(db: Tx, keyring: Keyring, p: Principal, flag: dict[str, Any], changes: dict[str, Any],
         if_match: str | None) -> tuple[list, list]:
    ops = writes.set_ops("flag", flag, changes, writes.require_if_match(if_match, flag))
    return ops, writes.apply(db, keyring, p, ops)


def _written(db: Tx, keyring: Keyring, p: Principal, flag_id: str, ops: list, results: list,
             created: list | None = None) -> writes.Written:
    detail = get_flag(db, keyring, p, flag_id)
    detail.created_follow_ups = created or []
    return writes.outcome(detail, detail.flag.version, ops, results)


def acknowledge(db: Tx, keyring: Keyring, p: Principal, flag_id: str,
                if_match: str | None) -> writes.Written:
    """Acknowledge an open flag; one already acknowledged or closed stays as it is."""
    flag = _load(db, keyring, p, flag_id)
    ops, results = _set(db, keyring, p, flag, {"status": "acknowledged"}, if_match)
    if flag["status"] == "open":
        audit.record(db, "flag-acknowledged", entity="flag", entity_id=flag_id, family_id=flag["family_id"],
                     **audit.by(p))
    return _written(db, keyring, p, flag_id, ops, results)


def decide(db: Tx, keyring: Keyring, p: Principal, flag_id: str, body: FlagDecision,
           if_match: str | None) -> writes.Written:
    """Record the decision and rationale (closing the flag unless ``close`` is false); the
    follow-ups it asks for are created only when the decision is recorded without a
    conflict (a supervisor resending after a 409 must not get them twice)."""
    flag = _load(db, keyring, p, flag_id)
    ops, results = _set(db, keyring, p, flag, {
        "decision": body.decision, "rationale": body.rationale,
        "status": "closed" if body.close else "acknowledged"}, if_match)
    created = []
    if not any(r.status == "conflict" for r in results) and body.follow_ups:
        default_assignee = None
        if flag.get("visit_id"):
            default_assignee = flag_rows.visit_practitioner(db, flag["visit_id"])
        fu_ops = [follow_up_op(db, p, FollowUpCreate(
            family_id=flag["family_id"], text=fu.text, due_date=fu.due_date,
            assignee_id=fu.assignee_id or default_assignee or p.user_id, visit_id=flag.get("visit_id")))
            for fu in body.follow_ups]
        for i, op in enumerate(fu_ops):
            try:
                writes.apply(db, keyring, p, [op])
            except Refused as exc:  # name the follow-up in the body it came from
                raise Refused(exc.reason, exc.kind, f"follow_ups[{i}].{exc.field}" if exc.field else None) from None
        created = [get_follow_up(db, keyring, p, op.entity_id) for op in fu_ops]
    audit.record(db, "flag-decided" if body.close else "flag-decision-recorded", entity="flag", entity_id=flag_id,
                 family_id=flag["family_id"], detail={"follow_ups": len(created), "closed": body.close},
                 **audit.by(p))
    return _written(db, keyring, p, flag_id, ops, results, created)


def close(db: Tx, keyring: Keyring, p: Principal, flag_id: str,
          if_match: str | None) -> writes.Written:
    """Close a flag whose decision is recorded (the merge refuses one without: 409)."""
    flag = _load(db, keyring, p, flag_id)
    ops, results = _set(db, keyring, p, flag, {"status": "closed"}, if_match)
    if flag["status"] != "closed":
        audit.record(db, "flag-closed", entity="flag", entity_id=flag_id, family_id=flag["family_id"], **audit.by(p))
    return _written(db, keyring, p, flag_id, ops, results)


def overview(db: Tx, keyring: Keyring, p: Principal, now: datetime | None = None) -> Overview:
    """The team at a glance: open flags by severity and age, overdue follow-ups by
    practitioner, and when each practitioner last synced (how fresh the picture is)."""
    require_role(p, "supervisor", "admin")
    now = now or utcnow()
    tz = dates.agency_zone(db, p.agency_id)
    flags = list_flags(db, keyring, p, "active", now)
    by_severity = {s: 0 for s in SEVERITY_ORDER}
    for f in flags:
        by_severity[f.severity] = by_severity.get(f.severity, 0) + 1
    staff = flag_rows.staff_in_view(db, p)
    overdue = follow_up_rows.in_reach(db, keyring, p, open_only=True, due_before=iso(now))
    names = {s["id"]: s["display_name"] for s in staff}
    grouped: dict[str, list] = {}
    for row in overdue:
        grouped.setdefault(row.get("assignee_id") or "", []).append(follow_up_read(row, tz, now))
    by_practitioner = [
        PractitionerOverdue(user_id=uid, display_name=names.get(uid, "Unassigned" if not uid else "Another team"),
                            count=len(items), follow_ups=items)
        for uid, items in sorted(grouped.items(), key=lambda kv: (-len(kv[1]), names.get(kv[0], "")))
    ]
    audit.record(db, "supervisor-overview", purpose="supervision", detail={"flags": len(flags)}, **audit.by(p))
    return Overview(
        generated_at=iso(now), open_flags_by_severity=by_severity, flags=flags,
        overdue_by_practitioner=by_practitioner,
        practitioners=[PractitionerSync(user_id=s["id"], display_name=s["display_name"], role=s["role"],
                                        last_sync_at=s["last_sync_at"]) for s in staff],
    )
