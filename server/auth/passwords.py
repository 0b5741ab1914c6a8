"""Password hashing with scrypt (memory-hard; in the standard library)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from zxcvbn import zxcvbn

# 2**15 * 8 * 128 bytes = 32 MiB per hash: expensive for a guesser, ~0.1 s for us.
# ``configure`` lowers it for test runs only (HEARTHSIDE_PASSWORD_HASH_LOG2_N); each hash
# records its own parameters, so verification never depends on the current setting.
_N, _R, _P = 2**15, 8, 1
_MAXMEM = 256 * 1024 * 1024


def configure(log2_n: int) -> None:
    global _N
    _N = 2**log2_n

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


_dummy: str | None = None


def burn_time(password: str) -> None:
    """Verify against a throwaway hash, so a missing account takes as long to refuse as a
    wrong password (no username probing by timing)."""
    global _dummy
    if _dummy is None or f"${_N}$" not in _dummy:
        _dummy = hash_password(os.urandom(8).hex())
    verify_password(password, _dummy)


# zxcvbn's score (0-4): 3 is "safely unguessable: moderate protection from offline
# slow-hash scenario"; below it a password falls to an online or a modest offline attack.
MIN_STRENGTH = 3
_ZXCVBN_MAX = 72  # zxcvbn refuses longer input; the first 72 characters decide anyway


def password_problems(password: str, username: str = "", other_words: tuple[str, ...] = ()) -> list[str]:
    """Why a new password is not acceptable (empty when it is). Common and guessable
    passwords are refused with zxcvbn (dictionaries of common passwords, names and words,
    keyboard patterns, dates, l33t substitutions), told the username, the person's name
    and the product's name."""
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
    if not problems:
        words = [w for w in (username, *other_words, "hearthside", "password", "safeguarding") if w]
        result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=words)
        if result["score"] < MIN_STRENGTH:
            hint = result["feedback"].get("warning") or "It would be guessed quickly."
            problems.append(f"is too easy to guess ({hint.rstrip('.')}); try three or four unrelated words")
    return problems


def temporary_password() -> str:
    """An admin reset's one-time password (80 random bits, easy to read out)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))
