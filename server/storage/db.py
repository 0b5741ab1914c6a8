"""SQLite connections and transactions.

One connection per thread (Litestar runs sync handlers in a thread pool), WAL mode so
readers never wait for the writer, and ``BEGIN IMMEDIATE`` for writes so two writers queue
on the busy timeout instead of failing mid-transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from .crypto import Keyring


class Database:
    def __init__(self, path: Path, keyring: Keyring) -> None:
        self.path = path
        self.keyring = keyring
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)

    def connect(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=True)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            db = sqlite_utils.Database(conn)
            # The audit trail's keyed hash chain needs the keyring wherever a write happens.
            db.keyring = self.keyring  # type: ignore[attr-defined]
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
            raise
        else:
            db.conn.execute("COMMIT")

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

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None


def open_database(path: Path, keyring: Keyring, *, migrate: bool = True) -> Database:
    from .migrations import apply_migrations

    database = Database(path, keyring)
    if migrate:
        apply_migrations(database.connect())
    return database
