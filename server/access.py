"""Access control, in one place.

Who may see which family is decided only here, as SQL conditions that every query for a
family's records includes. Refusals for records outside a caller's reach are 404 (the
record's existence is itself information); refusals for actions a role may not take on
records it can see are 403.

- practitioner: families allocated to them (active allocation)
- supervisor: families of their team
- admin: every family of their agency
Nobody sees another agency's data.
"""

from __future__ import annotations

from typing import Any

import msgspec
import sqlite_utils

from .errors import Forbidden, NotFound
from .storage import records
from .storage.crypto import Keyring

ROLES = ("practitioner", "supervisor", "admin")


class Principal(msgspec.Struct, frozen=True):
    user_id: str
    username: str
    display_name: str
    role: str
    agency_id: str
    team_id: str | None
    device_id: str


def family_condition(p: Principal, family_col: str = "family_id") -> tuple[str, list[Any]]:
    """SQL condition (and parameters) true for rows whose family the principal may see.
    ``family_col`` names the column holding the family id in the queried table."""
    if p.role == "admin":
        return (f"{family_col} IN (SELECT id FROM families WHERE agency_id = ?)", [p.agency_id])
    if p.role == "supervisor":
        return (
            f"{family_col} IN (SELECT id FROM families WHERE agency_id = ? AND team_id IS ?)",
            [p.agency_id, p.team_id],
        )
    return (
        f"{family_col} IN (SELECT a.family_id FROM allocations a JOIN families f ON f.id = a.family_id"
        " WHERE a.practitioner_id = ? AND a.active = 1 AND a.deleted = 0 AND f.agency_id = ?)",
        [p.user_id, p.agency_id],
    )


def visible_family_ids(db: sqlite_utils.Database, p: Principal) -> set[str]:
    cond, params = family_condition(p, "id")
    return {r["id"] for r in db.query(f"SELECT id FROM families WHERE deleted = 0 AND {cond}", params)}


def require_family(db: sqlite_utils.Database, p: Principal, family_id: str) -> None:
    cond, params = family_condition(p, "id")
    if not list(db.query(f"SELECT 1 FROM families WHERE id = ? AND deleted = 0 AND {cond}", [family_id, *params])):
        raise NotFound("No such family.")


def load_in_reach(db: sqlite_utils.Database, keyring: Keyring, p: Principal, entity: str, record_id: str,
                  label: str) -> dict[str, Any]:
    """One record of a family the principal may see, decrypted; 404 otherwise."""
    row = records.get(db, keyring, entity, record_id)
    if row is None:
        raise NotFound(f"No such {label}.")
    require_family(db, p, row["family_id"])
    return row


def require_role(p: Principal, *roles: str) -> None:
    if p.role not in roles:
        raise Forbidden(f"This needs the {' or '.join(roles)} role.")


def user_condition(p: Principal, alias: str = "users") -> tuple[str, list[Any]]:
    """Which staff accounts a principal may see: admins their agency, supervisors their
    team, practitioners themselves."""
    if p.role == "admin":
        return f"{alias}.agency_id = ?", [p.agency_id]
    if p.role == "supervisor":
        return f"{alias}.agency_id = ? AND {alias}.team_id IS ?", [p.agency_id, p.team_id]
    return f"{alias}.id = ?", [p.user_id]
