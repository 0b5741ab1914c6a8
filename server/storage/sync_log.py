"""Sync's own bookkeeping: the change log read as a cursor, the log's identity, each
device's last ``client_seq``, the answer first given to each op id, and the quarantine.

The change log is written by the record layer (``records``); here it is only read. Its
``seq`` is the cursor a phone pages by (``sync/pull.py``). Values that may hold personal
data (an op's stored answer, a quarantined op) arrive encrypted by the caller and are
stored as they come.
"""

from __future__ import annotations

from typing import Any

from ..access import Principal, family_condition
from .tx import Tx

# The columns of a change log entry that a page of changes carries.
_CHANGE = "seq, entity, entity_id, family_id, version, op, changes"


# -- the change log ------------------------------------------------------------------------


def log_epoch(db: Tx) -> str:
    """The change log's identity ("" on a database from before it had one)."""
    row = db.execute("SELECT value FROM sync_meta WHERE key = ?", ["log_epoch"]).fetchone()
    return str(row[0]) if row else ""


def high_seq(db: Tx) -> int:
    """The last cursor value given out (0 for an empty log)."""
    return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM change_log").fetchone()[0])


def changes_after(db: Tx, p: Principal, cursor: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` entries after ``cursor`` of the families ``p`` may see now, in
    cursor order (``changes`` still encrypted)."""
    cond, params = family_condition(p, "family_id")
    return list(db.query(
        f"SELECT {_CHANGE} FROM change_log WHERE agency_id = ? AND seq > ? AND {cond} ORDER BY seq LIMIT ?",
        [p.agency_id, cursor, *params, limit],
    ))


def allocation_events(db: Tx, agency_id: str, practitioner_id: str, after: int, upto: int) -> dict[str, int]:
    """Family id -> the seq of the last change in (after, upto] to one of the
    practitioner's allocations (made, ended or restored)."""
    rows = db.execute(
        "SELECT c.family_id, MAX(c.seq) FROM change_log c JOIN allocations a ON a.id = c.entity_id"
        " WHERE c.agency_id = ? AND c.seq > ? AND c.seq <= ? AND c.entity = ? AND a.practitioner_id = ?"
        " GROUP BY c.family_id",
        [agency_id, after, upto, "allocation", practitioner_id],
    ).fetchall()
    return {family_id: int(seq) for family_id, seq in rows}


def family_updates(db: Tx, agency_id: str, after: int, upto: int) -> list[dict[str, Any]]:
    """Updates of families in (after, upto], in cursor order (``changes`` encrypted)."""
    return list(db.query(
        f"SELECT {_CHANGE} FROM change_log WHERE agency_id = ? AND seq > ? AND seq <= ? AND entity = ? AND op = ?"
        " ORDER BY seq",
        [agency_id, after, upto, "family", "update"],
    ))


def family_deletions(db: Tx, agency_id: str, after: int, upto: int) -> dict[str, int]:
    """Family id -> seq of its deletion, for families deleted in (after, upto]."""
    rows = db.execute(
        "SELECT family_id, MAX(seq) FROM change_log WHERE agency_id = ? AND seq > ? AND seq <= ?"
        " AND entity = ? AND op = ? GROUP BY family_id",
        [agency_id, after, upto, "family", "delete"],
    ).fetchall()
    return {family_id: int(seq) for family_id, seq in rows}


def first_seq(db: Tx, family_id: str) -> int | None:
    """The seq of a family's first change (None: it has none)."""
    row = db.execute("SELECT MIN(seq) FROM change_log WHERE family_id = ?", [family_id]).fetchone()
    return None if row is None or row[0] is None else int(row[0])


# -- devices -------------------------------------------------------------------------------


def last_client_seq(db: Tx, device_id: str) -> int:
    """The highest ``client_seq`` received from the device (0: none yet)."""
    row = db.execute("SELECT last_client_seq FROM sync_devices WHERE device_id = ?", [device_id]).fetchone()
    return int(row[0]) if row else 0


def set_last_client_seq(db: Tx, device_id: str, client_seq: int, at: str) -> None:
    db.execute(
        "INSERT INTO sync_devices (device_id, last_client_seq, updated_at) VALUES (?,?,?)"
        " ON CONFLICT(device_id) DO UPDATE SET last_client_seq = excluded.last_client_seq,"
        " updated_at = excluded.updated_at",
        [device_id, client_seq, at],
    )


def mark_device_synced(db: Tx, device_id: str, at: str) -> None:
    db.execute("UPDATE devices SET last_sync_at = ? WHERE id = ?", [at, device_id])


# -- the answer given to each op -----------------------------------------------------------


def known_op_ids(db: Tx, op_ids: list[str]) -> set[str]:
    """Those of ``op_ids`` that were answered before."""
    if not op_ids:
        return set()
    marks = ",".join("?" * len(op_ids))
    return {r[0] for r in db.execute(f"SELECT op_id FROM sync_ops WHERE op_id IN ({marks})", op_ids).fetchall()}


def op_answer(db: Tx, op_id: str) -> dict[str, Any] | None:
    """The answer first given to an op id, with its writer (``value`` still encrypted)."""
    rows = list(db.query(
        "SELECT op_id, user_id, device_id, client_id, client_seq, status, version, field_version, conflict_id,"
        " reason, value FROM sync_ops WHERE op_id = ?", [op_id]))
    return rows[0] if rows else None


def remember_op(
    db: Tx, *, op_id: str, agency_id: str, user_id: str | None, device_id: str | None, client_id: str | None,
    client_seq: int, status: str, version: int | None, field_version: int | None, conflict_id: str | None,
    reason: str | None, value: str | None, received_at: str,
) -> None:
    """Keep the answer given to an op id; a held op's id is answered again when it applies."""
    db.execute(
        "INSERT INTO sync_ops (op_id, agency_id, user_id, device_id, client_id, client_seq, status, version,"
        " field_version, conflict_id, reason, value, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(op_id) DO UPDATE SET status = excluded.status, version = excluded.version,"
        " field_version = excluded.field_version, conflict_id = excluded.conflict_id,"
        " reason = excluded.reason, value = excluded.value",
        [op_id, agency_id, user_id, device_id, client_id, client_seq, status, version, field_version, conflict_id,
         reason, value, received_at],
    )


def quarantine(
    db: Tx, *, id: str, agency_id: str, op_id: str | None, client_seq: int | None, user_id: str | None,
    device_id: str | None, client_id: str | None, entity: str | None, entity_id: str | None,
    family_id: str | None, reason: str, op: str, received_at: str,
) -> None:
    """Keep a refused op (``op`` encrypted) for its writer's reviewers."""
    db.execute(
        "INSERT INTO sync_quarantine (id, agency_id, op_id, client_seq, user_id, device_id, client_id, entity,"
        " entity_id, family_id, reason, op, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [id, agency_id, op_id, client_seq, user_id, device_id, client_id, entity, entity_id, family_id, reason, op,
         received_at],
    )
