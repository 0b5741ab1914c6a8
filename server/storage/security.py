"""Sign-in back-off counters, the refresh grace, and the lookups behind alerts.

``sign_in_backoff`` rows are keyed by keyed hashes (never a typed username or address);
``refresh_grace`` holds a just-issued token pair, encrypted, for the grace window only.
"""

from __future__ import annotations

from typing import Any

from .tx import Tx

# -- sign-in back-off ---------------------------------------------------------------------


def forget_idle_backoff(db: Tx, before: float) -> None:
    db.execute("DELETE FROM sign_in_backoff WHERE last_failure < ?", [before])


def backoff_rows(db: Tx, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The counters held for ``keys``, by key (missing keys have none)."""
    if not keys:
        return {}
    rows = db.query(f"SELECT * FROM sign_in_backoff WHERE key IN ({', '.join('?' * len(keys))})", keys)
    return {r["key"]: r for r in rows}


def restart_backoff_window(db: Tx, key: str, now: float) -> None:
    db.execute("UPDATE sign_in_backoff SET failures = 1, window_started = ?, last_failure = ? WHERE key = ?",
               [now, now, key])


def add_backoff_failure(db: Tx, key: str, now: float) -> None:
    db.execute("UPDATE sign_in_backoff SET failures = failures + 1, last_failure = ? WHERE key = ?", [now, key])


def start_backoff(db: Tx, key: str, account: str | None, now: float) -> None:
    db.execute("INSERT INTO sign_in_backoff (key, account, failures, window_started, last_failure)"
               " VALUES (?, ?, 1, ?, ?)", [key, account, now, now])


def clear_backoff(db: Tx, key: str) -> None:
    db.execute("DELETE FROM sign_in_backoff WHERE key = ?", [key])


def take_back_failure(db: Tx, key: str) -> None:
    db.execute("UPDATE sign_in_backoff SET failures = CASE WHEN failures > 1 THEN failures - 1 ELSE 0 END"
               " WHERE key = ?", [key])


def forget_backoff_account(db: Tx, account: str) -> None:
    """Every counter of one account: its own key and those of its (account, client) pairs."""
    db.execute("DELETE FROM sign_in_backoff WHERE account = ? OR key = ?", [account, account])


# -- refresh grace ------------------------------------------------------------------------


def purge_expired_grace(db: Tx, now: str) -> None:
    db.execute("DELETE FROM refresh_grace WHERE expires_at <= ?", [now])


def keep_grace(db: Tx, token_hash: str, pair: str, expires_at: str) -> None:
    db.execute("INSERT INTO refresh_grace (token_hash, pair, expires_at) VALUES (?, ?, ?)",
               [token_hash, pair, expires_at])


def grace_pair(db: Tx, token_hash: str) -> str | None:
    """The encrypted pair kept for a rotated refresh token, if still kept."""
    row = db.execute("SELECT pair FROM refresh_grace WHERE token_hash = ?", [token_hash]).fetchone()
    return row[0] if row else None


def drop_grace(db: Tx, token_hash: str) -> None:
    db.execute("DELETE FROM refresh_grace WHERE token_hash = ?", [token_hash])


def drop_device_grace(db: Tx, device_id: str) -> None:
    db.execute("DELETE FROM refresh_grace WHERE token_hash IN (SELECT token_hash FROM tokens WHERE device_id = ?)",
               [device_id])


# -- alerts -------------------------------------------------------------------------------


def flag_family(db: Tx, flag_id: str, agency_id: str) -> str | None:
    """The family a flag of this agency belongs to (None: no such flag here)."""
    row = db.execute("SELECT family_id FROM flags WHERE id = ? AND agency_id = ?", [flag_id, agency_id]).fetchone()
    return row[0] if row else None
