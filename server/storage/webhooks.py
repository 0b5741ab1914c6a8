"""Webhook notices (``webhook_deliveries``), their attempts (``webhook_attempts``) and the
destination columns of ``integration_clients`` (URL, encrypted secrets, paused)."""

from __future__ import annotations

from typing import Any

from .tx import Tx, one

_DELIVERY_COLUMNS = ("id", "client_id", "agency_id", "up_to_seq", "status", "attempts", "round_attempts",
                     "next_attempt_at", "created_at", "delivered_at")


# -- notifying ----------------------------------------------------------------------------


def clients_to_notify(db: Tx) -> list[dict[str, Any]]:
    """Live clients with a URL whose destination is not paused (id, agency_id)."""
    return list(db.query("SELECT id, agency_id FROM integration_clients WHERE webhook_url IS NOT NULL"
                         " AND revoked_at IS NULL AND webhook_paused_at IS NULL"))


def has_pending(db: Tx, client_id: str) -> bool:
    return db.execute("SELECT 1 FROM webhook_deliveries WHERE client_id = ? AND status = 'pending' LIMIT 1",
                      [client_id]).fetchone() is not None


def last_notified_seq(db: Tx, client_id: str) -> int:
    """The change-log position the client was last told about (0: never)."""
    return int(db.execute("SELECT COALESCE(MAX(up_to_seq), 0) FROM webhook_deliveries WHERE client_id = ?",
                          [client_id]).fetchone()[0])


def agency_log_top(db: Tx, agency_id: str) -> int:
    """The agency's newest change-log position (0: none)."""
    return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM change_log WHERE agency_id = ?",
                          [agency_id]).fetchone()[0])


def insert_delivery(db: Tx, row: dict[str, Any]) -> None:
    db.execute(f"INSERT INTO webhook_deliveries ({', '.join(_DELIVERY_COLUMNS)})"
               f" VALUES ({', '.join('?' * len(_DELIVERY_COLUMNS))})", [row[c] for c in _DELIVERY_COLUMNS])


def due(db: Tx, now: str) -> list[dict[str, Any]]:
    """Pending notices due by ``now`` to live, unpaused destinations, oldest due first,
    each with its destination's URL and (encrypted) secrets."""
    return list(db.query(
        "SELECT d.*, c.webhook_url, c.webhook_secret, c.webhook_previous_secret, c.webhook_previous_until"
        " FROM webhook_deliveries d JOIN integration_clients c ON c.id = d.client_id"
        " WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND c.revoked_at IS NULL"
        " AND c.webhook_paused_at IS NULL AND c.webhook_url IS NOT NULL ORDER BY d.next_attempt_at", [now]))


def add_attempt(db: Tx, delivery_id: str, at: str, status_code: int | None, error: str | None) -> int:
    """Log one attempt; returns its number (1 for the first)."""
    number = int(db.execute("SELECT COUNT(*) FROM webhook_attempts WHERE delivery_id = ?",
                            [delivery_id]).fetchone()[0]) + 1
    db.execute("INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error) VALUES (?,?,?,?,?)",
               [delivery_id, number, at, status_code, error])
    return number


def mark_delivered(db: Tx, delivery_id: str, attempts: int, round_attempts: int, at: str) -> None:
    db.execute("UPDATE webhook_deliveries SET status = 'delivered', attempts = ?, round_attempts = ?,"
               " delivered_at = ? WHERE id = ?", [attempts, round_attempts, at, delivery_id])


def mark_failed(db: Tx, delivery_id: str, attempts: int, round_attempts: int) -> None:
    db.execute("UPDATE webhook_deliveries SET status = 'failed', attempts = ?, round_attempts = ? WHERE id = ?",
               [attempts, round_attempts, delivery_id])


def schedule_retry(db: Tx, delivery_id: str, attempts: int, round_attempts: int, next_at: str) -> None:
    db.execute("UPDATE webhook_deliveries SET attempts = ?, round_attempts = ?, next_attempt_at = ? WHERE id = ?",
               [attempts, round_attempts, next_at, delivery_id])


# -- the admin's view ---------------------------------------------------------------------


def deliveries(db: Tx, agency_id: str, status: str | None, limit: int) -> list[dict[str, Any]]:
    """The agency's notices, newest first, each with its client's name and paused time."""
    sql = ("SELECT d.*, c.name AS client_name, c.webhook_paused_at FROM webhook_deliveries d"
           " JOIN integration_clients c ON c.id = d.client_id WHERE d.agency_id = ?")
    args: list[Any] = [agency_id]
    if status:
        sql += " AND d.status = ?"
        args.append(status)
    return list(db.query(sql + " ORDER BY d.created_at DESC, d.id DESC LIMIT ?", [*args, limit]))


def attempts(db: Tx, delivery_id: str) -> list[dict[str, Any]]:
    """A notice's attempts in order (attempt, at, status_code, error)."""
    return list(db.query("SELECT attempt, at, status_code, error FROM webhook_attempts WHERE delivery_id = ?"
                         " ORDER BY attempt", [delivery_id]))


def delivery(db: Tx, delivery_id: str, agency_id: str | None = None) -> dict[str, Any] | None:
    if agency_id is None:
        return one(db, "SELECT * FROM webhook_deliveries WHERE id = ?", [delivery_id])
    return one(db, "SELECT * FROM webhook_deliveries WHERE id = ? AND agency_id = ?", [delivery_id, agency_id])


def restart(db: Tx, delivery_id: str, at: str) -> None:
    """Make a notice pending again from ``at``, with a fresh round of retries."""
    db.execute("UPDATE webhook_deliveries SET status = 'pending', round_attempts = 0, next_attempt_at = ?,"
               " delivered_at = NULL WHERE id = ?", [at, delivery_id])


# -- destinations -------------------------------------------------------------------------


def pause(db: Tx, client_id: str, at: str) -> None:
    db.execute("UPDATE integration_clients SET webhook_paused_at = ? WHERE id = ?", [at, client_id])


def unpause(db: Tx, client_id: str) -> None:
    db.execute("UPDATE integration_clients SET webhook_paused_at = NULL WHERE id = ?", [client_id])


def set_secrets(db: Tx, client_id: str, secret: str, previous: str, previous_until: str) -> None:
    """A new (encrypted) secret, keeping the old one signing until ``previous_until``."""
    db.execute("UPDATE integration_clients SET webhook_secret = ?, webhook_previous_secret = ?,"
               " webhook_previous_until = ? WHERE id = ?", [secret, previous, previous_until, client_id])


def set_secret(db: Tx, client_id: str, secret: str) -> None:
    db.execute("UPDATE integration_clients SET webhook_secret = ? WHERE id = ?", [secret, client_id])


def set_url(db: Tx, client_id: str, url: str) -> None:
    """Point the destination at ``url`` and resume it."""
    db.execute("UPDATE integration_clients SET webhook_url = ?, webhook_paused_at = NULL WHERE id = ?",
               [url, client_id])
