"""HTTP handlers of the agency API (client token) and the admin's view of it."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import HeaderParameter, Parameter

from .. import audit
from ..access import Principal, require_role
from ..clock import now_iso
from ..errors import InvalidInput, FieldError
from ..security.limits import INT64_MAX
from ..storage import clients as client_rows
from ..storage.db import Database
from . import acks as acks_service
from . import writeback as wb
from .auth import agency_client_guard, client_dependency
from .clients import AgencyClient
from .feed import read_feed
from .fhir import feed_bundle
from .fhir_controller import api_base, content_of

MAX_LIMIT = 500


def _written(result: wb.WriteResult) -> Response:
    media = "application/problem+json" if result.status_code == 409 else "application/json"
    return Response(result.body, status_code=result.status_code, media_type=media,
                    headers={"ETag": f'"{result.version}"'})


IfMatch = Annotated[str | None, HeaderParameter(name="If-Match", required=False)]


class AgencyApiController(Controller):
    path = "/api/agency/v1"
    tags = ["agency"]
    guards = [agency_client_guard]
    dependencies = client_dependency

    @get("/feed", opt={"scope": "feed:read"}, sync_to_thread=True)
    def get_feed(
        self, request: Request, store: Database, client: AgencyClient,
        cursor: Annotated[int, Parameter(ge=0, le=INT64_MAX)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = 100,
        format: Annotated[str, Parameter(pattern="^(json|fhir)$")] = "json",
        epoch: Annotated[str | None, Parameter(
            pattern=r"^[A-Za-z0-9-]{1,64}$",
            description="The `epoch` of the page the cursor came from; another one gets 409 feed-cursor-stale.",
        )] = None,
    ) -> Response:
        """Completed records after ``cursor``, in change order (see docs/integration.md)."""
        with store.write() as db:  # a write: what a core system took is audited
            page = read_feed(db, store.keyring, client.agency_id, cursor, limit, epoch=epoch,
                             client_id=client.client_id)
            audit.record(db, "agency-feed-read", agency_id=client.agency_id, client_id=client.client_id,
                         purpose="core system import",
                         detail={"cursor": cursor, "next_cursor": page.next_cursor, "items": len(page.items)})
            client_rows.touch(db, client.client_id, now_iso())
        headers = {"Hearthside-Next-Cursor": str(page.next_cursor),
                   "Hearthside-Has-More": "true" if page.has_more else "false",
                   "Hearthside-Log-Epoch": page.epoch}
        if format == "fhir":
            base = api_base(request)
            url = f"{base}/feed?format=fhir&limit={limit}"
            bundle = feed_bundle(page.items, content_of(request.app.state), client.identifier_system + ":hearthside",
                                 base_url=base + "/fhir", next_cursor=page.next_cursor, has_more=page.has_more,
                                 self_url=f"{url}&cursor={cursor}",
                                 next_url=f"{url}&cursor={page.next_cursor}" if page.has_more else None)
            return Response(bundle, media_type="application/fhir+json", headers=headers)
        body = {"items": page.items, "next_cursor": page.next_cursor, "has_more": page.has_more,
                "epoch": page.epoch}
        return Response(body, media_type="application/json", headers=headers)

    @post("/acks", opt={"scope": "feed:read"}, status_code=200, sync_to_thread=True)
    def create_acks(self, data: acks_service.AckList, store: Database, client: AgencyClient) -> dict[str, int]:
        """Confirm items filed: ``[{"item_type", "id", "version", "external_id"}]``."""
        with store.write() as db:
            return acks_service.acknowledge(db, store.keyring, client, data)

    # -- write-back ---------------------------------------------------------------------
    @get("/families", opt={"scope": "families:read"}, sync_to_thread=True)
    def find_family(self, store: Database, client: AgencyClient, external_id: str,
                    system: str | None = None) -> Response:
        with store.write() as db:
            fam = wb.find_family(db, store.keyring, client, system, external_id)
        return Response(fam, headers={"ETag": f'"{fam["version"]}"'})

    @get("/families/{family_id:str}", opt={"scope": "families:read"}, sync_to_thread=True)
    def get_family(self, family_id: str, store: Database, client: AgencyClient) -> Response:
        with store.write() as db:
            fam = wb.read_family(db, store.keyring, client, family_id)
        return Response(fam, headers={"ETag": f'"{fam["version"]}"'})

    @post("/families", opt={"scope": "families:write"}, sync_to_thread=True)
    def create_family(self, data: wb.FamilyWrite, store: Database, client: AgencyClient) -> Response:
        with store.write() as db:
            return _written(wb.write(db, store.keyring, client, "family", None, None, data, None, "create"))

    @put("/families/{family_id:str}", opt={"scope": "families:write"}, sync_to_thread=True)
    def put_family(self, family_id: str, data: wb.FamilyWrite, store: Database, client: AgencyClient,
                   if_match: IfMatch = None) -> Response:
        with store.write() as db:
            return _written(wb.write(db, store.keyring, client, "family", None, family_id, data,
                                     wb.parse_if_match(if_match), "upsert"))

    @patch("/families/{family_id:str}", opt={"scope": "families:write"}, sync_to_thread=True)
    def patch_family(self, family_id: str, data: wb.FamilyWrite, store: Database, client: AgencyClient,
                     if_match: IfMatch = None) -> Response:
        with store.write() as db:
            return _written(wb.write(db, store.keyring, client, "family", None, family_id, data,
                                     wb.parse_if_match(if_match), "update"))

    @post("/families/{family_id:str}/persons", opt={"scope": "families:write"}, sync_to_thread=True)
    def create_person(self, family_id: str, data: wb.PersonWrite, store: Database, client: AgencyClient) -> Response:
        with store.write() as db:
            return _written(wb.write(db, store.keyring, client, "person", family_id, None, data, None, "create"))

    @put("/families/{family_id:str}/persons/{person_id:str}", opt={"scope": "families:write"}, sync_to_thread=True)
    def put_person(self, family_id: str, person_id: str, data: wb.PersonWrite, store: Database,
                   client: AgencyClient, if_match: IfMatch = None) -> Response:
        with store.write() as db:
            return _written(wb.write(db, store.keyring, client, "person", family_id, person_id, data,
                                     wb.parse_if_match(if_match), "upsert"))

    @patch("/families/{family_id:str}/persons/{person_id:str}", opt={"scope": "families:write"}, sync_to_thread=True)
    def patch_person(self, family_id: str, person_id: str, data: wb.PersonWrite, store: Database,
                     client: AgencyClient, if_match: IfMatch = None) -> Response:
        with store.write() as db:
            return _written(wb.write(db, store.keyring, client, "person", family_id, person_id, data,
                                     wb.parse_if_match(if_match), "update"))

    @post("/families/{family_id:str}/relationships", opt={"scope": "families:write"}, sync_to_thread=True)
    def create_relationship(self, family_id: str, data: wb.RelationshipWrite, store: Database,
                            client: AgencyClient) -> Response:
        with store.write() as db:
            return _written(wb.write(db, store.keyring, client, "relationship", family_id, None, data, None,
                                     "create"))

    @patch("/families/{family_id:str}/relationships/{relationship_id:str}", opt={"scope": "families:write"},
           sync_to_thread=True)
    def patch_relationship(self, family_id: str, relationship_id: str, data: wb.RelationshipWrite, store: Database,
                           client: AgencyClient, if_match: IfMatch = None) -> Response:
        with store.write() as db:
            return _written(wb.write(db, store.keyring, client, "relationship", family_id, relationship_id, data,
                                     wb.parse_if_match(if_match), "update"))

    @put("/families/{family_id:str}/allocations/{practitioner_id:str}", opt={"scope": "families:write"},
         sync_to_thread=True)
    def put_allocation(self, family_id: str, practitioner_id: str, data: wb.AllocationWrite, store: Database,
                       client: AgencyClient, if_match: IfMatch = None) -> Response:
        """Allocate (``{"active": true}``) or end the allocation (``{"active": false}``); ending it
        purges the family from that practitioner's phone at its next sync."""
        with store.write() as db:
            return _written(wb.allocate(db, store.keyring, client, family_id, practitioner_id, data,
                                        wb.parse_if_match(if_match)))


class AgencyAdminController(Controller):
    path = "/api/v1/admin/agency"
    tags = ["agency"]

    @get("/unacknowledged", sync_to_thread=True)
    def list_unacknowledged(self, store: Database, principal: Principal) -> list[dict[str, Any]]:
        """For the agency's admin: feed items each core system has not yet acknowledged."""
        require_role(principal, "admin")
        with store.read() as db:
            return acks_service.unacknowledged(db, store.keyring, principal.agency_id)


__all__ = ["AgencyAdminController", "AgencyApiController", "FieldError", "InvalidInput"]
