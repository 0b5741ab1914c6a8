"""The one app factory."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from litestar import Litestar, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from .openapi import CompleteJsonRenderPlugin
from litestar.static_files import create_static_files_router

from sync import content_refs
from sync.hooks import register_after_apply

from .accounts.controller import AccountsController, AuthController
from .accounts.passwords_controller import PasswordController
from .agency.controller import AgencyAdminController, AgencyApiController
from .agency.fhir_controller import AgencyFhirController
from .agency.webhook_controller import WebhookAdminController
from .agency.webhooks import webhook_lifespan
from .auth import passwords
from .auth.middleware import TokenAuthMiddleware
from .content.api import ContentController
from .content.loader import load_content
from .deps import dependencies
from .errors import exception_handlers
from .families.controller import FamiliesController
from .flags.controller import FlagsController, SupervisorController
from .followups import hooks as followup_hooks
from .followups.controller import FollowUpsController
from .push import vapid
from .push.controller import PushController
from .push.scheduler import Scheduler
from .push.sender import Sender
from .security import headers as security_headers
from .security import limits as security_limits
from .security.alerts import AlertsController
from .security import serving
from .security.controller import SecurityAdminController
from .security.throttle import Throttle
from .settings import Settings
from .storage.crypto import Keyring
from .storage.db import Database, open_database
from .sync_api.controller import HeldController, SyncController
from .unlock_policy.controller import UnlockPolicyController

log = logging.getLogger("hearthside")


@get("/health", opt={"public": True}, tags=["health"], sync_to_thread=False)
def get_health() -> dict[str, str]:
    return {"status": "ok"}


def private_files() -> None:
    """Everything the server creates is for its own user only (database and sidecars,
    backups, keys, the audit anchor): modes are set explicitly too, this is the floor."""
    os.umask(0o077)


def _check_keyring_location(settings: Settings) -> None:
    if settings.keyring or settings.keyring_file:
        return  # chosen explicitly
    legacy = settings.legacy_keyring_path
    if legacy.exists():
        # The old default: one copy of the data directory would take the keys with it.
        raise SystemExit(
            f"The keyring {legacy} is inside the data directory, beside the database it protects. Move it to "
            f"{settings.keyring_path} (the default now), better on another volume with HEARTHSIDE_KEYRING_FILE, "
            "or set HEARTHSIDE_KEYRING_FILE to its current path to keep it there."
        )


def open_store(settings: Settings, *, migrate: bool = True) -> Database:
    """Open (creating and migrating if new) the data directory's database."""
    from .audit_anchor import Anchor

    private_files()
    passwords.configure(settings.password_hash_log2_n)
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(settings.data_dir, 0o700)
    _check_keyring_location(settings)
    if settings.db_path.exists() and not settings.keyring and not settings.keyring_path.exists():
        # A new keyring could not read a single value already stored (after a restore, say).
        raise SystemExit(
            f"The keyring {settings.keyring_path} is missing but {settings.db_path} exists: restore the keyring "
            "(or set HEARTHSIDE_KEYRING) before starting."
        )
    keyring = Keyring.load_or_create(settings.keyring_path, settings.keyring)
    anchor = Anchor(settings.anchor_path, keyring, settings.audit_syslog)
    return open_database(settings.db_path, keyring, migrate=migrate, anchor=anchor)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    store = open_store(settings)
    # Bad content stops the server at start-up with the loader's precise message, rather
    # than failing on a phone in a family's home.
    content = load_content(settings.content_dir)
    state = State({"settings": settings, "db": store, "content": content, "throttle": Throttle()})
    state.vapid = vapid.load_or_create(settings.data_dir, store.keyring)
    # Rules run on the server when a synced visit is completed (see followups/hooks.py).
    followup_hooks.use_content(lambda: state.get("content"))
    content_refs.use_content(lambda: state.get("content"))
    register_after_apply(followup_hooks.on_synced_changes)
    state.scheduler = Scheduler(
        store, settings, Sender(state.vapid, settings.vapid_subject), content=lambda: state.get("content")
    )

    @asynccontextmanager
    async def run_scheduler(_: Litestar) -> AsyncIterator[None]:
        if not settings.scheduler_enabled:
            yield
            return
        async with anyio.create_task_group() as tg:
            tg.start_soon(state.scheduler.run)
            try:
                yield
            finally:
                tg.cancel_scope.cancel()

    route_handlers: list = [
        get_health,
        AuthController,
        AccountsController,
        PasswordController,
        FamiliesController,
        ContentController,
        SyncController,
        HeldController,
        FollowUpsController,
        FlagsController,
        SupervisorController,
        PushController,
        AgencyApiController,
        AgencyFhirController,
        AgencyAdminController,
        WebhookAdminController,
        SecurityAdminController,
        UnlockPolicyController,
        AlertsController,
    ]
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
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        middleware=[
            # Everything under /api/v1 needs a signed-in device unless marked public; the
            # agency API authenticates its clients itself.
            DefineMiddleware(
                TokenAuthMiddleware, exclude=[r"^/schema", r"^/api/agency/"], exclude_from_auth_key="public"
            ),
        ],
        request_max_body_size=settings.max_body_bytes,
        # Sync pages are repetitive JSON: gzip makes a first sync several times smaller.
        # Sign-in answers (tokens) are never compressed, so no compression side channel can
        # reveal a secret beside attacker-chosen text.
        compression_config=CompressionConfig(
            backend="gzip", gzip_compress_level=6, minimum_size=1024, exclude=[r"^/api/v1/auth/"]
        ),
        openapi_config=OpenAPIConfig(
            title="Hearthside",
            version="1",
            path="/schema",
            # JSON only: a Swagger UI page needs scripts from a CDN, which the CSP (and no
            # internet on the phones' side) rules out.
            render_plugins=[CompleteJsonRenderPlugin()],
        ),
        lifespan=[run_scheduler, webhook_lifespan],
        on_shutdown=[lambda: store.close()],
        debug=False,
    )
    # Around the whole app (not per route), so 404s, 415s and static files get them too.
    security_limits.install(app, body_timeout_seconds=settings.body_timeout_seconds)
    security_headers.install(app)
    serving.install(app)
    return app
