"""Integration clients (``integration_clients``): a core system's credential for one agency.

Rows come back as dicts of the table's columns; the token is only ever its hash here and
the webhook secrets stay encrypted (``server.agency.clients`` decides what they mean).
"""

from __future__ import annotations

from typing import Any

from .tx import Tx, one

_COLUMNS = ("id", "agency_id", "name", "token_hash", "scopes", "created_at", "revoked_at", "token_prefix",
            "rotated_at", "last_used_at", "webhook_url", "webhook_secret", "identifier_system")


def insert(db: Tx, row: dict[str, Any]) -> None:
    """A new client; ``row`` holds every column of ``_COLUMNS``."""
    db.execute(f"INSERT INTO integration_clients ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
               [row[c] for c in _COLUMNS])


def get(db: Tx, client_id: str, agency_id: str | None = None) -> dict[str, Any] | None:
    """The client (revoked or not); given ``agency_id``, only that agency's."""
    if agency_id is None:
        return one(db, "SELECT * FROM integration_clients WHERE id = ?", [client_id])
    return one(db, "SELECT * FROM integration_clients WHERE id = ? AND agency_id = ?", [client_id, agency_id])


def set_token(db: Tx, client_id: str, token_hash: str, token_prefix: str, at: str) -> None:
    db.execute("UPDATE integration_clients SET token_hash = ?, token_prefix = ?, rotated_at = ? WHERE id = ?",
               [token_hash, token_prefix, at, client_id])


def revoke(db: Tx, client_id: str, at: str) -> None:
    """Revoke the client; its pending webhook notices are given up with it (never sent)."""
    db.execute("UPDATE integration_clients SET revoked_at = ? WHERE id = ?", [at, client_id])
    db.execute("UPDATE webhook_deliveries SET status = 'failed' WHERE client_id = ? AND status = 'pending'",
               [client_id])


def touch(db: Tx, client_id: str, at: str) -> None:
    """When the client last used its token (shown to the agency's admin)."""
    db.execute("UPDATE integration_clients SET last_used_at = ? WHERE id = ?", [at, client_id])


def listing(db: Tx, agency_id: str | None = None) -> list[dict[str, Any]]:
    """Every client (of one agency, or of all), oldest first."""
    if agency_id:
        return list(db.query("SELECT * FROM integration_clients WHERE agency_id = ? ORDER BY created_at",
                             [agency_id]))
    return list(db.query("SELECT * FROM integration_clients ORDER BY agency_id, created_at"))


def live(db: Tx, agency_id: str) -> list[dict[str, Any]]:
    """The agency's unrevoked clients (id, name, scopes), oldest first."""
    return list(db.query("SELECT id, name, scopes FROM integration_clients WHERE agency_id = ? AND revoked_at IS NULL"
                         " ORDER BY created_at", [agency_id]))


def by_token(db: Tx, token_hash: str) -> dict[str, Any] | None:
    """The live client holding a token, if its agency still exists."""
    rows = list(db.query(
        "SELECT c.* FROM integration_clients c JOIN agencies a ON a.id = c.agency_id"
        " WHERE c.token_hash = ? AND c.revoked_at IS NULL", [token_hash]))
    return rows[0] if rows else None


def agencies_matching(db: Tx, ref: str) -> list[str]:
    """Ids of the agencies whose id or exact name is ``ref`` (for the command line)."""
    return [r[0] for r in db.execute("SELECT id FROM agencies WHERE id = ? OR name = ?", [ref, ref]).fetchall()]
