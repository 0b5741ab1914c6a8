"""The handle every repository function takes, and storage's own errors.

Services and the sync engine hold a ``Tx`` (one open transaction) and pass it to the
repository functions in ``server/storage/``; they never see SQL, a driver or its errors.
Storage raises ``ConstraintViolated`` (a unique, check or foreign-key rule of the schema
refused a write) and ``Busy`` (the database could not take the write now: locked, full,
serialization failure), whichever engine is behind it, so nobody parses a driver's message.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils

# One open transaction on the database (see ``db.Database.write`` / ``read``).
Tx = sqlite_utils.Database


def one(db: "Tx", sql: str, params: list | tuple = ()) -> dict | None:
    """The first row of a query as a dict, or None when it finds nothing."""
    return next(iter(db.query(sql, list(params))), None)


class StorageError(Exception):
    """Base of the errors storage raises in place of a driver's."""


class ConstraintViolated(StorageError):
    """A write broke a rule of the schema (unique, check, foreign key, not null)."""


class Busy(StorageError):
    """The database could not take the work now (locked, out of space, I/O)."""


def translate(exc: BaseException) -> StorageError | None:
    """The storage error for a driver's exception, or None when it is not the driver's."""
    if isinstance(exc, sqlite3.IntegrityError):
        return ConstraintViolated(type(exc).__name__)
    if isinstance(exc, sqlite3.OperationalError):
        return Busy(type(exc).__name__)
    return None


@contextmanager
def savepoint(db: Tx, name: str) -> Iterator[None]:
    """Run a block so that, if it raises, only its own writes are undone and the
    transaction around it carries on. Driver errors leave as storage errors."""
    db.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException as exc:
        db.execute(f"ROLLBACK TO {name}")
        db.execute(f"RELEASE {name}")
        mapped = translate(exc)
        if mapped is not None:
            raise mapped from None
        raise
    else:
        db.execute(f"RELEASE {name}")
