from __future__ import annotations

from litestar import Controller, Response, get, patch, post

from .. import writes
from ..access import Principal
from ..storage.db import Database
from ..writes import IfMatch
from . import service
from .schemas import (
    AllocationCreate,
    AllocationRead,
    FamilyCreate,
    FamilyRead,
    FamilySummary,
    FamilyUpdate,
    PersonCreate,
    PersonRead,
)


class FamiliesController(Controller):
    path = "/api/v1/families"
    tags = ["families"]

    @get("/", sync_to_thread=True)
    def list_families(self, store: Database, principal: Principal) -> list[FamilySummary]:
        """The families the caller may see: their caseload, their team's, or the agency's."""
        with store.write() as db:  # a write: listing is audited
            return service.list_families(db, store.keyring, principal)

    @post("/", sync_to_thread=True)
    def create_family(self, data: FamilyCreate, store: Database, principal: Principal) -> FamilyRead:
        with store.write() as db:
            return service.create_family(db, store.keyring, principal, data)

    @get("/{family_id:str}", sync_to_thread=True)
    def get_family(self, family_id: str, store: Database, principal: Principal) -> Response[FamilyRead]:
        """The family's record; the ``ETag`` is its version, for ``If-Match`` on a change."""
        with store.write() as db:
            family = service.get_family(db, store.keyring, principal, family_id)
        return Response(family, headers=writes.etag(family.version))

    @patch("/{family_id:str}", sync_to_thread=True)
    def update_family(self, family_id: str, data: FamilyUpdate, store: Database, principal: Principal,
                      if_match: IfMatch = None) -> Response[FamilyRead]:
        """Change the family's details. ``If-Match`` (the version read) is required: a field
        changed by someone else since then is kept as a conflict (409), not overwritten."""
        with store.write() as db:
            written = service.update_family(db, store.keyring, principal, family_id, data, if_match)
        return writes.respond(written)

    @post("/{family_id:str}/persons", sync_to_thread=True)
    def create_person(self, family_id: str, data: PersonCreate, store: Database, principal: Principal) -> PersonRead:
        with store.write() as db:
            return service.add_person(db, store.keyring, principal, family_id, data)

    @post("/{family_id:str}/allocations", sync_to_thread=True)
    def create_allocation(
        self, family_id: str, data: AllocationCreate, store: Database, principal: Principal
    ) -> AllocationRead:
        with store.write() as db:
            return service.allocate(db, store.keyring, principal, family_id, data)

    @post("/{family_id:str}/allocations/{practitioner_id:str}/end", status_code=200, sync_to_thread=True)
    def end_allocation(
        self, family_id: str, practitioner_id: str, store: Database, principal: Principal, if_match: IfMatch = None
    ) -> Response[AllocationRead]:
        """End an allocation; ``If-Match`` names the allocation's version (from the family's
        ``allocations``)."""
        with store.write() as db:
            written = service.deallocate(db, store.keyring, principal, family_id, practitioner_id, if_match)
        return writes.respond(written)
