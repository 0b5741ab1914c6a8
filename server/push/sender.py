"""One web-push request: encrypt (aes128gcm), sign (VAPID ES256), POST, and report what the
push service said. Retrying and bookkeeping are the scheduler's job."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec
import requests
from pywebpush import WebPusher

from .schemas import PushPayload
from .vapid import VapidKeys

JWT_LIFETIME_SECONDS = 12 * 3600


@dataclass(frozen=True)
class SendResult:
    status_code: int | None  # None: no answer (network error)
    retry_after_seconds: float | None = None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


class Sender:
    def __init__(self, keys: VapidKeys, subject: str, timeout: float = 10.0) -> None:
        self.keys = keys
        self.subject = subject
        self.timeout = timeout
        self.session = requests.Session()

    def send(self, subscription_info: dict[str, Any], payload: PushPayload, *, ttl: int, urgency: str) -> SendResult:
        parts = urlsplit(subscription_info["endpoint"])
        # A fresh claims dict per send: pywebpush and py_vapid write into the one they get.
        claims = {
            "sub": self.subject,
            "aud": f"{parts.scheme}://{parts.netloc}",
            # The JWT's expiry is for the push service's clock: always real time.
            "exp": int(time.time()) + JWT_LIFETIME_SECONDS,
        }
        headers = dict(self.keys.vapid().sign(claims))
        headers["Urgency"] = urgency
        data = msgspec.json.encode(payload)
        try:
            resp = WebPusher(subscription_info, requests_session=self.session).send(
                data, headers, ttl=ttl, content_encoding="aes128gcm", timeout=self.timeout
            )
        except requests.RequestException:
            return SendResult(None)
        return SendResult(resp.status_code, parse_retry_after(resp.headers.get("Retry-After")))
