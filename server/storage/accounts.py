"""Agencies, teams, staff accounts, enrolled devices and bearer tokens.

Rows come back as dicts of the table's columns (``None`` when there is no such row);
the services decide what they mean. Tokens are stored by their SHA-256 only.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .scope import user_condition
from .tx import Tx, one, translate

if TYPE_CHECKING:
    from ..access import Principal


def _insert(db: Tx, table: str, row: dict[str, Any]) -> None:
    """Raises ConstraintViolated for a taken key (a username, a device id), Busy when locked."""
    columns = ", ".join(row)
    try:
        db.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))
    except Exception as exc:
        mapped = translate(exc)
        if mapped is None:
            raise
        raise mapped from None


# -- agencies and teams -------------------------------------------------------------------


def insert_agency(db: Tx, row: dict[str, Any]) -> None:
    _insert(db, "agencies", row)


def agency_exists(db: Tx, agency_id: str) -> bool:
    return db.execute("SELECT 1 FROM agencies WHERE id = ?", [agency_id]).fetchone() is not None


def agency_ids_by_ref(db: Tx, ref: str) -> list[str]:
    """Agencies whose id or exact name is ``ref``."""
    return [r[0] for r in db.execute("SELECT id FROM agencies WHERE id = ? OR name = ?", [ref, ref]).fetchall()]


def agency_settings(db: Tx, agency_id: str) -> dict[str, Any] | None:
    """The agency's settings (``{}`` when it has none), or None when there is no such agency."""
    row = db.execute("SELECT settings FROM agencies WHERE id = ?", [agency_id]).fetchone()
    return json.loads(row[0] or "{}") if row else None


def set_agency_settings(db: Tx, agency_id: str, settings: dict[str, Any]) -> None:
    db.execute("UPDATE agencies SET settings = ? WHERE id = ?", [json.dumps(settings), agency_id])


def insert_team(db: Tx, row: dict[str, Any]) -> None:
    _insert(db, "teams", row)


def team_in_agency(db: Tx, team_id: str, agency_id: str) -> bool:
    return db.execute("SELECT 1 FROM teams WHERE id = ? AND agency_id = ?", [team_id, agency_id]).fetchone() is not None


# -- users --------------------------------------------------------------------------------


def insert_user(db: Tx, row: dict[str, Any]) -> None:
    _insert(db, "users", row)


def username_taken(db: Tx, username: str) -> bool:
    return db.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone() is not None


def user_by_username(db: Tx, username: str) -> dict[str, Any] | None:
    return one(db, "SELECT * FROM users WHERE username = ?", [username])


def user_by_id(db: Tx, user_id: str) -> dict[str, Any] | None:
    return one(db, "SELECT * FROM users WHERE id = ?", [user_id])


def user_agency(db: Tx, user_id: str) -> str | None:
    row = db.execute("SELECT agency_id FROM users WHERE id = ?", [user_id]).fetchone()
    return row[0] if row else None


def user_team(db: Tx, user_id: str) -> str | None:
    row = db.execute("SELECT team_id FROM users WHERE id = ?", [user_id]).fetchone()
    return row[0] if row else None


def user_visible(db: Tx, p: Principal, user_id: str) -> dict[str, Any] | None:
    """The account ``user_id`` when the principal may see it."""
    cond, params = user_condition(p)
    return one(db, f"SELECT * FROM users WHERE id = ? AND {cond}", [user_id, *params])


def users_visible(db: Tx, p: Principal) -> list[dict[str, Any]]:
    cond, params = user_condition(p)
    return list(db.query(f"SELECT * FROM users WHERE {cond} ORDER BY username", params))


def team_members(db: Tx, agency_id: str, team_id: str | None, *, whole_agency: bool) -> list[dict[str, Any]]:
    """id, display_name and role of a team's staff (or the whole agency's), by name."""
    if whole_agency:
        cond, params = "agency_id = ?", [agency_id]
    else:
        cond, params = "agency_id = ? AND team_id IS NOT DISTINCT FROM ?", [agency_id, team_id]
    return list(db.query(f"SELECT id, display_name, role FROM users WHERE {cond} ORDER BY display_name, id", params))


def set_display_name(db: Tx, user_id: str, display_name: str) -> None:
    db.execute("UPDATE users SET display_name = ? WHERE id = ?", [display_name, user_id])


def set_team(db: Tx, user_id: str, team_id: str) -> None:
    db.execute("UPDATE users SET team_id = ? WHERE id = ?", [team_id, user_id])


def set_disabled_at(db: Tx, user_id: str, disabled_at: str | None) -> None:
    db.execute("UPDATE users SET disabled_at = ? WHERE id = ?", [disabled_at, user_id])


def password_hash_of(db: Tx, user_id: str) -> str | None:
    row = db.execute("SELECT password_hash FROM users WHERE id = ?", [user_id]).fetchone()
    return row[0] if row else None


def set_password(db: Tx, user_id: str, password_hash: str, *, must_change: bool, changed_at: str) -> None:
    db.execute("UPDATE users SET password_hash = ?, must_change_password = ?, password_changed_at = ? WHERE id = ?",
               [password_hash, 1 if must_change else 0, changed_at, user_id])


def clear_lock(db: Tx, user_id: str) -> None:
    """Undo the lock of an account (from before sign-in back-off replaced locking)."""
    db.execute("UPDATE users SET locked_at = NULL, failed_sign_ins = 0 WHERE id = ?", [user_id])


# -- devices ------------------------------------------------------------------------------


def insert_device(db: Tx, row: dict[str, Any]) -> None:
    _insert(db, "devices", row)


def device_by_id(db: Tx, device_id: str) -> dict[str, Any] | None:
    return one(db, "SELECT * FROM devices WHERE id = ?", [device_id])


def device_agency(db: Tx, device_id: str) -> str | None:
    row = db.execute("SELECT agency_id FROM devices WHERE id = ?", [device_id]).fetchone()
    return row[0] if row else None


def enrolled_device(db: Tx, username: str, device_id: str) -> str | None:
    """``device_id`` when it is enrolled (not revoked) to the account ``username``."""
    row = db.execute("SELECT d.id FROM devices d JOIN users u ON u.id = d.user_id"
                     " WHERE u.username = ? AND d.id = ? AND d.revoked_at IS NULL", [username, device_id]).fetchone()
    return row[0] if row else None


def devices_of_user(db: Tx, user_id: str) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM devices WHERE user_id = ? ORDER BY enrolled_at", [user_id]))


def devices_visible(db: Tx, p: Principal) -> list[dict[str, Any]]:
    """Devices of every account the principal may see, oldest enrolment first."""
    cond, params = user_condition(p, "u")
    return list(db.query(
        f"SELECT d.* FROM devices d JOIN users u ON u.id = d.user_id WHERE {cond} ORDER BY d.enrolled_at", params))


def mark_device_revoked(db: Tx, device_id: str, revoked_at: str, revoked_by: str | None) -> None:
    db.execute("UPDATE devices SET revoked_at = ?, revoked_by = ? WHERE id = ?", [revoked_at, revoked_by, device_id])


# -- tokens -------------------------------------------------------------------------------


def insert_token(db: Tx, row: dict[str, Any]) -> None:
    _insert(db, "tokens", row)


def revoke_device_tokens(db: Tx, device_id: str, at: str) -> None:
    db.execute("UPDATE tokens SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL", [at, device_id])


def revoke_user_tokens(db: Tx, user_id: str, at: str) -> None:
    db.execute("UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", [at, user_id])


def revoke_user_tokens_except_device(db: Tx, user_id: str, device_id: str, at: str) -> int:
    """How many tokens were revoked."""
    return db.execute("UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND device_id != ? AND revoked_at IS NULL",
                      [at, user_id, device_id]).rowcount


def devices_with_live_tokens(db: Tx, user_id: str, now: str) -> list[str]:
    return [r[0] for r in db.execute(
        "SELECT DISTINCT device_id FROM tokens WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?",
        [user_id, now]).fetchall()]


def access_token_holder(db: Tx, digest: str, now: str) -> dict[str, Any] | None:
    """Who holds a live access token of an enabled account: the user's columns, the device
    (and whether it is revoked) and the token's scope."""
    return one(db, """
SELECT u.id AS user_id, u.username, u.display_name, u.role, u.agency_id, u.team_id,
       u.must_change_password, d.id AS device_id, d.revoked_at AS device_revoked_at, t.scope
FROM tokens t
JOIN users u ON u.id = t.user_id
JOIN devices d ON d.id = t.device_id
WHERE t.token_hash = ? AND t.kind = 'access' AND t.revoked_at IS NULL AND t.expires_at > ?
  AND u.disabled_at IS NULL
""", [digest, now])


def refresh_token(db: Tx, digest: str) -> dict[str, Any] | None:
    """A refresh token's row with its device's revocation and its user's disabling."""
    return one(db, "SELECT t.*, d.revoked_at AS device_revoked_at, u.disabled_at FROM tokens t"
                    " JOIN devices d ON d.id = t.device_id JOIN users u ON u.id = t.user_id"
                    " WHERE t.token_hash = ? AND t.kind = 'refresh'", [digest])


def token_state(db: Tx, digest: str) -> dict[str, Any] | None:
    """rotated_at and revoked_at of any token."""
    return one(db, "SELECT rotated_at, revoked_at FROM tokens WHERE token_hash = ?", [digest])


def mark_token_rotated(db: Tx, digest: str, at: str, replaced_by: str) -> None:
    db.execute("UPDATE tokens SET rotated_at = ?, replaced_by = ? WHERE token_hash = ?", [at, replaced_by, digest])


def session_times(db: Tx, digest: str) -> dict[str, Any] | None:
    """session_started_at and created_at of a refresh token."""
    return one(db, "SELECT session_started_at, created_at FROM tokens WHERE token_hash = ? AND kind = 'refresh'",
                [digest])


def set_session_bounds(db: Tx, digest: str, started_at: str, expires_at: str) -> None:
    db.execute("UPDATE tokens SET session_started_at = ?, expires_at = ? WHERE token_hash = ?",
               [started_at, expires_at, digest])
