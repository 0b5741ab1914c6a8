from __future__ import annotations

from typing import Literal

from litestar import Controller, get, post

from ..access import Principal
from ..storage.db import Database
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
    def get_flag(self, flag_id: str, store: Database, principal: Principal) -> FlagDetail:
        """A flag with the record behind it (family, visit, person, linked follow-ups)."""
        with store.write() as db:  # a write: reading a flag's record is audited
            return service.get_flag(db, store.keyring, principal, flag_id)

    @post("/{flag_id:str}/acknowledge", status_code=200, sync_to_thread=True)
    def acknowledge_flag(self, flag_id: str, store: Database, principal: Principal) -> FlagDetail:
        with store.write() as db:
            return service.acknowledge(db, store.keyring, principal, flag_id)

    @post("/{flag_id:str}/decision", status_code=200, sync_to_thread=True)
    def decide_flag(self, flag_id: str, data: FlagDecision, store: Database, principal: Principal) -> FlagDetail:
        """Record the management decision and its rationale (closing the flag unless
        ``close`` is false), optionally creating follow-ups from it."""
        with store.write() as db:
            return service.decide(db, store.keyring, principal, flag_id, data)

    @post("/{flag_id:str}/close", status_code=200, sync_to_thread=True)
    def close_flag(self, flag_id: str, store: Database, principal: Principal) -> FlagDetail:
        """Close a flag whose decision is already recorded (409 without one)."""
        with store.write() as db:
            return service.close(db, store.keyring, principal, flag_id)


class SupervisorController(Controller):
    path = "/api/v1/supervisor"
    tags = ["flags"]

    @get("/overview", sync_to_thread=True)
    def get_overview(self, store: Database, principal: Principal) -> Overview:
        """Open flags by severity and age, overdue follow-ups by practitioner, last sync times."""
        with store.write() as db:  # audited
            return service.overview(db, store.keyring, principal)
