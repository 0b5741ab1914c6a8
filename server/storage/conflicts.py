"""Conflicts as a reader in some scope sees them (conflicts are records, entity
``conflict``, written through ``records``; one field's or one record's open conflicts
are ``records.find_by`` queries)."""

from __future__ import annotations

from typing import Any

from ..access import Principal, family_condition
from .crypto import Keyring
from .records import ENTITIES, decode_row
from .tx import Tx


def open_for(db: Tx, keyring: Keyring, p: Principal) -> list[dict[str, Any]]:
    """Open conflicts of the families ``p`` may see now, oldest first, decoded."""
    entity = ENTITIES["conflict"]
    cond, params = family_condition(p, "family_id")
    rows = db.query(
        f"SELECT * FROM {entity.table} WHERE status = ? AND agency_id = ? AND {cond} AND deleted = 0"
        " ORDER BY created_at, id",
        ["open", p.agency_id, *params],
    )
    return [decode_row(keyring, entity, r) for r in rows]
