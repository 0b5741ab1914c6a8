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

from .. import audit
from ..accounts import service
from ..accounts.schemas import SessionRead
from ..auth import tokens
from ..clock import iso, now_iso, utcnow
from ..errors import DomainError, Unauthorized
from ..settings import Settings
from ..storage import accounts, security
from ..storage.crypto import Keyring
from ..storage.tx import Tx
from . import sessions

ENDED = "The session has ended; sign in again."


class RefreshTokenReused(Unauthorized):
    slug, title = "refresh-token-reused", "This refresh token was already used"


def rotate(db: Tx, keyring: Keyring, settings: Settings, presented: str) -> SessionRead | DomainError:
    """The new pair, or the refusal to raise *after* committing (a replay's revocation and
    its audit entry must survive the refusal). Call inside one write transaction."""
    digest = tokens.token_hash(presented)
    now = now_iso()
    security.purge_expired_grace(db, now)
    row = accounts.refresh_token(db, digest)
    if row is None or row["revoked_at"] or row["disabled_at"] or row["expires_at"] <= now:
        return Unauthorized(ENDED)
    if row["rotated_at"]:
        return _retry_or_replay(db, keyring, row)
    started_at = sessions.session_start_of(db, presented, settings)
    user = accounts.user_by_id(db, row["user_id"])
    device = accounts.device_by_id(db, row["device_id"])
    upload_only = bool(row["device_revoked_at"])
    session = service.new_session(db, keyring, settings, user, device, upload_only=upload_only)
    session = sessions.refreshed(db, session, started_at, settings)
    accounts.mark_token_rotated(db, digest, now, tokens.token_hash(session.refresh_token))
    if settings.refresh_grace_seconds > 0:
        security.keep_grace(db, digest, keyring.encrypt(msgspec.json.encode(session), f"refresh_grace/{digest}/pair"),
                            iso(utcnow() + timedelta(seconds=settings.refresh_grace_seconds)))
    audit.record(db, "session-refreshed", agency_id=user["agency_id"], user_id=user["id"], device_id=device["id"],
                 detail={"scope": "upload"} if upload_only else None)
    return session


def _retry_or_replay(db: Tx, keyring: Keyring, row: dict) -> SessionRead | DomainError:
    digest = row["token_hash"]
    grace = security.grace_pair(db, digest)
    successor = accounts.token_state(db, row["replaced_by"]) if row["replaced_by"] else None
    if grace is not None and successor and not successor["rotated_at"] and not successor["revoked_at"]:
        security.drop_grace(db, digest)  # once only
        audit.record(db, "session-refresh-retried", agency_id=_agency(db, row), user_id=row["user_id"],
                     device_id=row["device_id"])
        return msgspec.json.decode(keyring.decrypt(grace, f"refresh_grace/{digest}/pair"), type=SessionRead)
    tokens.revoke_device_tokens(db, row["device_id"])
    security.drop_device_grace(db, row["device_id"])
    audit.record(db, "refresh-token-reused", agency_id=_agency(db, row), user_id=row["user_id"],
                 device_id=row["device_id"], entity="device", entity_id=row["device_id"],
                 detail={"rotated_at": row["rotated_at"]})
    return RefreshTokenReused("This refresh token was already used, so every session on this device has been "
                              "ended. Sign in again.")


def _agency(db: Tx, row: dict) -> str | None:
    return accounts.user_agency(db, row["user_id"])
