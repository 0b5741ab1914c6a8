from __future__ import annotations

from typing import Literal

from litestar import Controller, Response, get, post
from litestar.params import Parameter

from .. import writes
from ..access import Principal
from ..storage.db import Database
from ..writes import IfMatch
from . import service
from .schemas import FollowUpComplete, FollowUpCreate, FollowUpRead, FollowUpReassign


class FollowUpsController(Controller):
    path = "/api/v1/follow-ups"
    tags = ["follow-ups"]

    @get("/", sync_to_thread=True)
    def list_follow_ups(
        self,
        store: Database,
        principal: Principal,
        scope: Literal["mine", "team"] = Parameter(default="mine", description="mine: assigned to me; team: everyone's I may see"),
        status: Literal["open", "done", "cancelled", "all"] = "open",
        due: Literal["overdue", "today", "upcoming"] | None = None,
    ) -> list[FollowUpRead]:
        """Follow-ups by due date: a practitioner's own, or (supervisors) the team's."""
        with store.read() as db:
            return service.list_follow_ups(db, store.keyring, principal, scope=scope, status=status, due=due)

    @post("/", sync_to_thread=True)
    def create_follow_up(self, data: FollowUpCreate, store: Database, principal: Principal) -> FollowUpRead:
        with store.write() as db:
            return service.create_follow_up(db, store.keyring, principal, data)

    @get("/{follow_up_id:str}", sync_to_thread=True)
    def get_follow_up(self, follow_up_id: str, store: Database, principal: Principal) -> Response[FollowUpRead]:
        """One follow-up; the ``ETag`` is its version, for ``If-Match`` on a change."""
        with store.read() as db:
            read = service.get_follow_up(db, store.keyring, principal, follow_up_id)
        return Response(read, headers=writes.etag(read.version))

    @post("/{follow_up_id:str}/complete", status_code=200, sync_to_thread=True)
    def complete_follow_up(
        self, follow_up_id: str, data: FollowUpComplete, store: Database, principal: Principal,
        if_match: IfMatch = None,
    ) -> Response[FollowUpRead]:
        """Mark done (or cancelled) with a note; a closed follow-up cannot be reopened.
        ``If-Match`` (the version read) is required."""
        with store.write() as db:
            written = service.complete_follow_up(db, store.keyring, principal, follow_up_id, data, if_match)
        return writes.respond(written)

    @post("/{follow_up_id:str}/reassign", status_code=200, sync_to_thread=True)
    def reassign_follow_up(
        self, follow_up_id: str, data: FollowUpReassign, store: Database, principal: Principal,
        if_match: IfMatch = None,
    ) -> Response[FollowUpRead]:
        """Give an open follow-up to someone else in the team (supervisors). ``If-Match``
        (the version read) is required."""
        with store.write() as db:
            written = service.reassign_follow_up(db, store.keyring, principal, follow_up_id, data, if_match)
        return writes.respond(written)
