"""SQLite connections and transactions.

One connection per thread (Litestar runs sync handlers in a thread pool), WAL mode so
readers never wait for the writer, and ``BEGIN IMMEDIATE`` for writes so two writers queue
on the busy timeout instead of failing mid-transaction. After each commit the audit
trail's head is anchored outside the database (``server/audit_anchor.py``).

Files are private to the server's user: the folder 0700, the database 0600 before SQLite
first opens it (its ``-wal`` and ``-shm`` take the database file's mode).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from .. import audit
from .crypto import Keyring


def private_file(path: Path) -> None:
    """Create ``path`` empty if missing, and make it (and any SQLite sidecar) 0600.

    Never opens an existing database: closing any descriptor of a file drops every POSIX
    lock this process holds on it, so another process (a backup) would take the live WAL
    for its own and remove it. chmod does not open the file."""
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if p.exists():
            os.chmod(p, 0o600)


class Database:
    def __init__(self, path: Path, keyring: Keyring, anchor=None) -> None:
        self.path = path
        self.keyring = keyring
        # Where the audit trail's head is written after each commit (None: not anchored).
        self.anchor = anchor
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        private_file(path)

    def connect(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=True)
            conn.execute("PRAGMA journal_mode=WAL")
            private_file(self.path)  # the -wal and -shm exist now
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            db = sqlite_utils.Database(conn)
            # The audit trail's keyed hash chain needs the keyring wherever a write happens.
            db.keyring = self.keyring  # type: ignore[attr-defined]
            db.audit_anchor = self.anchor  # type: ignore[attr-defined]
            self._local.db = db
        return db

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction: committed when the block ends, rolled back on any error,
        so a failed request leaves nothing half-written."""
        db = self.connect()
        if db.conn.in_transaction:
            with db.atomic():
                yield db
            return
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.conn.execute("ROLLBACK")
            audit.after_rollback(db)
            raise
        else:
            db.conn.execute("COMMIT")
            audit.after_commit(db)

    @contextmanager
    def read(self) -> Iterator[sqlite_utils.Database]:
        """A consistent snapshot for multi-query reads."""
        db = self.connect()
        if db.conn.in_transaction:
            yield db
            return
        db.conn.execute("BEGIN")
        try:
            yield db
        finally:
            if db.conn.in_transaction:
                db.conn.execute("COMMIT")
            # A read that recorded an access (family-read) appended to the trail.
            audit.after_commit(db)

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None


def open_database(path: Path, keyring: Keyring, *, migrate: bool = True, anchor=None) -> Database:
    from .migrations import apply_migrations

    database = Database(path, keyring, anchor)
    if migrate:
        apply_migrations(database.connect())
    return database
