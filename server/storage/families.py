"""A family's records, found by what they belong to (decrypted through ``records``), for the
staff API, the agency write-back and the feed; and who may be allocated to a family."""

from __future__ import annotations

from typing import Any

from ..access import Principal, family_condition
from . import records
from .crypto import Keyring
from .tx import Tx

# How a family's records of each kind are listed wherever they are shown together.
_FAMILY_ORDER = {
    "visit": "planned_for DESC, id",
    "follow_up": "due_at, id",
    "flag": "created_at DESC, id",
    "observation": "recorded_at, id",
}


def of_family(db: Tx, keyring: Keyring, entity: str, family_id: str, *,
              include_deleted: bool = False) -> list[dict[str, Any]]:
    """The family's records of one kind, in the order they are shown."""
    return records.find(db, keyring, entity, "family_id = ?", [family_id],
                        order_by=_FAMILY_ORDER.get(entity, "created_at, id"), include_deleted=include_deleted)


def in_reach(db: Tx, keyring: Keyring, p: Principal) -> list[dict[str, Any]]:
    """The families ``p`` may see, by id."""
    cond, params = family_condition(p, "id")
    return records.find(db, keyring, "family", cond, params, order_by="id")


def exists(db: Tx, entity: str, record_id: str) -> bool:
    """Whether any record of this kind (deleted or not, any agency's) has the id."""
    table = records.ENTITIES[entity].table
    return db.execute(f"SELECT 1 FROM {table} WHERE id = ?", [record_id]).fetchone() is not None


def allocations(db: Tx, keyring: Keyring, family_id: str, practitioner_id: str, *,
                active_only: bool = False) -> list[dict[str, Any]]:
    """The (live) allocations of one practitioner to one family."""
    where = "family_id = ? AND practitioner_id = ?" + (" AND active = 1" if active_only else "")
    return records.find(db, keyring, "allocation", where, [family_id, practitioner_id])


def open_conflicts(db: Tx, keyring: Keyring, family_id: str) -> list[dict[str, Any]]:
    """The family's conflicts still waiting for a person to resolve them."""
    return records.find(db, keyring, "conflict", "family_id = ? AND status = 'open'", [family_id])


def is_practitioner(db: Tx, agency_id: str, user_id: str) -> bool:
    """Whether the user is one of the agency's practitioners (who alone may be allocated)."""
    return db.execute("SELECT 1 FROM users WHERE id = ? AND agency_id = ? AND role = 'practitioner'",
                      [user_id, agency_id]).fetchone() is not None
