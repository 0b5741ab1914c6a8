"""Absolute session lifetime: a sign-in starts a session; refreshing swaps tokens but never
extends the session past ``settings.session_max_days`` from that sign-in."""

from __future__ import annotations

from datetime import timedelta

import msgspec
from ..accounts.schemas import SessionRead
from ..auth.tokens import token_hash
from ..clock import iso, now_iso, parse_iso
from ..errors import Unauthorized
from ..settings import Settings
from ..storage import accounts
from ..storage.tx import Tx


def _cap(db: Tx, session: SessionRead, started_at: str, settings: Settings) -> SessionRead:
    end = iso(parse_iso(started_at) + timedelta(days=settings.session_max_days))
    expires = min(session.refresh_expires_at, end)
    accounts.set_session_bounds(db, token_hash(session.refresh_token), started_at, expires)
    return msgspec.structs.replace(session, refresh_expires_at=expires)


def started(db: Tx, session: SessionRead, settings: Settings) -> SessionRead:
    """Mark a new sign-in's refresh token as the start of a session."""
    return _cap(db, session, now_iso(), settings)


def session_start_of(db: Tx, refresh_token: str, settings: Settings) -> str | None:
    """When the session of this refresh token began; refuses one past its lifetime."""
    times = accounts.session_times(db, token_hash(refresh_token))
    if times is None:
        return None
    start = times["session_started_at"] or times["created_at"]
    if parse_iso(start) + timedelta(days=settings.session_max_days) <= parse_iso(now_iso()):
        raise Unauthorized("The session has reached its maximum length; sign in again.")
    return start


def refreshed(db: Tx, session: SessionRead, started_at: str | None, settings: Settings) -> SessionRead:
    return _cap(db, session, started_at or now_iso(), settings)
