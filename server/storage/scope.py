"""Who may see which family and which staff account, as conditions for storage's queries.

The rule itself is stated in ``server/access.py`` (practitioner: families allocated to
them; supervisor: their team's; admin: their agency's; never another agency's). These
are its SQL forms, for the repository functions that query a family's records; nothing
outside storage builds or sees them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .tx import Tx

if TYPE_CHECKING:
    from ..access import Principal


def family_condition(p: Principal, family_col: str = "family_id") -> tuple[str, list[Any]]:
    """SQL condition (and parameters) true for rows whose family the principal may see.
    ``family_col`` names the column holding the family id in the queried table."""
    if p.role == "admin":
        return (f"{family_col} IN (SELECT id FROM families WHERE agency_id = ?)", [p.agency_id])
    if p.role == "supervisor":
        return (
            f"{family_col} IN (SELECT id FROM families WHERE agency_id = ? AND team_id IS NOT DISTINCT FROM ?)",
            [p.agency_id, p.team_id],
        )
    return (
        f"{family_col} IN (SELECT a.family_id FROM allocations a JOIN families f ON f.id = a.family_id"
        " WHERE a.practitioner_id = ? AND a.active = 1 AND a.deleted = 0 AND f.agency_id = ?)",
        [p.user_id, p.agency_id],
    )


def user_condition(p: Principal, alias: str = "users") -> tuple[str, list[Any]]:
    """Which staff accounts a principal may see: admins their agency, supervisors their
    team, practitioners themselves."""
    if p.role == "admin":
        return f"{alias}.agency_id = ?", [p.agency_id]
    if p.role == "supervisor":
        return f"{alias}.agency_id = ? AND {alias}.team_id IS NOT DISTINCT FROM ?", [p.agency_id, p.team_id]
    return f"{alias}.id = ?", [p.user_id]


def visible_family_ids(db: Tx, p: Principal) -> set[str]:
    cond, params = family_condition(p, "id")
    return {r["id"] for r in db.query(f"SELECT id FROM families WHERE deleted = 0 AND {cond}", params)}


def family_in_reach(db: Tx, p: Principal, family_id: str) -> bool:
    """True when the family exists, is not deleted, and the principal may see it."""
    cond, params = family_condition(p, "id")
    return db.execute(f"SELECT 1 FROM families WHERE id = ? AND deleted = 0 AND {cond}",
                      [family_id, *params]).fetchone() is not None


def family_agency(db: Tx, family_id: str) -> str | None:
    """The agency a family belongs to (deleted or not), or None when there is no such family."""
    row = db.execute("SELECT agency_id FROM families WHERE id = ?", [family_id]).fetchone()
    return row[0] if row else None


def family_team(db: Tx, family_id: str) -> str | None:
    row = db.execute("SELECT team_id FROM families WHERE id = ?", [family_id]).fetchone()
    return row[0] if row else None
