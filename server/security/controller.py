"""Admin endpoints for security: unlock an account, a family's access history, and the
subject access export."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from .. import audit, sar
from ..access import Principal, require_role
from ..accounts import service as accounts
from ..accounts.schemas import UserRead
from ..errors import NotFound
from ..storage import scope
from ..storage.db import Database
from .limits import INT64_MAX


class AccessEventRead(msgspec.Struct):
    seq: int
    at: str
    action: str
    entity: str | None
    entity_id: str | None
    purpose: str | None
    user_id: str | None
    user_name: str | None
    user_role: str | None
    device_id: str | None
    client_id: str | None


class SecurityAdminController(Controller):
    path = "/api/v1"
    tags = ["security"]

    @post("/users/{user_id:str}/unlock", status_code=200, sync_to_thread=True)
    def unlock_user(self, request: Request, user_id: str, store: Database, principal: Principal) -> UserRead:
        """Clear every sign-in delay on an account (admins of its agency), e.g. for a person
        on a new phone while someone elsewhere is guessing at their account."""
        from .throttle import unlock

        require_role(principal, "admin")
        with store.write() as db:
            row = accounts.get_user_row(db, principal, user_id)
            unlock(db, store.keyring, row, audit.by(principal))
        return accounts.user_read(row)

    @get("/admin/families/{family_id:str}/access-history", sync_to_thread=True)
    def list_access_history(
        self,
        family_id: str,
        store: Database,
        principal: Principal,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        before: Annotated[int | None, Parameter(ge=1, le=INT64_MAX)] = None,
    ) -> list[AccessEventRead]:
        """Who read or changed this family's records, newest first (admins of its agency).
        Page back with ``before`` = the smallest ``seq`` seen."""
        require_role(principal, "admin")
        with store.write() as db:  # a write: reading the history is itself audited
            if scope.family_agency(db, family_id) != principal.agency_id:
                raise NotFound("No such family.")
            events = audit.family_history(db, principal.agency_id, family_id, limit, before)
            audit.record(db, "access-history-read", entity="family", entity_id=family_id, family_id=family_id,
                         purpose="access audit", **audit.by(principal))
        return [msgspec.convert(e, AccessEventRead) for e in events]

    @get("/admin/persons/{person_id:str}/export", sync_to_thread=True, media_type="application/json")
    def export_person(
        self,
        person_id: str,
        store: Database,
        principal: Principal,
        format: Literal["json", "html"] = "json",
    ) -> Response:
        """Everything held about one person (subject access), as JSON or a readable HTML
        page, with third parties marked. Audited as an export."""
        with store.write() as db:
            data = sar.build(db, store.keyring, principal, person_id)
        if format == "html":
            return Response(content=sar.render_html(data), media_type="text/html")
        return Response(content=data, media_type="application/json")
