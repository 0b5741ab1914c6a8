"""Agencies' own identifiers for our records (``external_ids``): the value encrypted, found
by its keyed blind index (``server.agency.external_ids`` makes both)."""

from __future__ import annotations

from typing import Any, Iterable

from .tx import Tx

_COLUMNS = ("id", "agency_id", "entity", "entity_id", "system", "value", "value_index", "client_id", "created_at")
# Ids per IN (...) list: well under every engine's limit on bound parameters.
_CHUNK = 500


def named(db: Tx, agency_id: str, entity: str, system: str, value_index: str,
          client_id: str | None = None) -> str | None:
    """The record an identifier names (given ``client_id``, only as that client registered it)."""
    sql = ("SELECT entity_id FROM external_ids WHERE agency_id = ? AND entity = ? AND system = ?"
           " AND value_index = ?")
    args = [agency_id, entity, system, value_index]
    if client_id is not None:
        sql += " AND client_id = ?"
        args.append(client_id)
    row = db.execute(sql + " LIMIT 1", args).fetchone()
    return row[0] if row else None


def insert(db: Tx, row: dict[str, Any]) -> None:
    db.execute(f"INSERT INTO external_ids ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
               [row[c] for c in _COLUMNS])


def of(db: Tx, entity: str, ids: Iterable[str], client_id: str | None = None) -> list[dict[str, Any]]:
    """Every identifier of these records (given ``client_id``, only that client's), each
    record's oldest first."""
    ids = list(ids)
    only = " AND client_id = ?" if client_id is not None else ""
    extra = [client_id] if client_id is not None else []
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        out += db.query(f"SELECT * FROM external_ids WHERE entity = ? AND entity_id IN ({marks}){only}"
                        " ORDER BY created_at, id", [entity, *chunk, *extra])
    return out
