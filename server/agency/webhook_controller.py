"""The agency admin's webhook view (a person's sign-in, role admin): deliveries with their
attempts and next retry, resend, secret rotation with an overlap, URL change, resume."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import msgspec
from litestar import Controller, get, post, put
from litestar.params import Parameter

from ..access import Principal, require_role
from ..storage.db import Database
from . import webhook_admin as wa


class UrlChange(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class SecretRotation(msgspec.Struct, forbid_unknown_fields=True):
    overlap_hours: Annotated[int, msgspec.Meta(ge=0, le=168)] = 24


class WebhookAdminController(Controller):
    path = "/api/v1/admin/agency"
    tags = ["agency-admin"]

    @get("/webhooks", sync_to_thread=True)
    def list_webhook_deliveries(
        self, store: Database, principal: Principal,
        status: Annotated[str | None, Parameter(required=False, description="pending, failed or delivered")] = None,
    ) -> list[wa.WebhookDelivery]:
        """The agency's webhook notices, newest first: status, whether the destination is
        paused, the next retry of a pending one, and every attempt with its HTTP status."""
        require_role(principal, "admin")
        with store.read() as db:
            return wa.deliveries(db, principal.agency_id, status)

    @post("/webhooks/{delivery_id:str}/resend", status_code=200, sync_to_thread=True)
    def resend_webhook_delivery(self, delivery_id: str, store: Database, principal: Principal) -> wa.WebhookDelivery:
        """Send a notice again now (same ``webhook-id``) and resume its destination."""
        require_role(principal, "admin")
        with store.write() as db:
            return wa.resend(db, principal.agency_id, delivery_id)

    @put("/clients/{client_id:str}/webhook", sync_to_thread=True)
    def put_webhook_url(self, client_id: str, data: UrlChange, store: Database,
                        principal: Principal) -> wa.WebhookDestination:
        """Change where a client's notices go (resumes a paused destination)."""
        require_role(principal, "admin")
        with store.write() as db:
            return wa.set_url(db, store.keyring, principal.agency_id, client_id, data.url)

    @post("/clients/{client_id:str}/webhook/rotate-secret", status_code=200, sync_to_thread=True)
    def rotate_webhook_secret(self, client_id: str, data: SecretRotation, store: Database,
                              principal: Principal) -> wa.WebhookDestination:
        """A new ``whsec_`` secret (returned once); the old one keeps signing, beside it,
        for ``overlap_hours``."""
        require_role(principal, "admin")
        with store.write() as db:
            return wa.rotate_secret(db, store.keyring, principal.agency_id, client_id,
                                    timedelta(hours=data.overlap_hours))

    @post("/clients/{client_id:str}/webhook/resume", status_code=200, sync_to_thread=True)
    def resume_webhook(self, client_id: str, store: Database, principal: Principal) -> wa.WebhookDestination:
        """Resume a destination paused after persistent failure."""
        require_role(principal, "admin")
        with store.write() as db:
            return wa.resume(db, principal.agency_id, client_id)
