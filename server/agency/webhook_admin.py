"""What an agency admin does with webhook destinations: see deliveries (pending, failed,
next retry), resend one, rotate a secret with an overlap, change the URL, resume a paused
destination. Every change is audited; a secret is returned once and stored encrypted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import msgspec

from .. import audit
from ..clock import iso, utcnow
from ..errors import FieldError, InvalidInput, NotFound
from ..storage import clients as client_rows, webhooks as store_webhooks
from ..storage.crypto import Keyring
from ..storage.tx import Tx
from .webhooks import new_secret

DEFAULT_OVERLAP = timedelta(hours=24)
MAX_OVERLAP = timedelta(days=7)
STATUSES = ("pending", "failed", "delivered")


class WebhookAttempt(msgspec.Struct):
    attempt: int
    at: str
    status_code: int | None
    error: str | None


class WebhookDelivery(msgspec.Struct):
    """One notice to one destination, with every attempt to deliver it."""

    id: str
    client_id: str
    client_name: str
    status: str
    destination_paused: bool
    up_to_cursor: int
    attempts: int
    next_attempt_at: str | None
    created_at: str
    delivered_at: str | None
    last_status_code: int | None
    attempt_log: list[WebhookAttempt]


class WebhookDestination(msgspec.Struct):
    client_id: str
    url: str | None
    paused_at: str | None
    previous_secret_until: str | None
    secret: str | None = None


def check_url(url: str) -> str:
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 2000:
        raise InvalidInput("The webhook URL is not usable.",
                           errors=[FieldError("webhook_url", "give an absolute http(s) URL")])
    return url


def deliveries(db: Tx, agency_id: str, status: str | None = None,
               limit: int = 200) -> list[WebhookDelivery]:
    if status is not None and status not in STATUSES:
        raise InvalidInput("Unknown delivery status.", errors=[FieldError("status", f"one of {', '.join(STATUSES)}")])
    out = []
    for d in store_webhooks.deliveries(db, agency_id, status, limit):
        log = [WebhookAttempt(**a) for a in store_webhooks.attempts(db, d["id"])]
        out.append(WebhookDelivery(
            id=d["id"], client_id=d["client_id"], client_name=d["client_name"], status=d["status"],
            destination_paused=d["webhook_paused_at"] is not None, up_to_cursor=d["up_to_seq"],
            attempts=len(log), next_attempt_at=d["next_attempt_at"] if d["status"] == "pending" else None,
            created_at=d["created_at"], delivered_at=d["delivered_at"],
            last_status_code=log[-1].status_code if log else None, attempt_log=log))
    return out


def _client(db: Tx, agency_id: str | None, client_id: str) -> dict[str, Any]:
    row = client_rows.get(db, client_id, agency_id)
    if row is None or row["revoked_at"]:
        raise NotFound("No such integration client.")
    return row


def _destination(row: dict[str, Any], secret: str | None = None) -> WebhookDestination:
    return WebhookDestination(client_id=row["id"], url=row["webhook_url"], paused_at=row["webhook_paused_at"],
                              previous_secret_until=row["webhook_previous_until"], secret=secret)


def resend(db: Tx, agency_id: str | None, delivery_id: str,
           now: datetime | None = None) -> WebhookDelivery:
    """Send a notice again now (same ``webhook-id``), with a fresh round of retries; its
    destination is resumed, because resending is the admin saying it is fixed."""
    now = now or utcnow()
    d = store_webhooks.delivery(db, delivery_id, agency_id)
    if d is None:
        raise NotFound("No such webhook delivery.")
    client = _client(db, agency_id, d["client_id"])
    if not client["webhook_url"]:
        raise InvalidInput("That client has no webhook URL.")
    store_webhooks.restart(db, delivery_id, iso(now))
    store_webhooks.unpause(db, d["client_id"])
    audit.record(db, "webhook-resent", agency_id=d["agency_id"], client_id=d["client_id"],
                 entity="webhook_delivery", entity_id=delivery_id)
    return next(x for x in deliveries(db, d["agency_id"]) if x.id == delivery_id)


def rotate_secret(db: Tx, keyring: Keyring, agency_id: str | None, client_id: str,
                  overlap: timedelta = DEFAULT_OVERLAP, now: datetime | None = None) -> WebhookDestination:
    """A new secret signs from now on; the old one also signs until ``now + overlap``, so a
    receiver can switch at any time in between without refusing a notice."""
    now = now or utcnow()
    if overlap < timedelta(0) or overlap > MAX_OVERLAP:
        raise InvalidInput("The overlap is out of range.",
                           errors=[FieldError("overlap_hours", f"0 to {int(MAX_OVERLAP.total_seconds() // 3600)}")])
    row = _client(db, agency_id, client_id)
    if not row["webhook_url"]:
        raise InvalidInput("That client has no webhook URL.")
    old = keyring.decrypt(row["webhook_secret"], f"integration_clients/{client_id}/webhook_secret")
    secret = new_secret()
    store_webhooks.set_secrets(
        db, client_id, keyring.encrypt(secret.encode(), f"integration_clients/{client_id}/webhook_secret"),
        keyring.encrypt(old, f"integration_clients/{client_id}/webhook_previous_secret"), iso(now + overlap))
    audit.record(db, "webhook-secret-rotated", agency_id=row["agency_id"], client_id=client_id,
                 entity="integration_client", entity_id=client_id,
                 detail={"overlap_seconds": int(overlap.total_seconds())})
    return _destination(_client(db, agency_id, client_id), secret)


def set_url(db: Tx, keyring: Keyring, agency_id: str | None, client_id: str,
            url: str) -> WebhookDestination:
    """Point notices elsewhere (pending ones included) and resume a paused destination. A
    client that had no URL gets its first secret, returned once."""
    row = _client(db, agency_id, client_id)
    check_url(url)
    secret = None
    if not row["webhook_secret"]:
        secret = new_secret()
        store_webhooks.set_secret(
            db, client_id, keyring.encrypt(secret.encode(), f"integration_clients/{client_id}/webhook_secret"))
    store_webhooks.set_url(db, client_id, url)
    audit.record(db, "webhook-url-changed", agency_id=row["agency_id"], client_id=client_id,
                 entity="integration_client", entity_id=client_id)
    return _destination(_client(db, agency_id, client_id), secret)


def resume(db: Tx, agency_id: str | None, client_id: str) -> WebhookDestination:
    row = _client(db, agency_id, client_id)
    store_webhooks.unpause(db, client_id)
    audit.record(db, "webhook-resumed", agency_id=row["agency_id"], client_id=client_id,
                 entity="integration_client", entity_id=client_id)
    return _destination(_client(db, agency_id, client_id))
