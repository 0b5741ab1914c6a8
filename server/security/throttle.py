"""Sign-in throttling (per account and per client address) and account lock-out.

Throttling is in memory, per server process: it slows a guesser down and answers 429 with
``Retry-After``. Lock-out is in the database (``users.failed_sign_ins``, ``locked_at``):
after ``lockout_after`` consecutive failures the account is locked until an admin unlocks
it (``POST /api/v1/users/{id}/unlock`` or ``hearthside user unlock``), so a slow guesser
spread over days and processes is still stopped.

Failures are recorded in their own transaction: the sign-in's transaction is rolled back
when it refuses, and the failure and its audit entry must survive that.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import sqlite_utils

from .. import audit
from ..auth import tokens
from ..clock import now_iso
from ..errors import Forbidden, RateLimited
from ..storage.db import Database


@dataclass(frozen=True)
class ThrottlePolicy:
    window_seconds: float = 900
    # Failed sign-ins from one address within the window before it must wait.
    per_address: int = 30
    # Consecutive failures for one username before each further try must wait...
    account_free_failures: int = 5
    # ...this long, doubling with each further failure, up to the cap.
    account_delay_seconds: float = 30
    account_delay_cap_seconds: float = 900
    # Consecutive failures that lock the account until an admin unlocks it.
    lockout_after: int = 10


class AccountLocked(Forbidden):
    slug, title = "account-locked", "This account is locked"


@dataclass
class _Account:
    failures: int = 0
    last: float = 0.0


@dataclass
class Throttle:
    policy: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    clock: object = time.monotonic

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._addresses: dict[str, deque[float]] = {}
        self._accounts: dict[str, _Account] = {}

    def _now(self) -> float:
        return self.clock()  # type: ignore[operator]

    def check(self, username: str, address: str) -> None:
        """Raise 429 (with Retry-After) when this address or account must wait."""
        now = self._now()
        p = self.policy
        with self._lock:
            hits = self._addresses.get(address)
            if hits:
                while hits and hits[0] <= now - p.window_seconds:
                    hits.popleft()
                if len(hits) >= p.per_address:
                    wait = hits[0] + p.window_seconds - now
                    raise _limited(wait, "Too many failed sign-ins from this address.")
            acct = self._accounts.get(username.lower())
            if acct and acct.failures >= p.account_free_failures:
                extra = acct.failures - p.account_free_failures
                delay = min(p.account_delay_seconds * (2**extra), p.account_delay_cap_seconds)
                wait = acct.last + delay - now
                if wait > 0:
                    raise _limited(wait, "Too many failed sign-ins for this account.")

    def failed(self, username: str, address: str) -> None:
        now = self._now()
        with self._lock:
            self._addresses.setdefault(address, deque()).append(now)
            acct = self._accounts.setdefault(username.lower(), _Account())
            acct.failures += 1
            acct.last = now

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._accounts.pop(username.lower(), None)

    def forget_account(self, username: str) -> None:
        self.succeeded(username)


def _limited(wait: float, detail: str) -> RateLimited:
    seconds = max(1, math.ceil(wait))
    return RateLimited(f"{detail} Try again in {seconds} seconds.", headers={"Retry-After": str(seconds)},
                       extra={"retry_after": seconds})


def refuse_if_locked(db: sqlite_utils.Database, username: str) -> None:
    rows = list(db.query("SELECT locked_at FROM users WHERE username = ?", [username]))
    if rows and rows[0]["locked_at"]:
        raise AccountLocked("This account is locked after repeated failed sign-ins. Ask an admin to unlock it.")


def record_failure(store: Database, policy: ThrottlePolicy, username: str, address: str) -> None:
    """Count a failed sign-in (and lock the account at the limit), in its own transaction."""
    with store.write() as db:
        rows = list(db.query("SELECT id, agency_id, failed_sign_ins, locked_at FROM users WHERE username = ?",
                             [username]))
        if not rows:
            # Unknown usernames are not stored (they may be mistyped passwords).
            audit.record(db, "sign-in-failed", agency_id=None, detail={"address": address, "known_user": False})
            return
        user = rows[0]
        count = int(user["failed_sign_ins"]) + 1
        db.execute("UPDATE users SET failed_sign_ins = ? WHERE id = ?", [count, user["id"]])
        audit.record(db, "sign-in-failed", agency_id=user["agency_id"], user_id=user["id"],
                     detail={"address": address, "consecutive_failures": count})
        if count >= policy.lockout_after and not user["locked_at"]:
            db.execute("UPDATE users SET locked_at = ? WHERE id = ?", [now_iso(), user["id"]])
            tokens.revoke_user_tokens(db, user["id"])
            audit.record(db, "account-locked", agency_id=user["agency_id"], user_id=user["id"], entity="user",
                         entity_id=user["id"], detail={"consecutive_failures": count})


def record_success(db: sqlite_utils.Database, username: str) -> None:
    db.execute("UPDATE users SET failed_sign_ins = 0 WHERE username = ? AND failed_sign_ins != 0", [username])


def unlock(db: sqlite_utils.Database, user: dict, actor: dict) -> None:
    db.execute("UPDATE users SET locked_at = NULL, failed_sign_ins = 0 WHERE id = ?", [user["id"]])
    audit.record(db, "account-unlocked", entity="user", entity_id=user["id"], **actor)


def client_address(request, trust_proxy: bool) -> str:
    if trust_proxy:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            # The proxy appends the address it saw: the last entry is the one to trust.
            return forwarded.split(",")[-1].strip()
    return request.client.host if request.client else "unknown"
