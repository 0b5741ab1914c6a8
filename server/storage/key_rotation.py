"""Key rotation's progress marker, its paging through encrypted columns, and the scan for
values still under a key.

Paging needs no cursor: a batch takes up to ``limit`` rows whose value is a ciphertext
*not* under the target key, and re-encrypting them under the target takes them out of the
next batch's reach, so a rotation killed between batches resumes by asking again. Rows
are named by their primary key (every swept table has one), never by an engine's row id.

Listing tables and columns is engine-specific by nature: SQLite answers from its schema
(sqlite-utils), PostgreSQL from ``information_schema``.
"""

from __future__ import annotations

from typing import Any

from .audit_log import dialect
from .tx import Tx

_HASH_COLUMNS = ("hash", "prev_hash")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- the progress marker ------------------------------------------------------------------


def unfinished(db: Tx) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM key_rotations WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1"))
    return rows[0] if rows else None


def start(db: Tx, target_kid: str, at: str) -> None:
    db.execute("INSERT INTO key_rotations (target_kid, started_at) VALUES (?, ?)", [target_kid, at])


def finish(db: Tx, rotation_id: int, at: str) -> None:
    db.execute("UPDATE key_rotations SET finished_at = ? WHERE id = ?", [at, rotation_id])


def advance(db: Tx, rotation_id: int, spec_index: int, reencrypted: int) -> None:
    """Record a batch done: the spec now being swept and how many values it re-encrypted."""
    db.execute("UPDATE key_rotations SET spec_index = ?, reencrypted = reencrypted + ? WHERE id = ?",
               [spec_index, reencrypted, rotation_id])


def reencrypted(db: Tx, rotation_id: int) -> int:
    row = db.execute("SELECT reencrypted FROM key_rotations WHERE id = ?", [rotation_id]).fetchone()
    return row[0] if row else 0


# -- the schema ---------------------------------------------------------------------------


def _tables(db: Tx) -> list[str]:
    if dialect(db) == "sqlite":
        return [t for t in db.table_names() if not t.startswith("sqlite_")]
    return [r[0] for r in db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        " AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]


def _text_columns(db: Tx, table: str) -> list[str]:
    if dialect(db) == "sqlite":
        return [c.name for c in db[table].columns if c.type.upper() in ("TEXT", "")]
    return [r[0] for r in db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = ? AND data_type IN ('text', 'character varying') ORDER BY ordinal_position",
        [table]).fetchall()]


def _primary_key(db: Tx, table: str) -> list[str]:
    if dialect(db) == "sqlite":
        return list(db[table].pks)
    return [r[0] for r in db.execute(
        "SELECT k.column_name FROM information_schema.table_constraints c"
        " JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name"
        " AND k.table_schema = c.table_schema AND k.table_name = c.table_name"
        " WHERE c.table_schema = current_schema() AND c.table_name = ? AND c.constraint_type = 'PRIMARY KEY'"
        " ORDER BY k.ordinal_position", [table]).fetchall()]


def has_column(db: Tx, table: str, column: str) -> bool:
    """Whether the schema has this table and column (other areas' tables may not exist yet)."""
    if table not in _tables(db):
        return False
    if dialect(db) == "sqlite":
        return column in db[table].columns_dict
    return db.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
                      " AND table_name = ? AND column_name = ?", [table, column]).fetchone() is not None


# -- paging -------------------------------------------------------------------------------


def not_under_key(db: Tx, table: str, column: str, kid: str, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` whole rows whose ``column`` holds a ciphertext under a key other than ``kid``."""
    order = ", ".join(_ident(c) for c in _primary_key(db, table))
    return list(db.query(
        f"SELECT * FROM {_ident(table)} WHERE {_ident(column)} LIKE ? AND {_ident(column)} NOT LIKE ?"
        f" ORDER BY {order} LIMIT ?", ["e1.%", f"e1.{kid}.%", limit]))


def replace_value(db: Tx, table: str, column: str, row: dict[str, Any], value: str) -> None:
    """Set ``column`` of the row named by ``row``'s primary key."""
    pk = _primary_key(db, table)
    where = " AND ".join(f"{_ident(c)} = ?" for c in pk)
    db.execute(f"UPDATE {_ident(table)} SET {_ident(column)} = ? WHERE {where}", [value, *(row[c] for c in pk)])


def values_under_keys(db: Tx, kids: list[str]) -> dict[str, int]:
    """Count values under each of ``kids`` in every text column of every table (the audit
    chain's hashes aside), as ``{"table.column (kid)": n}``."""
    out: dict[str, int] = {}
    if not kids:
        return out
    for table in _tables(db):
        for column in _text_columns(db, table):
            if column in _HASH_COLUMNS:
                continue
            for kid in kids:
                n = db.execute(f"SELECT count(*) FROM {_ident(table)} WHERE {_ident(column)} LIKE ?",
                               [f"e1.{kid}.%"]).fetchone()[0]
                if n:
                    out[f"{table}.{column} ({kid})"] = n
    return out
