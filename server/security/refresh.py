"""Refresh-token rotation with a grace for lost replies and detection of replays.

Each refresh spends the token presented and answers with a new access + refresh pair.

- **Lost reply**: the phone never got the new pair, so it tries the old token again. Within
  ``HEARTHSIDE_REFRESH_GRACE_SECONDS`` of the rotation, once, and only while the new
  refresh token is still unused, it gets the very same pair again (kept encrypted for the
  grace window only). The session goes on.
- **Replay**: the old token presented after that (a second retry, after the window, or
  after its successor was used) means two holders: every token of that device is revoked
  at once and the replay is audited as ``refresh-token-reused``. The phone signs in again;
  a thief's copy is dead.
- **Revoked device**: its refresh gets an *upload-only* pair (no escrow key), which opens
  sync push (held for its supervisor) and pull (upload, then wipe instructions) only, so a
  phone whose access token lapsed can still hand over its work and receive its wipe.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec
import sqlite_utils

from .. import audit
from ..accounts import service
from ..accounts.schemas import SessionRead
from ..auth import tokens
from ..clock import iso, now_iso, utcnow
from ..errors import DomainError, Unauthorized
from ..settings import Settings
from ..storage.crypto import Keyring
from . import sessions

ENDED = "The session has ended; sign in again."


class RefreshTokenReused(Unauthorized):
    slug, title = "refresh-token-reused", "This refresh token was already used"


def rotate(db: sqlite_utils.Database, keyring: Keyring, settings: Settings, presented: str) -> SessionRead | DomainError:
    """The new pair, or the refusal to raise *after* committing (a replay's revocation and
    its audit entry must survive the refusal). Call inside one write transaction."""
    digest = tokens.token_hash(presented)
    now = now_iso()
    db.execute("DELETE FROM refresh_grace WHERE expires_at <= ?", [now])
    rows = list(db.query(
        "SELECT t.*, d.revoked_at AS device_revoked_at, u.disabled_at FROM tokens t"
        " JOIN devices d ON d.id = t.device_id JOIN users u ON u.id = t.user_id"
        " WHERE t.token_hash = ? AND t.kind = 'refresh'", [digest]))
    if not rows or rows[0]["revoked_at"] or rows[0]["disabled_at"] or rows[0]["expires_at"] <= now:
        return Unauthorized(ENDED)
    row = rows[0]
    if row["rotated_at"]:
        return _retry_or_replay(db, keyring, row)
    started_at = sessions.session_start_of(db, presented, settings)
    user = next(db.query("SELECT * FROM users WHERE id = ?", [row["user_id"]]))
    device = next(db.query("SELECT * FROM devices WHERE id = ?", [row["device_id"]]))
    upload_only = bool(row["device_revoked_at"])
    session = service.new_session(db, keyring, settings, user, device, upload_only=upload_only)
    session = sessions.refreshed(db, session, started_at, settings)
    db.execute("UPDATE tokens SET rotated_at = ?, replaced_by = ? WHERE token_hash = ?",
               [now, tokens.token_hash(session.refresh_token), digest])
    if settings.refresh_grace_seconds > 0:
        db["refresh_grace"].insert({
            "token_hash": digest,
            "pair": keyring.encrypt(msgspec.json.encode(session), f"refresh_grace/{digest}/pair"),
            "expires_at": iso(utcnow() + timedelta(seconds=settings.refresh_grace_seconds)),
        })
    audit.record(db, "session-refreshed", agency_id=user["agency_id"], user_id=user["id"], device_id=device["id"],
                 detail={"scope": "upload"} if upload_only else None)
    return session


def _retry_or_replay(db: sqlite_utils.Database, keyring: Keyring, row: dict) -> SessionRead | DomainError:
    digest = row["token_hash"]
    grace = list(db.query("SELECT pair FROM refresh_grace WHERE token_hash = ?", [digest]))
    successor = list(db.query("SELECT rotated_at, revoked_at FROM tokens WHERE token_hash = ?", [row["replaced_by"]]))
    if grace and successor and not successor[0]["rotated_at"] and not successor[0]["revoked_at"]:
        db.execute("DELETE FROM refresh_grace WHERE token_hash = ?", [digest])  # once only
        audit.record(db, "session-refresh-retried", agency_id=_agency(db, row), user_id=row["user_id"],
                     device_id=row["device_id"])
        return msgspec.json.decode(keyring.decrypt(grace[0]["pair"], f"refresh_grace/{digest}/pair"), type=SessionRead)
    tokens.revoke_device_tokens(db, row["device_id"])
    db.execute("DELETE FROM refresh_grace WHERE token_hash IN (SELECT token_hash FROM tokens WHERE device_id = ?)",
               [row["device_id"]])
    audit.record(db, "refresh-token-reused", agency_id=_agency(db, row), user_id=row["user_id"],
                 device_id=row["device_id"], entity="device", entity_id=row["device_id"],
                 detail={"rotated_at": row["rotated_at"]})
    return RefreshTokenReused("This refresh token was already used, so every session on this device has been "
                              "ended. Sign in again.")


def _agency(db: sqlite_utils.Database, row: dict) -> str | None:
    found = list(db.query("SELECT agency_id FROM users WHERE id = ?", [row["user_id"]]))
    return found[0]["agency_id"] if found else None
