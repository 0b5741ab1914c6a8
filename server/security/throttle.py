"""Sign-in back-off that slows a guesser without letting anyone lock a person out.

OWASP ASVS 4 (2.2.1) asks for controls against brute force *and* against lock-out
attacks: progressive delays, not a lock an attacker can set off. Each attempt counts
against keys held in the database (``sign_in_backoff``, shared by every server process):

- **account + address**, or **account + enrolled device** when the sign-in names a device
  already enrolled to that account (a "device cookie"): after ``free_failures`` failures
  each further try waits ``delay_seconds``, doubling up to ``delay_cap_seconds``;
- **address** (untrusted clients only): ``per_address`` failures across accounts within
  ``address_window_seconds``;
- **account** (untrusted clients only): ``per_account`` failures within
  ``account_window_seconds`` from all addresses together (ASVS: at most 100 an hour).

A sign-in from the person's own enrolled phone is counted on its own key only, so a
guesser elsewhere (however many addresses) never stops them signing in there.

Atomic against parallel attempts: ``reserve`` counts the attempt as a failure *before* the
password is checked, in one short write transaction, so thirty parallel guesses cannot
all pass the check first; a success takes its count back. Unknown usernames are keyed
exactly like known ones, so the answer (401, or 429 with the same body) never says
whether an account exists. Keys are keyed hashes: no typed username or address is stored.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from .. import audit
from ..errors import RateLimited
from ..storage import accounts, security
from ..storage.crypto import Keyring
from ..storage.tx import Tx

THROTTLED = "Too many failed sign-ins. Wait before trying again."


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5
    delay_seconds: float = 30
    delay_cap_seconds: float = 900
    per_address: int = 30
    address_window_seconds: float = 900
    per_account: int = 100
    account_window_seconds: float = 3600
    # Keys idle this long are forgotten.
    forget_after_seconds: float = 86_400


@dataclass(frozen=True)
class Attempt:
    """The keys one sign-in attempt counts against."""

    account: str
    progressive: str
    # (key, limit, window): empty for a sign-in from an enrolled device.
    windowed: tuple[tuple[str, int, float], ...]


@dataclass
class Throttle:
    policy: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    clock: object = time.time

    def _now(self) -> float:
        return self.clock()  # type: ignore[operator]

    def attempt(self, keyring: Keyring, username: str, address: str, trusted_device: str | None) -> Attempt:
        p = self.policy
        account = keyring.blind_index("sign-in-account", username.strip().lower())
        if trusted_device:
            return Attempt(account, keyring.blind_index("sign-in-device", f"{account}:{trusted_device}"), ())
        return Attempt(
            account,
            keyring.blind_index("sign-in-pair", f"{account}:{address}"),
            ((account, p.per_account, p.account_window_seconds),
             (keyring.blind_index("sign-in-address", address), p.per_address, p.address_window_seconds)),
        )

    def reserve(self, db: Tx, attempt: Attempt) -> None:
        """Raise 429 (with Retry-After) when this attempt must wait; otherwise count it as
        a failure. Call inside one write transaction."""
        now, p = self._now(), self.policy
        security.forget_idle_backoff(db, now - p.forget_after_seconds)
        rows = security.backoff_rows(db, [attempt.progressive, *[k for k, _, _ in attempt.windowed]])
        wait = 0.0
        row = rows.get(attempt.progressive)
        if row and row["failures"] >= p.free_failures:
            delay = min(p.delay_seconds * 2 ** (row["failures"] - p.free_failures), p.delay_cap_seconds)
            wait = max(wait, row["last_failure"] + delay - now)
        for key, limit, window in attempt.windowed:
            row = rows.get(key)
            if row and now - row["window_started"] < window and row["failures"] >= limit:
                wait = max(wait, row["window_started"] + window - now)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise RateLimited(THROTTLED, headers={"Retry-After": str(seconds)}, extra={"retry_after": seconds})
        self._count(db, attempt.progressive, attempt.account, None, now, rows.get(attempt.progressive))
        for key, _, window in attempt.windowed:
            owner = attempt.account if key == attempt.account else None
            self._count(db, key, owner, window, now, rows.get(key))

    @staticmethod
    def _count(db: Tx, key: str, account: str | None, window: float | None, now: float, row) -> None:
        if row and window is not None and now - row["window_started"] >= window:
            security.restart_backoff_window(db, key, now)
        elif row:
            security.add_backoff_failure(db, key, now)
        else:
            security.start_backoff(db, key, account, now)

    def succeeded(self, db: Tx, attempt: Attempt) -> None:
        """The password was right: clear this client's delay and take back the count."""
        security.clear_backoff(db, attempt.progressive)
        for key, _, _ in attempt.windowed:
            security.take_back_failure(db, key)

    def forget_account(self, db: Tx, keyring: Keyring, username: str) -> None:
        """Clear every delay on this account (an admin's 'unlock', e.g. during an attack)."""
        account = keyring.blind_index("sign-in-account", username.strip().lower())
        security.forget_backoff_account(db, account)


def unlock(db: Tx, keyring: Keyring, user: dict, actor: dict) -> None:
    Throttle().forget_account(db, keyring, user["username"])
    accounts.clear_lock(db, user["id"])
    audit.record(db, "account-unlocked", entity="user", entity_id=user["id"], **actor)


def client_address(request) -> str:
    """The address uvicorn decided: the peer, or what a listed proxy forwarded when
    HEARTHSIDE_TRUST_PROXY is on (see security/serving.py). The app drops forwarded headers
    before any handler, so nothing here may read one."""
    return request.client.host if request.client else "unknown"
