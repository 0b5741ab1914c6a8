"""The one app factory."""

from __future__ import annotations

import logging
from pathlib import Path

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from .accounts.controller import AccountsController, AuthController
from .auth.middleware import TokenAuthMiddleware
from .deps import dependencies
from .errors import exception_handlers
from .families.controller import FamiliesController
from .security import headers as security_headers
from .security import limits as security_limits
from .security.controller import SecurityAdminController
from .security.throttle import Throttle
from .settings import Settings
from .storage.crypto import Keyring
from .storage.db import Database, open_database

log = logging.getLogger("hearthside")


@get("/health", opt={"public": True}, tags=["health"], sync_to_thread=False)
def get_health() -> dict[str, str]:
    return {"status": "ok"}


def open_store(settings: Settings) -> Database:
    """Open (creating and migrating if new) the data directory's database."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keyring = Keyring.load_or_create(settings.keyring_path, settings.keyring)
    return open_database(settings.db_path, keyring)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    store = open_store(settings)
    state = State({"settings": settings, "db": store, "throttle": Throttle()})

    route_handlers: list = [get_health, AuthController, AccountsController, FamiliesController,
                            SecurityAdminController]
    if Path(settings.pwa_dir).is_dir():
        route_handlers.append(
            create_static_files_router(
                path="/", directories=[settings.pwa_dir], html_mode=True, opt={"public": True},
                include_in_schema=False, name="pwa",
            )
        )

    app = Litestar(
        route_handlers=route_handlers,
        state=state,
        dependencies=dependencies,
        exception_handlers={**exception_handlers, **security_limits.exception_handlers},  # type: ignore[arg-type]
        middleware=[
            # Everything under /api/v1 needs a signed-in device unless marked public; the
            # agency API authenticates its clients itself.
            DefineMiddleware(
                TokenAuthMiddleware, exclude=[r"^/schema", r"^/api/agency/"], exclude_from_auth_key="public"
            ),
        ],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Hearthside",
            version="1",
            path="/schema",
            render_plugins=[JsonRenderPlugin(), SwaggerRenderPlugin()],
        ),
        on_shutdown=[lambda: store.close()],
        debug=False,
    )
    # Around the whole app (not per route), so 404s, 415s and static files get them too.
    security_limits.install(app)
    security_headers.install(app, trust_proxy=settings.trust_proxy)
    return app
