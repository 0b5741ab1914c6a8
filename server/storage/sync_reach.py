"""What the merge asks about where a write lands and who is writing: a family's state
and whether the writer may reach it, the records and staff a write refers to, and the
writer behind an actor (a user, an integration client)."""

from __future__ import annotations

from typing import Any, Literal

from ..access import Principal, family_condition
from .records import ENTITIES
from .tx import Tx

RecordState = Literal["live", "deleted", "missing"]


def family_reach(db: Tx, p: Principal, family_id: str) -> tuple[bool, bool] | None:
    """(deleted, in ``p``'s reach now) for a family of ``p``'s agency; None when the
    agency has no such family."""
    cond, params = family_condition(p, "id")
    # The condition is a value here, not a filter: a family out of reach is still told apart from none.
    row = db.execute(
        f"SELECT deleted, CASE WHEN {cond} THEN 1 ELSE 0 END FROM families WHERE id = ? AND agency_id = ?",
        [*params, family_id, p.agency_id],
    ).fetchone()
    return None if row is None else (bool(row[0]), bool(row[1]))


def family_visible(db: Tx, p: Principal, family_id: str) -> bool:
    """The family exists, is not deleted and ``p`` may see it now."""
    reach = family_reach(db, p, family_id)
    return reach is not None and reach[1] and not reach[0]


def was_allocated(db: Tx, family_id: str, practitioner_id: str) -> bool:
    """The practitioner had an allocation to the family, active or ended."""
    return db.execute("SELECT 1 FROM allocations WHERE family_id = ? AND practitioner_id = ?",
                      [family_id, practitioner_id]).fetchone() is not None


def record_state(db: Tx, entity_name: str, record_id: str, family_id: str) -> RecordState:
    """Whether a record of the family is live, deleted (a tombstone), or not there."""
    table = ENTITIES[entity_name].table
    row = db.execute(f"SELECT deleted FROM {table} WHERE id = ? AND family_id = ?", [record_id, family_id]).fetchone()
    if row is None:
        return "missing"
    return "deleted" if row[0] else "live"


def team_in_agency(db: Tx, team_id: str, agency_id: str) -> bool:
    return db.execute("SELECT 1 FROM teams WHERE id = ? AND agency_id = ?", [team_id, agency_id]).fetchone() is not None


def staff_member(db: Tx, user_id: str, agency_id: str) -> tuple[str, str | None] | None:
    """(role, team id) of an enabled account of the agency; None for anyone else."""
    row = db.execute("SELECT role, team_id FROM users WHERE id = ? AND agency_id = ? AND disabled_at IS NULL",
                     [user_id, agency_id]).fetchone()
    return None if row is None else (row[0], row[1])


def display_name(db: Tx, user_id: str) -> str | None:
    """A staff account's name (disabled accounts too); None when no account has the id."""
    row = db.execute("SELECT display_name FROM users WHERE id = ?", [user_id]).fetchone()
    return None if row is None else row[0]


def integration_client_agency(db: Tx, client_id: str) -> str | None:
    """The agency of an integration client that is not revoked."""
    row = db.execute("SELECT agency_id FROM integration_clients WHERE id = ? AND revoked_at IS NULL",
                     [client_id]).fetchone()
    return None if row is None else row[0]


def enabled_user(db: Tx, user_id: str) -> dict[str, Any] | None:
    """A staff account that is not disabled: id, username, display_name, role, agency_id, team_id."""
    rows = list(db.query("SELECT id, username, display_name, role, agency_id, team_id FROM users"
                         " WHERE id = ? AND disabled_at IS NULL", [user_id]))
    return rows[0] if rows else None
