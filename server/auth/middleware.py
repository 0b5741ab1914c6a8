"""Bearer-token authentication for ``/api/v1``: the token must be a live access token of
an enabled user on an enrolled device.

- A revoked device, or an upload-only token (what a revoked phone's refresh gets), opens
  only handlers marked ``opt={"allow_revoked_device": True}`` (sync push and pull, so the
  phone can hand over what it holds and then be told to wipe).
- An account whose password an admin reset opens only handlers marked
  ``opt={"allow_password_change": True}`` until the person chooses a new password.

The look-up runs in a worker thread: SQLite calls block, and on the event loop one slow
read (a busy disk, a checkpoint) would stall every other request, /health included.
"""

from __future__ import annotations

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from ..access import Principal
from ..clock import now_iso
from ..errors import Forbidden, Unauthorized
from ..storage import accounts
from .tokens import token_hash


def holder_of(store, digest: str) -> dict | None:
    """Who holds this live access token (None: nobody). Blocks on the database: run it in
    a worker thread, never on the event loop."""
    with store.read() as db:
        return accounts.access_token_holder(db, digest, now_iso())


class TokenAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send an access token: Authorization: Bearer <token>.")
        store = connection.app.state.db
        digest = token_hash(token.strip())

        row = await anyio.to_thread.run_sync(holder_of, store, digest)
        if row is None:
            raise Unauthorized("The access token is not valid or has expired.")
        handler = connection.scope.get("route_handler")
        opt = handler.opt if handler else {}
        upload_only = bool(row["device_revoked_at"]) or row["scope"] == "upload"
        if upload_only and not opt.get("allow_revoked_device"):
            raise DeviceRevoked()
        if row["must_change_password"] and not upload_only and not opt.get("allow_password_change"):
            raise PasswordChangeRequired()
        principal = Principal(
            user_id=row["user_id"],
            username=row["username"],
            display_name=row["display_name"],
            role=row["role"],
            agency_id=row["agency_id"],
            team_id=row["team_id"],
            device_id=row["device_id"],
        )
        # ``auth`` is True for an upload-only caller: sync holds what it pushes and its
        # pull gives only the upload / wipe instructions, never a record.
        return AuthenticationResult(user=principal, auth=upload_only)


class DeviceRevoked(Unauthorized):
    slug, title = "device-revoked", "This device has been revoked"


class PasswordChangeRequired(Forbidden):
    slug, title = "password-change-required", "Choose a new password first"

    def __init__(self, detail: str = "An admin has reset this password: choose a new one to go on.", **kw) -> None:
        super().__init__(detail, **kw)
