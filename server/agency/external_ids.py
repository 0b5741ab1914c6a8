"""Agencies' own identifiers for our records (their NHS-number-free patient ids, case
numbers, the ids they filed our visits under). Values are encrypted; a keyed blind index
allows exact look-up without keeping them in clear."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

import msgspec
import sqlite_utils

from ..clock import now_iso
from ..errors import Conflict, FieldError
from ..ids import new_id
from ..storage.crypto import Keyring


class ExternalId(msgspec.Struct, frozen=True):
    system: str
    value: str


def _index(keyring: Keyring, entity: str, system: str, value: str) -> str:
    return keyring.blind_index(f"ext:{entity}:{system}", value)


def put(
    db: sqlite_utils.Database, keyring: Keyring, agency_id: str, entity: str, entity_id: str, ext: ExternalId,
    client_id: str | None = None,
) -> None:
    """Map an agency identifier to a record. The same identifier cannot name two records."""
    index = _index(keyring, entity, ext.system, ext.value)
    rows = list(db.query("SELECT entity_id FROM external_ids WHERE agency_id = ? AND entity = ? AND system = ?"
                         " AND value_index = ?", [agency_id, entity, ext.system, index]))
    if rows:
        if rows[0]["entity_id"] != entity_id:
            raise Conflict("That external identifier already names another record.",
                           errors=[FieldError("body.external_ids", "already used for another record")])
        return
    row_id = new_id()
    db["external_ids"].insert({
        "id": row_id, "agency_id": agency_id, "entity": entity, "entity_id": entity_id, "system": ext.system,
        "value": keyring.encrypt(ext.value.encode(), f"external_ids/{row_id}/value"), "value_index": index,
        "client_id": client_id, "created_at": now_iso()})


def lookup(db: sqlite_utils.Database, keyring: Keyring, agency_id: str, entity: str, ext: ExternalId,
           client_id: str | None = None) -> str | None:
    only = " AND client_id = ?" if client_id is not None else ""
    rows = list(db.query("SELECT entity_id FROM external_ids WHERE agency_id = ? AND entity = ? AND system = ?"
                         f" AND value_index = ?{only}",
                         [agency_id, entity, ext.system, _index(keyring, entity, ext.system, ext.value),
                          *([client_id] if client_id is not None else [])]))
    return rows[0]["entity_id"] if rows else None


def of(db: sqlite_utils.Database, keyring: Keyring, entity: str, ids: Iterable[str],
       client_id: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Each record's identifiers. Given ``client_id``, only those that client registered:
    one core system's ids (or its connector's) are never shown to another."""
    ids = list(set(ids))
    only = " AND client_id = ?" if client_id is not None else ""
    extra = [client_id] if client_id is not None else []
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for r in db.query(f"SELECT * FROM external_ids WHERE entity = ? AND entity_id IN ({marks}){only}"
                          " ORDER BY created_at, id", [entity, *chunk, *extra]):
            out[r["entity_id"]].append(
                {"system": r["system"], "value": keyring.decrypt(r["value"], f"external_ids/{r['id']}/value").decode()})
    return out
