"""Authentication of agency API requests (``/api/agency/v1/...``).

The practitioner middleware skips these paths; this guard takes ``Authorization: Bearer
<client token>``, checks the scope the route names in ``opt={"scope": ...}`` and leaves an
``AgencyClient`` for handlers (dependency ``client``). Every request looks the token's hash
up again, so a revoked or rotated token is refused on its very next use.
"""

from __future__ import annotations

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler

from ..errors import Forbidden
from .clients import AgencyClient, authenticate


def agency_client_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    # Litestar runs a sync guard in its thread pool, so the look-up never blocks the loop.
    with connection.app.state.db.read() as db:
        client = authenticate(db, connection.headers.get("authorization", ""))
    scope = handler.opt.get("scope")
    if scope and not client.has(scope):
        raise Forbidden(f"This client does not have the {scope} scope.")
    connection.state.agency_client = client


def provide_client(request: Request) -> AgencyClient:
    return request.state.agency_client


client_dependency = {"client": Provide(provide_client, sync_to_thread=False)}
