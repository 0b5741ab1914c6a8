"""Absolute session lifetime: a sign-in starts a session; refreshing swaps tokens but never
extends the session past ``settings.session_max_days`` from that sign-in."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import sqlite_utils

from ..accounts.schemas import SessionRead
from ..auth.tokens import token_hash
from ..clock import iso, now_iso, parse_iso
from ..errors import Unauthorized
from ..settings import Settings


def _cap(db: sqlite_utils.Database, session: SessionRead, started_at: str, settings: Settings) -> SessionRead:
    end = iso(parse_iso(started_at) + timedelta(days=settings.session_max_days))
    expires = min(session.refresh_expires_at, end)
    db.execute("UPDATE tokens SET session_started_at = ?, expires_at = ? WHERE token_hash = ?",
               [started_at, expires, token_hash(session.refresh_token)])
    return msgspec.structs.replace(session, refresh_expires_at=expires)


def started(db: sqlite_utils.Database, session: SessionRead, settings: Settings) -> SessionRead:
    """Mark a new sign-in's refresh token as the start of a session."""
    return _cap(db, session, now_iso(), settings)


def session_start_of(db: sqlite_utils.Database, refresh_token: str, settings: Settings) -> str | None:
    """When the session of this refresh token began; refuses one past its lifetime."""
    rows = list(db.query("SELECT session_started_at, created_at FROM tokens WHERE token_hash = ? AND kind = 'refresh'",
                         [token_hash(refresh_token)]))
    if not rows:
        return None
    start = rows[0]["session_started_at"] or rows[0]["created_at"]
    if parse_iso(start) + timedelta(days=settings.session_max_days) <= parse_iso(now_iso()):
        raise Unauthorized("The session has reached its maximum length; sign in again.")
    return start


def refreshed(db: sqlite_utils.Database, session: SessionRead, started_at: str | None, settings: Settings) -> SessionRead:
    return _cap(db, session, started_at or now_iso(), settings)
