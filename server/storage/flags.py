"""Flags to supervisors and what their review shows beside them: the record behind a flag
and the team at a glance (staff, when each last synced)."""

from __future__ import annotations

from typing import Any

from ..access import Principal, family_condition, user_condition
from . import records
from .crypto import Keyring
from .tx import Tx


def in_reach(db: Tx, keyring: Keyring, p: Principal, statuses: tuple[str, ...]) -> list[dict[str, Any]]:
    """Flags with one of ``statuses`` of the families ``p`` may see."""
    cond, params = family_condition(p, "family_id")
    marks = ",".join("?" * len(statuses))
    return records.find(db, keyring, "flag", f"{cond} AND status IN ({marks})", [*params, *statuses])


def linked_follow_ups(db: Tx, keyring: Keyring, visit_id: str | None, follow_up_id: str | None) -> list[dict[str, Any]]:
    """The follow-ups of a flag's visit (if it has one) and the follow-up ``follow_up_id``
    (the one an overdue flag escalates), soonest due first."""
    if visit_id is None:
        return records.find(db, keyring, "follow_up", "id = ?", [follow_up_id or ""], order_by="due_at, id")
    return records.find(db, keyring, "follow_up", "visit_id = ? OR id = ?", [visit_id, follow_up_id or ""],
                        order_by="due_at, id")


def user_name(db: Tx, user_id: str) -> dict[str, Any] | None:
    """A user's id and display name."""
    rows = list(db.query("SELECT id, display_name FROM users WHERE id = ?", [user_id]))
    return rows[0] if rows else None


def visit_practitioner(db: Tx, visit_id: str) -> str | None:
    """Who the visit is (or was) by."""
    row = db.execute("SELECT practitioner_id FROM visits WHERE id = ?", [visit_id]).fetchone()
    return row[0] if row else None


def staff_in_view(db: Tx, p: Principal) -> list[dict[str, Any]]:
    """The enabled practitioners and supervisors ``p`` may see, by name, each with when a
    device of theirs last synced (id, display_name, role, last_sync_at)."""
    ucond, uparams = user_condition(p, "u")
    return list(db.query(
        f"SELECT u.id, u.display_name, u.role, (SELECT MAX(d.last_sync_at) FROM devices d WHERE d.user_id = u.id)"
        f" AS last_sync_at FROM users u WHERE {ucond} AND u.disabled_at IS NULL"
        f" AND u.role IN ('practitioner', 'supervisor') ORDER BY u.display_name, u.id", uparams))
