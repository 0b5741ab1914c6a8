"""Push subscriptions: one per enrolled device, replaced when the browser re-subscribes."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from .. import audit
from ..access import Principal
from ..clock import now_iso
from ..errors import FieldError, InvalidInput
from ..ids import new_id
from ..storage import push as push_rows
from ..storage.crypto import Keyring
from ..storage.tx import Tx
from .schemas import SubscriptionCreate, SubscriptionRead
from .vapid import b64url_decode


def _aad(subscription_id: str) -> str:
    return f"push_subscriptions/{subscription_id}/secret"


def validate(body: SubscriptionCreate) -> None:
    errors: list[FieldError] = []
    parts = urlsplit(body.endpoint)
    local = parts.scheme == "http" and parts.hostname == "127.0.0.1"
    if not ((parts.scheme == "https" and parts.hostname) or local):
        # A push service is always https; plain http only for a test service on this machine.
        errors.append(FieldError("body.endpoint", "must be an https URL (or http://127.0.0.1 for testing)"))
    elif parts.username or parts.password:
        errors.append(FieldError("body.endpoint", "must not carry credentials"))
    try:
        raw = b64url_decode(body.keys.p256dh)
        if len(raw) != 65 or raw[0] != 4:
            raise ValueError
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        errors.append(FieldError("body.keys.p256dh", "must be a base64url P-256 public key (uncompressed point)"))
    try:
        if len(b64url_decode(body.keys.auth)) != 16:
            raise ValueError
    except ValueError:
        errors.append(FieldError("body.keys.auth", "must be a base64url 16-byte secret"))
    if errors:
        raise InvalidInput("The push subscription is not valid.", errors=errors)


def subscribe(db: Tx, keyring: Keyring, p: Principal, body: SubscriptionCreate) -> SubscriptionRead:
    validate(body)
    at = now_iso()
    secret_doc = json.dumps({"endpoint": body.endpoint, "p256dh": body.keys.p256dh, "auth": body.keys.auth})
    endpoint_hash = hashlib.sha256(body.endpoint.encode()).hexdigest()
    existing = push_rows.subscription_of_device(db, p.device_id)
    if existing:
        sid, created = existing["id"], existing["created_at"]
        # Reminders still queued for the old endpoint go to the new one instead.
        push_rows.renew_subscription(db, sid, endpoint_hash, keyring.encrypt(secret_doc.encode(), _aad(sid)),
                                     p.user_id, at)
    else:
        sid, created = new_id(), at
        push_rows.add_subscription(db, sid, p.device_id, p.user_id, p.agency_id, endpoint_hash,
                                   keyring.encrypt(secret_doc.encode(), _aad(sid)), at)
    # The same endpoint on another device row (re-enrolled phone) would get everything twice.
    push_rows.drop_other_endpoint_rows(db, endpoint_hash, sid)
    audit.record(db, "push-subscribed", entity="push_subscription", entity_id=sid, **audit.by(p))
    return SubscriptionRead(subscribed=True, device_id=p.device_id, id=sid, created_at=created, updated_at=at)


def unsubscribe(db: Tx, p: Principal) -> None:
    ids = push_rows.subscription_ids_of_device(db, p.device_id)
    for sid in ids:
        delete_subscription(db, sid)
    audit.record(db, "push-unsubscribed", entity="push_subscription",
                 entity_id=ids[0] if ids else None, **audit.by(p))


def current(db: Tx, p: Principal) -> SubscriptionRead:
    r = push_rows.subscription_of_device(db, p.device_id)
    if r is None:
        return SubscriptionRead(subscribed=False, device_id=p.device_id)
    return SubscriptionRead(subscribed=True, device_id=p.device_id, id=r["id"], created_at=r["created_at"],
                            updated_at=r["updated_at"])


def delete_subscription(db: Tx, subscription_id: str) -> None:
    push_rows.delete_subscription(db, subscription_id)


def subscription_info(keyring: Keyring, row: dict[str, Any]) -> dict[str, Any]:
    """The ``subscription_info`` pywebpush wants, decrypted for one send."""
    doc = json.loads(keyring.decrypt(row["secret"], _aad(row["id"])))
    return {"endpoint": doc["endpoint"], "keys": {"p256dh": doc["p256dh"], "auth": doc["auth"]}}
