"""Follow-ups and what the rules on the server read and keep: the agency's zone and
settings, a visit's answers and the family's history, open follow-ups and flags per rule,
and which completed visits have had their rules run (``visit_outcomes``)."""

from __future__ import annotations

from typing import Any

from ..access import Principal, family_condition
from . import records
from .crypto import Keyring
from .tx import Tx

# What "still open" means for each kind of record a rule raises.
_OPEN = {"follow_up": "status = 'open'", "flag": "status != 'closed'"}


def agency_time(db: Tx, agency_id: str) -> dict[str, Any] | None:
    """The agency's id, time zone name and settings (JSON text), or None."""
    rows = list(db.query("SELECT id, timezone, settings FROM agencies WHERE id = ?", [agency_id]))
    return rows[0] if rows else None


def in_reach(
    db: Tx, keyring: Keyring, p: Principal, *, assignee_id: str | None = None, status: str | None = None,
    open_only: bool = False, due_before: str | None = None, due_from: str | None = None,
    due_through: str | None = None, due_after: str | None = None,
) -> list[dict[str, Any]]:
    """Follow-ups of the families ``p`` may see, soonest due first: assigned to
    ``assignee_id``, with ``status``, open (``open_only``), and due before / from /
    through / after the instants given (each optional)."""
    cond, params = family_condition(p, "family_id")
    where = [cond]
    for column_test, value in (("assignee_id = ?", assignee_id), ("status = ?", status),
                               ("due_at < ?", due_before), ("due_at >= ?", due_from),
                               ("due_at <= ?", due_through), ("due_at > ?", due_after)):
        if value is not None:
            where.append(column_test)
            params.append(value)
    if open_only:
        where.append("status = 'open'")
    return records.find(db, keyring, "follow_up", " AND ".join(where), params, order_by="due_at, id")


def overdue_open(db: Tx, now: str) -> list[dict[str, Any]]:
    """Open follow-ups due before ``now``: id, agency_id, family_id, visit_id, due_at."""
    return list(db.query("SELECT id, agency_id, family_id, visit_id, due_at FROM follow_ups"
                         " WHERE status = 'open' AND deleted = 0 AND due_at < ?", [now]))


# -- the rules' facts ---------------------------------------------------------------------


def visit_answers(db: Tx, keyring: Keyring, visit_id: str) -> list[dict[str, Any]]:
    """A visit's checklist answers in the order they were last written."""
    return records.find(db, keyring, "checklist_response", "visit_id = ?", [visit_id], order_by="updated_at, id")


def earlier_completed_visits(db: Tx, keyring: Keyring, family_id: str, visit_id: str) -> list[dict[str, Any]]:
    """The family's completed visits other than ``visit_id``."""
    return records.find(db, keyring, "visit", "family_id = ? AND status = 'completed' AND id != ?",
                        [family_id, visit_id])


def family_supervisor(db: Tx, family_id: str) -> str | None:
    """The longest-serving enabled supervisor of the family's team."""
    row = db.execute(
        "SELECT u.id FROM users u JOIN families f ON f.team_id = u.team_id AND f.agency_id = u.agency_id"
        " WHERE f.id = ? AND u.role = 'supervisor' AND u.disabled_at IS NULL ORDER BY u.created_at, u.id LIMIT 1",
        [family_id]).fetchone()
    return row[0] if row else None


def rule_still_open(db: Tx, entity: str, family_id: str, rule: str, subject: str | None) -> bool:
    """Whether the family has a live, still open ``entity`` (follow-up or flag) from
    ``rule`` about ``subject`` (None: about no one in particular)."""
    table = records.ENTITIES[entity].table
    about = "subject_id IS NULL" if subject is None else "subject_id = ?"
    args = [family_id, rule] + ([] if subject is None else [subject])
    return db.execute(f"SELECT 1 FROM {table} WHERE family_id = ? AND rule_id = ? AND {about} AND deleted = 0"
                      f" AND {_OPEN[entity]} LIMIT 1", args).fetchone() is not None


def record_outcome(db: Tx, visit_id: str, at: str, follow_ups: int, flags: int) -> None:
    """Note that a visit's rules ran, adding what they created to its earlier runs."""
    db.execute(
        "INSERT INTO visit_outcomes (visit_id, applied_at, follow_ups, flags) VALUES (?,?,?,?)"
        " ON CONFLICT (visit_id) DO UPDATE SET applied_at = excluded.applied_at,"
        " follow_ups = visit_outcomes.follow_ups + excluded.follow_ups, flags = visit_outcomes.flags + excluded.flags",
        [visit_id, at, follow_ups, flags])


def visits_awaiting_rules(db: Tx, completed_since: str, limit: int) -> list[str]:
    """Ids of live visits completed at or after ``completed_since`` whose rules have not
    run, least recently changed first."""
    return [r[0] for r in db.execute(
        "SELECT v.id FROM visits v LEFT JOIN visit_outcomes o ON o.visit_id = v.id"
        " WHERE v.status = 'completed' AND v.deleted = 0 AND o.visit_id IS NULL AND v.completed_at >= ?"
        " ORDER BY v.updated_at LIMIT ?", [completed_since, limit]).fetchall()]
