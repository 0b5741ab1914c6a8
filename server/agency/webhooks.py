"""Signed webhooks: a short notice to a core system that new feed items may exist (never
the items themselves, so nothing personal travels this way).

Signature: ``Hearthside-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`` with
the client's webhook secret (shown once, stored encrypted). Failed deliveries are retried
with exponential backoff; every attempt is recorded and listed for the agency's admin.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta
from typing import Any, Callable

import httpx
import sqlite_utils

from ..clock import iso, utcnow
from ..ids import new_id
from ..storage.db import Database
from .clients import webhook_secret

log = logging.getLogger("hearthside.webhooks")
MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: check the MAC, and the timestamp against replays."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = sign(secret, ts, body).split("v1=")[1]
    return abs(now - ts) <= tolerance and hmac.compare_digest(expected, parts.get("v1", ""))


def backoff(attempts: int) -> timedelta:
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def enqueue(db: sqlite_utils.Database, now: datetime | None = None) -> int:
    """One pending notice per webhook client whose agency's change log has moved past what
    it was last told (a notice already pending covers later changes too)."""
    now = now or utcnow()
    made = 0
    for c in list(db.query("SELECT id, agency_id FROM integration_clients WHERE webhook_url IS NOT NULL"
                           " AND revoked_at IS NULL")):
        if list(db.query("SELECT 1 FROM webhook_deliveries WHERE client_id = ? AND status = 'pending'", [c["id"]])):
            continue
        last = next(db.query("SELECT COALESCE(MAX(up_to_seq), 0) AS s FROM webhook_deliveries WHERE client_id = ?",
                             [c["id"]]))["s"]
        top = next(db.query("SELECT COALESCE(MAX(seq), 0) AS s FROM change_log WHERE agency_id = ?",
                            [c["agency_id"]]))["s"]
        if top > last:
            db["webhook_deliveries"].insert({
                "id": new_id(), "client_id": c["id"], "agency_id": c["agency_id"], "up_to_seq": top,
                "status": "pending", "attempts": 0, "next_attempt_at": iso(now), "created_at": iso(now),
                "delivered_at": None})
            made += 1
    return made


def deliver_due(store: Database, now: datetime | None = None,
                post: Callable[..., Any] | None = None) -> list[dict[str, Any]]:
    """Try every due notice once. The HTTP call happens outside any transaction."""
    now = now or utcnow()
    post = post or httpx.post
    with store.read() as db:
        due = list(db.query(
            "SELECT d.*, c.webhook_url, c.webhook_secret, c.revoked_at FROM webhook_deliveries d"
            " JOIN integration_clients c ON c.id = d.client_id WHERE d.status = 'pending' AND d.next_attempt_at <= ?"
            " ORDER BY d.next_attempt_at", [iso(now)]))
    outcomes = []
    for d in due:
        secret = webhook_secret(store.keyring, {"id": d["client_id"], "webhook_secret": d["webhook_secret"]}) or ""
        body = json.dumps({"type": "feed.updated", "delivery_id": d["id"], "up_to_cursor": d["up_to_seq"]},
                          separators=(",", ":")).encode()
        ts = int(now.timestamp())
        code, error = None, None
        try:
            r = post(d["webhook_url"], content=body, timeout=10, headers={
                "Content-Type": "application/json", "Hearthside-Signature": sign(secret, ts, body),
                "Hearthside-Delivery": d["id"]})
            code = r.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        ok = code is not None and 200 <= code < 300
        attempts = d["attempts"] + 1
        with store.write() as db:
            db["webhook_attempts"].insert({"delivery_id": d["id"], "attempt": attempts, "at": iso(now),
                                           "status_code": code, "error": error})
            if ok:
                db.execute("UPDATE webhook_deliveries SET status = 'delivered', attempts = ?, delivered_at = ?"
                           " WHERE id = ?", [attempts, iso(now), d["id"]])
            elif attempts >= MAX_ATTEMPTS:
                db.execute("UPDATE webhook_deliveries SET status = 'failed', attempts = ? WHERE id = ?",
                           [attempts, d["id"]])
            else:
                db.execute("UPDATE webhook_deliveries SET attempts = ?, next_attempt_at = ? WHERE id = ?",
                           [attempts, iso(now + backoff(attempts)), d["id"]])
        outcomes.append({"delivery_id": d["id"], "status_code": code, "ok": ok})
    return outcomes


def deliveries(db: sqlite_utils.Database, agency_id: str) -> list[dict[str, Any]]:
    out = []
    for d in db.query("SELECT * FROM webhook_deliveries WHERE agency_id = ? ORDER BY created_at DESC LIMIT 200",
                      [agency_id]):
        d = dict(d)
        d["attempt_log"] = list(db.query("SELECT attempt, at, status_code, error FROM webhook_attempts"
                                         " WHERE delivery_id = ? ORDER BY attempt", [d["id"]]))
        out.append(d)
    return out


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
