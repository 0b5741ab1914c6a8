"""Ops kept for later (``sync_held``) and the reviewers' view of them and of the
quarantine: a supervisor sees their team's workers' ops, an admin their agency's.

The op itself arrives encrypted by the caller (``sync/held.py`` decides what happens
to it) and is stored as it comes.
"""

from __future__ import annotations

from typing import Any

from ..access import Principal
from .tx import Tx


def _scope(p: Principal) -> tuple[str, list[Any]]:
    """Rows a reviewer sees: a supervisor their team's workers', an admin their agency's."""
    if p.role == "admin":
        return "h.agency_id = ?", [p.agency_id]
    return ("h.agency_id = ? AND h.user_id IN (SELECT id FROM users WHERE team_id IS NOT DISTINCT FROM ?)",
            [p.agency_id, p.team_id])


def hold(
    db: Tx, *, id: str, agency_id: str, op_id: str, client_seq: int, user_id: str | None, device_id: str | None,
    client_id: str | None, entity: str | None, entity_id: str | None, family_id: str | None, kind: str,
    reason: str, op: str, received_at: str,
) -> None:
    """Keep an op for later (``op`` encrypted); an op id already held stays as it was."""
    db.execute(
        "INSERT INTO sync_held (id, agency_id, op_id, client_seq, user_id, device_id, client_id, entity,"
        " entity_id, family_id, kind, reason, op, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(op_id) DO NOTHING",
        [id, agency_id, op_id, client_seq, user_id, device_id, client_id, entity, entity_id, family_id, kind,
         reason, op, received_at],
    )


def out_of_reach(db: Tx, family_ids: list[str]) -> list[dict[str, Any]]:
    """Ops still held because their family was out of reach, for these families: each
    writer's in the order they were made."""
    if not family_ids:
        return []
    marks = ",".join("?" * len(family_ids))
    # NULLS FIRST: the order SQLite gives by default, on every engine.
    return list(db.query(
        f"SELECT * FROM sync_held WHERE kind = ? AND status = ? AND family_id IN ({marks})"
        " ORDER BY user_id NULLS FIRST, device_id NULLS FIRST, client_seq, received_at",
        ["out-of-reach", "held", *family_ids],
    ))


def mark_applied(db: Tx, held_id: str, result: str, at: str) -> None:
    """The held op went through the merge (``result``: its answer, as JSON)."""
    db.execute("UPDATE sync_held SET status = ?, result = ?, decided_at = ? WHERE id = ?",
               ["applied", result, at, held_id])


def decline(db: Tx, held_id: str, user_id: str, at: str) -> None:
    db.execute("UPDATE sync_held SET status = ?, decided_by = ?, decided_at = ? WHERE id = ?",
               ["declined", user_id, at, held_id])


def set_decided_by(db: Tx, held_id: str, user_id: str) -> None:
    db.execute("UPDATE sync_held SET decided_by = ? WHERE id = ?", [user_id, held_id])


def list_for(db: Tx, p: Principal, status: str, limit: int) -> list[dict[str, Any]]:
    """Held ops the reviewer sees, newest first; ``status`` "all" for every status."""
    cond, params = _scope(p)
    if status != "all":
        cond, params = f"{cond} AND h.status = ?", [*params, status]
    return list(db.query(
        f"SELECT h.* FROM sync_held h WHERE {cond} ORDER BY h.received_at DESC, h.client_seq DESC LIMIT ?",
        [*params, limit]))


def get_for(db: Tx, p: Principal, held_id: str) -> dict[str, Any] | None:
    """One held op, if the reviewer sees it."""
    cond, params = _scope(p)
    rows = list(db.query(f"SELECT h.* FROM sync_held h WHERE h.id = ? AND {cond}", [held_id, *params]))
    return rows[0] if rows else None


def quarantined_for(db: Tx, p: Principal, limit: int) -> list[dict[str, Any]]:
    """Refused ops the reviewer sees, newest first (``op`` encrypted)."""
    cond, params = _scope(p)
    # Ops refused in one push share a time; their client_seq keeps the order they came in.
    return list(db.query(
        f"SELECT h.* FROM sync_quarantine h WHERE {cond}"
        " ORDER BY h.received_at DESC, h.client_seq DESC NULLS LAST, h.id DESC LIMIT ?", [*params, limit]))
