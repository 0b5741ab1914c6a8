"""A SQLite database file's online copy, its checks, and a restored copy's new log epoch.

Everything here is SQLite-only by nature: it works on database *files* (SQLite's online
backup API, ``PRAGMA integrity_check``, ``sqlite_master``), never through a transaction
handle. A PostgreSQL deployment backs up with its own tools (pg_dump, or the platform's
point-in-time recovery).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .audit_log import committed_head


@dataclass
class Copied:
    """What an online copy holds."""

    integrity: str
    tables: dict[str, int] = field(default_factory=dict)
    migrations: list[str] = field(default_factory=list)
    key_ids: list[str] = field(default_factory=list)


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [t for (t,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def _key_ids(conn: sqlite3.Connection) -> list[str]:
    """Key ids of every ciphertext (``e1.<kid>.…``) in any text column."""
    kids: set[str] = set()
    for table in _tables(conn):
        for col in conn.execute(f'PRAGMA table_info("{table}")'):
            if col[2].upper() != "TEXT":
                continue
            name = col[1]
            for (kid,) in conn.execute(
                f'SELECT DISTINCT substr("{name}", 4, instr(substr("{name}", 4), \'.\') - 1) FROM "{table}"'
                f' WHERE "{name}" LIKE ?', ["e1.%"]
            ):
                kids.add(kid)
    return sorted(kids)


def online_copy(db_path: Path, partial: Path) -> Copied:
    """Copy the live database at ``db_path`` into ``partial`` (created 0600) as one
    consistent snapshot while writers keep going, and check the copy."""
    src = sqlite3.connect(db_path, timeout=30)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        dst = sqlite3.connect(partial)
        try:
            # pages=-1: the whole database in one step, so the copy is one snapshot even
            # while devices keep writing.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")
            tables = _tables(dst)
            counts = {t: dst.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
            migrations = [r[0] for r in dst.execute("SELECT name FROM _sqlite_migrations ORDER BY applied_at")] \
                if "_sqlite_migrations" in counts else []
            integrity = dst.execute("PRAGMA integrity_check").fetchone()[0]
            return Copied(integrity, counts, migrations, _key_ids(dst))
        finally:
            dst.close()
    finally:
        src.close()


def integrity_of(path: Path) -> str:
    """SQLite's integrity check of a database file ("ok" when sound)."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def new_log_epoch(conn: sqlite3.Connection) -> str | None:
    """Give a restored database's change log a new identity. A backup from before the log
    had one gets one from its migration when the server starts, new all the same."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sync_meta'").fetchone():
        return None
    epoch = str(uuid.uuid4())
    with conn:
        conn.execute("INSERT INTO sync_meta (key, value) VALUES (?, ?)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value", ["log_epoch", epoch])
    return epoch


def check_and_renew_epoch(path: Path) -> tuple[str, str | None]:
    """The integrity check of the database file at ``path`` ("ok" when sound) and, when
    sound, its change log's new epoch (see ``new_log_epoch``)."""
    conn = sqlite3.connect(path)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        return ok, new_log_epoch(conn) if ok == "ok" else None
    finally:
        conn.close()


def committed_head_of_file(path: Path) -> tuple[int, str, int]:
    """(audit seq, audit hash, change-log seq) committed in the database file at ``path``."""
    conn = sqlite3.connect(path)
    try:
        return committed_head(conn)
    finally:
        conn.close()
