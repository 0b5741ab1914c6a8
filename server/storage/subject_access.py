"""The records a subject access export and a retention review read: a family's records
of one kind (deleted ones too: they are still held), and the closed families of an agency."""

from __future__ import annotations

from typing import Any

from . import records
from .crypto import Keyring
from .tx import Tx


def family_records(db: Tx, keyring: Keyring, entity: str, family_id: str) -> list[dict[str, Any]]:
    """Every record of ``entity`` in the family, deleted or not, decrypted, oldest first."""
    return records.find(db, keyring, entity, "family_id = ?", [family_id], include_deleted=True)


def closed_families(db: Tx, keyring: Keyring, agency_id: str | None = None) -> list[dict[str, Any]]:
    """Families whose status is closed (of one agency, or all), deleted or not, by id."""
    where, params = "status = ?", ["closed"]
    if agency_id:
        where += " AND agency_id = ?"
        params.append(agency_id)
    return records.find(db, keyring, "family", where, params, include_deleted=True, order_by="id")
