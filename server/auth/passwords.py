"""Password hashing with scrypt (memory-hard; in the standard library)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

# 2**15 * 8 * 128 bytes = 32 MiB per hash: expensive for a guesser, ~0.1 s for us.
_N, _R, _P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024

MIN_LENGTH = 12
DEMO_PASSWORD = "demo-password"


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAXMEM, dklen=32)
    return "scrypt${}${}${}${}${}".format(
        _N, _R, _P, base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), maxmem=_MAXMEM, dklen=32
    )
    return hmac.compare_digest(candidate, base64.b64decode(digest))


# A verified-against hash for unknown usernames, so a missing account takes as long to
# refuse as a wrong password (no username probing by timing).
_DUMMY = hash_password(os.urandom(8).hex())


def burn_time(password: str) -> None:
    verify_password(password, _DUMMY)


def password_problems(password: str, username: str = "") -> list[str]:
    """Why a new password is not acceptable (empty when it is)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > 256:
        problems.append("must be at most 256 characters")
    if password.lower() == DEMO_PASSWORD:
        problems.append("is the published demo password")
    if username and username.lower() in password.lower():
        problems.append("must not contain the username")
    if len(set(password)) < 5:
        problems.append("is too repetitive")
    return problems
