"""Agencies' own identifiers for our records (their NHS-number-free patient ids, case
numbers, the ids they filed our visits under). Values are encrypted; a keyed blind index
allows exact look-up without keeping them in clear."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

import msgspec

from ..clock import now_iso
from ..errors import Conflict, FieldError
from ..ids import new_id
from ..storage import external_ids as ext_rows
from ..storage.crypto import Keyring
from ..storage.tx import Tx


class ExternalId(msgspec.Struct, frozen=True):
    system: str
    value: str


def _index(keyring: Keyring, entity: str, system: str, value: str) -> str:
    return keyring.blind_index(f"ext:{entity}:{system}", value)


def put(
    db: Tx, keyring: Keyring, agency_id: str, entity: str, entity_id: str, ext: ExternalId,
    client_id: str | None = None,
) -> None:
    """Map an agency identifier to a record. The same identifier cannot name two records."""
    index = _index(keyring, entity, ext.system, ext.value)
    named = ext_rows.named(db, agency_id, entity, ext.system, index)
    if named is not None:
        if named != entity_id:
            raise Conflict("That external identifier already names another record.",
                           errors=[FieldError("body.external_ids", "already used for another record")])
        return
    row_id = new_id()
    ext_rows.insert(db, {
        "id": row_id, "agency_id": agency_id, "entity": entity, "entity_id": entity_id, "system": ext.system,
        "value": keyring.encrypt(ext.value.encode(), f"external_ids/{row_id}/value"), "value_index": index,
        "client_id": client_id, "created_at": now_iso()})


def lookup(db: Tx, keyring: Keyring, agency_id: str, entity: str, ext: ExternalId,
           client_id: str | None = None) -> str | None:
    return ext_rows.named(db, agency_id, entity, ext.system, _index(keyring, entity, ext.system, ext.value),
                          client_id)


def of(db: Tx, keyring: Keyring, entity: str, ids: Iterable[str],
       client_id: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Each record's identifiers. Given ``client_id``, only those that client registered:
    one core system's ids (or its connector's) are never shown to another."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in ext_rows.of(db, entity, set(ids), client_id):
        out[r["entity_id"]].append(
            {"system": r["system"], "value": keyring.decrypt(r["value"], f"external_ids/{r['id']}/value").decode()})
    return out
