"""HTTP handlers of the agency FHIR R4 read API: the same client token, scope and agency
scoping as the feed; every URL from the configured public address, never the Host header."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State

from ..clock import now_iso
from ..errors import NotAcceptable, NotFound
from ..storage.db import Database
from . import fhir_read
from .auth import agency_client_guard, client_dependency
from .clients import AgencyClient
from .codesystems import code_systems
from .fhir_questionnaire import questionnaire, questionnaire_bundle

FHIR_JSON = "application/fhir+json"
API_PATH = "/api/agency/v1"


def content_of(state: State) -> Any:
    """The checklists as loaded at start (``app.state.content``), else loaded here once."""
    content = state.get("content")
    if content is None:
        try:
            from ..content.loader import load_content  # type: ignore[import-not-found]
        except ImportError:
            return None
        content = load_content(state.settings.content_dir)
        state.content = content
    return content


def api_base(request: Request) -> str:
    """The agency API's absolute address, from ``HEARTHSIDE_PUBLIC_URL``."""
    return request.app.state.settings.public_url.rstrip("/") + API_PATH


def fhir_media(request: Request) -> str:
    """``application/fhir+json`` unless the client asks for plain JSON only; 406 for a
    representation we do not have (XML, Turtle, HTML)."""
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return FHIR_JSON
    types = [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]
    if any(t in (FHIR_JSON, "application/json+fhir", "*/*", "application/*") for t in types):
        return FHIR_JSON
    if "application/json" in types:
        return "application/json"
    raise NotAcceptable("Resources are served as application/fhir+json (or application/json).")


def _searchset(request: Request, rtype: str, resources: list[dict[str, Any]]) -> Response:
    base = api_base(request) + "/fhir"
    bundle = questionnaire_bundle(resources, base)
    bundle["link"] = [{"relation": "self", "url": f"{base}/{rtype}"}]
    for e in bundle["entry"]:
        e["fullUrl"] = f"{base}/{rtype}/{e['resource']['id']}"
    return Response(bundle, media_type=fhir_media(request))


class AgencyFhirController(Controller):
    path = API_PATH + "/fhir"
    tags = ["agency"]
    guards = [agency_client_guard]
    dependencies = client_dependency

    @get("/metadata", opt={"scope": "feed:read"}, sync_to_thread=False)
    def get_capability_statement(self, request: Request) -> Response:
        """The FHIR CapabilityStatement: what can be read here, and how to authenticate."""
        try:
            version = metadata.version("hearthside")
        except metadata.PackageNotFoundError:
            version = "0"
        body = fhir_read.capability_statement(api_base(request) + "/fhir", version, now_iso())
        return Response(body, media_type=fhir_media(request))

    @get("/Questionnaire", opt={"scope": "feed:read"}, sync_to_thread=True)
    def list_questionnaires(self, request: Request) -> Response:
        """The checklists as FHIR R4 Questionnaires (``url|version`` is what responses cite)."""
        content = content_of(request.app.state)
        return _searchset(request, "Questionnaire", [questionnaire(c) for c in (content.checklists if content else [])])

    @get("/CodeSystem", opt={"scope": "feed:read"}, sync_to_thread=True)
    def list_code_systems(self, request: Request) -> Response:
        """Every local ``urn:hearthside:*`` code system the feed codes with, to map on your side."""
        return _searchset(request, "CodeSystem", code_systems(content_of(request.app.state)))

    @get("/{resource_type:str}/{resource_id:str}", opt={"scope": "feed:read"}, sync_to_thread=True)
    def get_resource(self, request: Request, store: Database, client: AgencyClient, resource_type: str,
                     resource_id: str) -> Response:
        """A resource the feed emits, as it now stands (404 for another agency's, or a draft's)."""
        return self._read(request, store, client, resource_type, resource_id, None)

    @get("/{resource_type:str}/{resource_id:str}/_history/{version_id:str}", opt={"scope": "feed:read"},
         sync_to_thread=True)
    def get_resource_version(self, request: Request, store: Database, client: AgencyClient, resource_type: str,
                             resource_id: str, version_id: str) -> Response:
        """One version of a resource: the current one (an older ``versionId`` is 404)."""
        return self._read(request, store, client, resource_type, resource_id, version_id)

    def _read(self, request, store, client, rtype, rid, vid) -> Response:
        media = fhir_media(request)
        with store.read() as db:
            res = fhir_read.read(db, store.keyring, client.agency_id, content_of(request.app.state),
                                 client.identifier_system + ":hearthside", rtype, rid, client.client_id)
        current = (res or {}).get("meta", {}).get("versionId")
        if res is None or (vid is not None and vid != current):
            raise NotFound("No such resource (or version) for this client.")
        headers = {}
        if current:
            headers["ETag"] = f'W/"{current}"'
            headers["Content-Location"] = f"{api_base(request)}/fhir/{rtype}/{rid}/_history/{current}"
        return Response(res, media_type=media, headers=headers)
