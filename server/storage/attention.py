"""Entries kept that need a person to look at them (``attention`` set: their visit or
person was deleted meanwhile, or they were recorded out of reach), in a reader's scope."""

from __future__ import annotations

from typing import Any

from ..access import Principal, family_condition
from .crypto import Keyring
from .records import ENTITIES, decode_row
from .tx import Tx

# The entities whose entries are kept with an ``attention`` rather than refused.
KEPT = ("observation", "addendum")


def _scope(p: Principal) -> tuple[str, list[Any]]:
    """The writer's own entries wherever they are now; a supervisor's team's; an admin's
    agency's."""
    if p.role == "practitioner":
        return "recorded_by = ?", [p.user_id]
    cond, params = family_condition(p, "family_id")
    if p.role == "supervisor":
        return (f"({cond} OR recorded_by IN (SELECT id FROM users WHERE team_id IS NOT DISTINCT FROM ?))",
                [*params, p.team_id])
    return cond, params


def kept_for(db: Tx, keyring: Keyring, p: Principal, entity_name: str) -> list[dict[str, Any]]:
    """Live entries of ``entity_name`` (one of ``KEPT``) with an attention, that ``p``
    sees, newest recorded first, decoded."""
    if entity_name not in KEPT:
        raise KeyError(f"{entity_name} entries are not kept with an attention")
    entity = ENTITIES[entity_name]
    cond, params = _scope(p)
    rows = db.query(
        f"SELECT * FROM {entity.table} WHERE attention IS NOT NULL AND agency_id = ? AND {cond} AND deleted = 0"
        " ORDER BY recorded_at DESC NULLS LAST, id",
        [p.agency_id, *params],
    )
    return [decode_row(keyring, entity, r) for r in rows]
