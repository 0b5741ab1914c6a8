"""Opaque bearer tokens, stored only as SHA-256 hashes (they are 256-bit random, so a
plain hash is enough: no guessing dictionary exists for them)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from ..clock import iso, now_iso, utcnow
from ..storage import accounts
from ..storage.tx import Tx


def new_token(prefix: str = "hs") -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    db: Tx, kind: str, user_id: str, device_id: str, ttl: timedelta, scope: str = "full"
) -> tuple[str, str]:
    """``scope`` 'upload': good for sync push and pull only (a revoked phone's tokens)."""
    token = new_token()
    expires_at = iso(utcnow() + ttl)
    accounts.insert_token(
        db,
        {
            "token_hash": token_hash(token),
            "kind": kind,
            "user_id": user_id,
            "device_id": device_id,
            "expires_at": expires_at,
            "created_at": now_iso(),
            "scope": scope,
        }
    )
    return token, expires_at


def revoke_device_tokens(db: Tx, device_id: str) -> None:
    accounts.revoke_device_tokens(db, device_id, now_iso())


def revoke_user_tokens(db: Tx, user_id: str) -> None:
    accounts.revoke_user_tokens(db, user_id, now_iso())


def revoke_user_tokens_except_device(db: Tx, user_id: str, device_id: str) -> int:
    """End every session of a user but the one on ``device_id``; returns how many tokens."""
    return accounts.revoke_user_tokens_except_device(db, user_id, device_id, now_iso())
