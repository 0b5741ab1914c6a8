from __future__ import annotations

from typing import Annotated

import msgspec

from ..security.limits import INT64_MAX

B64Url = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+={0,2}$")]


class SubscriptionKeys(msgspec.Struct, forbid_unknown_fields=True):
    p256dh: B64Url
    auth: B64Url


class SubscriptionCreate(msgspec.Struct, forbid_unknown_fields=True):
    """The browser's ``PushSubscription.toJSON()``."""

    endpoint: Annotated[str, msgspec.Meta(min_length=10, max_length=2000)]
    keys: SubscriptionKeys
    expirationTime: Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)] | float | None = None


class SubscriptionRead(msgspec.Struct):
    subscribed: bool
    device_id: str
    id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class VapidPublicKeyRead(msgspec.Struct):
    public_key: str


class PushPayload(msgspec.Struct):
    """All a push ever carries: a type, a count and an opaque id. Push services are third
    parties, so the app shows what it is about only after unlock."""

    type: str
    count: int = 1
    id: str | None = None
