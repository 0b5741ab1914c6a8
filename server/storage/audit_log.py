"""The audit trail's table: appending to the chain, reading it back, and its head.

Appending reads the chain's tail and inserts after it, which is only correct while this
connection holds the write lock: ``append`` must run inside a write transaction
(``Database.write``, ``BEGIN IMMEDIATE``), or inside ``write_lock`` which takes one for
this one entry. A deferred read transaction whose snapshot is stale is refused by SQLite
(SQLITE_BUSY_SNAPSHOT), so the chain can never fork.

The chain's counter (the highest ``seq`` ever handed out) lets ``verify`` see a removed
tail entry: on SQLite it is AUTOINCREMENT's row in ``sqlite_sequence``, on PostgreSQL the
column's sequence. Both are engine-specific by nature, so they sit in ``_counter`` and
``_advance_counter`` behind the engine's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .tx import Tx


def dialect(db: Tx) -> str:
    """The engine behind a transaction handle ("sqlite" unless it says otherwise)."""
    return getattr(db, "dialect", "sqlite")


def in_transaction(db: Tx) -> bool:
    return bool(db.conn.in_transaction)


@contextmanager
def write_lock(db: Tx, on_commit: Callable[[Tx], None], on_rollback: Callable[[Tx], None]) -> Iterator[None]:
    """The block in a write transaction: the caller's when one is open, else its own
    (committed at the end, then ``on_commit``; rolled back on any error, then ``on_rollback``)."""
    if in_transaction(db):
        yield
        return
    db.conn.execute("BEGIN IMMEDIATE" if dialect(db) == "sqlite" else "BEGIN")
    try:
        yield
    except BaseException:
        db.conn.execute("ROLLBACK")
        on_rollback(db)
        raise
    db.conn.execute("COMMIT")
    on_commit(db)


def _counter(db: Tx) -> int:
    if dialect(db) == "sqlite":
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'").fetchone()
        return row[0] if row else 0
    row = db.execute("SELECT last_value FROM pg_sequences WHERE schemaname || '.' || sequencename"
                     " = pg_get_serial_sequence('audit_events', 'seq')").fetchone()
    return row[0] if row and row[0] is not None else 0


def _advance_counter(db: Tx, seq: int) -> None:
    # SQLite's AUTOINCREMENT row follows an explicit seq by itself; a PostgreSQL sequence does not.
    if dialect(db) != "sqlite":
        db.execute("SELECT setval(pg_get_serial_sequence('audit_events', 'seq'), ?)", [seq])


def counter(db: Tx) -> int:
    """The highest seq ever handed out (0: none), even if that entry is gone."""
    return _counter(db)


def append(db: Tx, seal: Callable[[int, str | None], dict[str, Any]]) -> int:
    """Append one entry after the chain's tail. ``seal(seq, prev_hash)`` builds the full
    row (hash included) for the next seq and the tail's hash (None: the chain is empty).
    Returns the new entry's seq. Call with the write lock held (see module doc)."""
    tail = db.execute("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
    # AUTOINCREMENT never reuses a number, so a removed tail entry leaves a visible gap.
    seq = max(tail[0] if tail else 0, _counter(db)) + 1
    row = seal(seq, tail[1] if tail and tail[1] else None)
    columns = ", ".join(row)
    db.execute(f"INSERT INTO audit_events ({columns}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))
    _advance_counter(db, seq)
    return seq


def entries(db: Tx) -> Iterator[dict[str, Any]]:
    """Every entry, in chain order."""
    return iter(db.query("SELECT * FROM audit_events ORDER BY seq"))


def committed_head(db: Any) -> tuple[int, str, int]:
    """(seq, hash, change-log seq) of what this connection sees committed now. ``db`` is a
    transaction handle or a driver connection (both have ``execute``)."""
    tail = db.execute("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
    log_seq = db.execute("SELECT max(seq) FROM change_log").fetchone()[0] if _has_change_log(db) else None
    return (tail[0], tail[1] or "", log_seq or 0) if tail else (0, "", log_seq or 0)


def _has_change_log(db: Any) -> bool:
    if dialect(db) == "sqlite":
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'change_log'"
    else:
        sql = "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'change_log'"
    return db.execute(sql).fetchone() is not None


def family_history(db: Tx, agency_id: str, family_id: str, limit: int, before: int | None) -> list[dict[str, Any]]:
    """Entries about one family, newest first, with the acting user's name and role."""
    params: list[Any] = [agency_id, family_id]
    older = ""
    if before is not None:
        older = " AND a.seq < ?"
        params.append(before)
    params.append(limit)
    return list(db.query(
        "SELECT a.seq, a.at, a.action, a.entity, a.entity_id, a.purpose, a.user_id, a.device_id, a.client_id,"
        " u.display_name AS user_name, u.role AS user_role"
        " FROM audit_events a LEFT JOIN users u ON u.id = a.user_id"
        f" WHERE a.agency_id = ? AND a.family_id = ?{older} ORDER BY a.seq DESC LIMIT ?",
        params,
    ))


def person_history(db: Tx, agency_id: str, person_id: str, family_id: str) -> list[dict[str, Any]]:
    """Entries about a person or their family, oldest first, with the acting user's name."""
    return list(db.query(
        "SELECT a.seq, a.at, a.action, a.entity, a.entity_id, a.purpose, a.user_id, u.display_name AS user_name"
        " FROM audit_events a LEFT JOIN users u ON u.id = a.user_id"
        " WHERE a.agency_id = ? AND (a.entity_id = ? OR a.family_id = ?) ORDER BY a.seq",
        [agency_id, person_id, family_id]))


def alerts(db: Tx, agency_id: str, team_id: str | None, *, team_only: bool, before: int | None,
           limit: int) -> list[dict[str, Any]]:
    """Alert entries of an agency (``team_only``: of one team), newest first, before ``before``."""
    where, params = "a.alert = 1 AND a.agency_id = ?", [agency_id]
    if team_only:
        where += " AND a.team_id = ?"
        params.append(team_id)
    if before is not None:
        where += " AND a.seq < ?"
        params.append(before)
    return list(db.query(
        "SELECT a.seq, a.at, a.action, a.entity, a.entity_id, a.family_id, a.team_id, a.user_id,"
        " u.display_name AS user_name, a.device_id, a.client_id FROM audit_events a"
        f" LEFT JOIN users u ON u.id = a.user_id WHERE {where} ORDER BY a.seq DESC LIMIT ?",
        [*params, limit]))
