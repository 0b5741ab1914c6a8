"""Standard Webhooks (https://www.standardwebhooks.com): a short notice to a core system that
new feed items may exist — never the items themselves, so nothing personal travels this way.

Each notice carries ``webhook-id`` (the delivery id, the same on every retry, so a receiver
can drop repeats), ``webhook-timestamp`` (unix seconds) and ``webhook-signature``: a
space-separated list of ``v1,<base64 HMAC-SHA256 over "id.timestamp.body">``, one per live
secret (two during a rotation's overlap). Secrets are ``whsec_<base64 key>``, shown once and
stored encrypted. A failed notice is retried with exponential backoff; when every attempt
fails, its destination is paused until an admin changes the URL, resumes or resends.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any, Callable

import httpx

from ..clock import iso, parse_iso, utcnow
from ..ids import new_id
from ..storage.crypto import Keyring
from ..storage import webhooks as store_webhooks
from ..storage.db import Database
from ..storage.tx import Tx

log = logging.getLogger("hearthside.webhooks")
MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
SECRET_PREFIX = "whsec_"
EVENT_TYPE = "feed.updated"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def key_bytes(secret: str) -> bytes:
    """A ``whsec_`` secret's key is its base64 payload; a secret stored before Standard
    Webhooks was a plain string whose UTF-8 was the key, and keeps signing with it."""
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret[len(SECRET_PREFIX):] + "==")
    return secret.encode()


def as_whsec(secret: str) -> str:
    """The Standard Webhooks form of a secret (a legacy one maps to the same key)."""
    if secret.startswith(SECRET_PREFIX):
        return secret
    return SECRET_PREFIX + base64.b64encode(secret.encode()).decode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(key_bytes(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def legacy_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The pre-Standard-Webhooks header, still sent while a legacy secret is live so a
    receiver set up before the change keeps working until the secret is rotated."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def headers_for(live: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    out = {"Content-Type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(timestamp),
           "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in live)}
    legacy = [s for s in live if not s.startswith(SECRET_PREFIX)]
    if legacy:
        out["Hearthside-Signature"] = legacy_signature(legacy[0], timestamp, body)
    return out


def _decrypt(keyring: Keyring, row: dict[str, Any], column: str) -> str | None:
    if not row.get(column):
        return None
    return keyring.decrypt(row[column], f"integration_clients/{row['id']}/{column}").decode()


def live_secrets(keyring: Keyring, row: dict[str, Any], now: datetime) -> list[str]:
    """The current secret, then the previous one while its overlap lasts."""
    out = [s for s in [_decrypt(keyring, row, "webhook_secret")] if s]
    until = row.get("webhook_previous_until")
    if until and parse_iso(until) > now:
        previous = _decrypt(keyring, row, "webhook_previous_secret")
        if previous:
            out.append(previous)
    return out


def body_for(delivery: dict[str, Any]) -> bytes:
    return json.dumps({"type": EVENT_TYPE, "timestamp": delivery["created_at"],
                       "data": {"up_to_cursor": delivery["up_to_seq"]}}, separators=(",", ":")).encode()


def backoff(attempts: int) -> timedelta:
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def enqueue(db: Tx, now: datetime | None = None) -> int:
    """One pending notice per live, unpaused webhook client whose agency's change log has
    moved past what it was last told (a notice already pending covers later changes too)."""
    now = now or utcnow()
    made = 0
    for c in store_webhooks.clients_to_notify(db):
        if store_webhooks.has_pending(db, c["id"]):
            continue
        top = store_webhooks.agency_log_top(db, c["agency_id"])
        if top > store_webhooks.last_notified_seq(db, c["id"]):
            store_webhooks.insert_delivery(db, {
                "id": new_id(), "client_id": c["id"], "agency_id": c["agency_id"], "up_to_seq": top,
                "status": "pending", "attempts": 0, "round_attempts": 0, "next_attempt_at": iso(now),
                "created_at": iso(now), "delivered_at": None})
            made += 1
    return made


def deliver_due(store: Database, now: datetime | None = None,
                post: Callable[..., Any] | None = None) -> list[dict[str, Any]]:
    """Try every due notice once. The HTTP call happens outside any transaction."""
    now = now or utcnow()
    post = post or httpx.post
    with store.read() as db:
        due = store_webhooks.due(db, iso(now))
    outcomes = []
    for d in due:
        live = live_secrets(store.keyring, {**d, "id": d["client_id"]}, now)
        body = body_for(d)
        code, error = None, None
        try:
            r = post(d["webhook_url"], content=body, timeout=10,
                     headers=headers_for(live, d["id"], int(now.timestamp()), body))
            code = r.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        ok = code is not None and 200 <= code < 300
        outcomes.append({"delivery_id": d["id"], "status_code": code, "ok": ok})
        with store.write() as db:
            _record(db, d, now, code, error, ok)
    return outcomes


def _record(db: Tx, d: dict[str, Any], now: datetime, code: int | None, error: str | None,
            ok: bool) -> None:
    number = store_webhooks.add_attempt(db, d["id"], iso(now), code, error)
    rounds = d["round_attempts"] + 1
    if ok:
        store_webhooks.mark_delivered(db, d["id"], number, rounds, iso(now))
    elif rounds >= MAX_ATTEMPTS:
        store_webhooks.mark_failed(db, d["id"], number, rounds)
        # Persistent failure: stop knocking until an admin acts (changes the URL, resumes, resends).
        store_webhooks.pause(db, d["client_id"], iso(now))
        log.warning("webhook destination paused after %d failed attempts", rounds)
    else:
        store_webhooks.schedule_retry(db, d["id"], number, rounds, iso(now + backoff(rounds)))


@contextlib.asynccontextmanager
async def webhook_lifespan(app: Any):
    """Runs the notifier beside the server: enqueue, then deliver what is due."""
    store: Database = app.state.db
    interval = app.state.settings.webhook_interval_seconds
    if interval <= 0:
        yield
        return

    def tick() -> None:
        with store.write() as db:
            enqueue(db)
        deliver_due(store)

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(tick)
            except Exception as exc:  # keep notifying; no record content is in these errors
                log.warning("webhook round failed: %s", type(exc).__name__)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
