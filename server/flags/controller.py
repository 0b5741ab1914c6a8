from __future__ import annotations

from typing import Literal

from litestar import Controller, Response, get, post

from .. import writes
from ..access import Principal
from ..storage.db import Database
from ..writes import IfMatch
from . import service
from .schemas import FlagDecision, FlagDetail, FlagRead, Overview


class FlagsController(Controller):
    path = "/api/v1/flags"
    tags = ["flags"]

    @get("/", sync_to_thread=True)
    def list_flags(
        self, store: Database, principal: Principal,
        status: Literal["active", "open", "acknowledged", "closed", "all"] = "active",
    ) -> list[FlagRead]:
        """Flags on families the caller may see, most severe and oldest first."""
        with store.read() as db:
            return service.list_flags(db, store.keyring, principal, status)

    @get("/{flag_id:str}", sync_to_thread=True)
    def get_flag(self, flag_id: str, store: Database, principal: Principal) -> Response[FlagDetail]:
        """A flag with the record behind it (family, visit, person, linked follow-ups); the
        ``ETag`` is the flag's version, for ``If-Match`` on a change."""
        with store.write() as db:  # a write: reading a flag's record is audited
            detail = service.get_flag(db, store.keyring, principal, flag_id)
        return Response(detail, headers=writes.etag(detail.flag.version))

    @post("/{flag_id:str}/acknowledge", status_code=200, sync_to_thread=True)
    def acknowledge_flag(self, flag_id: str, store: Database, principal: Principal,
                         if_match: IfMatch = None) -> Response[FlagDetail]:
        """Acknowledge the flag. ``If-Match`` (the flag's version) is required."""
        with store.write() as db:
            written = service.acknowledge(db, store.keyring, principal, flag_id, if_match)
        return writes.respond(written)

    @post("/{flag_id:str}/decision", status_code=200, sync_to_thread=True)
    def decide_flag(self, flag_id: str, data: FlagDecision, store: Database, principal: Principal,
                    if_match: IfMatch = None) -> Response[FlagDetail]:
        """Record the management decision and its rationale (closing the flag unless
        ``close`` is false), optionally creating follow-ups from it. ``If-Match`` (the
        flag's version) is required."""
        with store.write() as db:
            written = service.decide(db, store.keyring, principal, flag_id, data, if_match)
        return writes.respond(written)

    @post("/{flag_id:str}/close", status_code=200, sync_to_thread=True)
    def close_flag(self, flag_id: str, store: Database, principal: Principal,
                   if_match: IfMatch = None) -> Response[FlagDetail]:
        """Close a flag whose decision is already recorded (409 without one). ``If-Match``
        (the flag's version) is required."""
        with store.write() as db:
            written = service.close(db, store.keyring, principal, flag_id, if_match)
        return writes.respond(written)


class SupervisorController(Controller):
    path = "/api/v1/supervisor"
    tags = ["flags"]

    @get("/overview", sync_to_thread=True)
    def get_overview(self, store: Database, principal: Principal) -> Overview:
        """Open flags by severity and age, overdue follow-ups by practitioner, last sync times."""
        with store.write() as db:  # audited
            return service.overview(db, store.keyring, principal)
