from __future__ import annotations

from litestar import Controller, Request, delete, get, post

from ..access import Principal
from ..storage.db import Database
from . import service
from .schemas import SubscriptionCreate, SubscriptionRead, VapidPublicKeyRead


class PushController(Controller):
    path = "/api/v1/push"
    tags = ["push"]

    @get("/vapid-public-key", opt={"public": True}, sync_to_thread=False)
    def get_vapid_public_key(self, request: Request) -> VapidPublicKeyRead:
        """The key browsers pass to ``pushManager.subscribe`` (base64url, uncompressed P-256 point)."""
        return VapidPublicKeyRead(public_key=request.app.state.vapid.public_key_b64)

    @get("/subscription", sync_to_thread=True)
    def get_subscription(self, store: Database, principal: Principal) -> SubscriptionRead:
        """Whether this device is subscribed."""
        with store.read() as db:
            return service.current(db, principal)

    @post("/subscription", sync_to_thread=True)
    def create_subscription(self, data: SubscriptionCreate, store: Database, principal: Principal) -> SubscriptionRead:
        """Subscribe this device (replaces its previous subscription)."""
        with store.write() as db:
            return service.subscribe(db, store.keyring, principal, data)

    @delete("/subscription", sync_to_thread=True)
    def delete_subscription(self, store: Database, principal: Principal) -> None:
        """Unsubscribe this device; anything still queued for it is dropped."""
        with store.write() as db:
            service.unsubscribe(db, principal)
