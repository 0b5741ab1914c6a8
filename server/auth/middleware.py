"""Bearer-token authentication for ``/api/v1``: the token must be a live access token of
an enabled user on an enrolled device. A revoked device is refused at once, except on
handlers marked ``opt={"allow_revoked_device": True}`` (sync, so a revoked phone can hand
over what it holds before it is told to wipe)."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from ..access import Principal
from ..clock import now_iso
from ..errors import Unauthorized
from .tokens import token_hash

_LOOKUP = """
SELECT u.id AS user_id, u.username, u.display_name, u.role, u.agency_id, u.team_id,
       d.id AS device_id, d.revoked_at AS device_revoked_at
FROM tokens t
JOIN users u ON u.id = t.user_id
JOIN devices d ON d.id = t.device_id
WHERE t.token_hash = ? AND t.kind = 'access' AND t.revoked_at IS NULL AND t.expires_at > ?
  AND u.disabled_at IS NULL
"""


class TokenAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send an access token: Authorization: Bearer <token>.")
        db = connection.app.state.db.connect()
        rows = list(db.query(_LOOKUP, [token_hash(token.strip()), now_iso()]))
        if not rows:
            raise Unauthorized("The access token is not valid or has expired.")
        row = rows[0]
        handler = connection.scope.get("route_handler")
        if row["device_revoked_at"] and not (handler and handler.opt.get("allow_revoked_device")):
            raise DeviceRevoked()
        principal = Principal(
            user_id=row["user_id"],
            username=row["username"],
            display_name=row["display_name"],
            role=row["role"],
            agency_id=row["agency_id"],
            team_id=row["team_id"],
            device_id=row["device_id"],
        )
        return AuthenticationResult(user=principal, auth=bool(row["device_revoked_at"]))


class DeviceRevoked(Unauthorized):
    slug, title = "device-revoked", "This device has been revoked"
