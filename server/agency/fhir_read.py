"""FHIR R4 read: each resource the feed emits, as it now stands, by type and id.

A resource is rebuilt from the same feed item the feed sends it with (``feed.current_item``),
so a read gives the very resource — content and ``versionId`` — that the feed's newest
page does. Only the current version is kept: ``_history/<vid>`` answers for the current
``versionId`` and 404 for an older one (the feed carried each version when it was made).
Everything is scoped to the client's agency; anything else is 404, as if it did not exist.
"""

from __future__ import annotations

import re
from typing import Any

from ..storage import feed as feed_rows
from ..storage.crypto import Keyring
from ..storage.tx import Tx
from .codesystems import code_systems
from .feed import current_item
from .fhir import build_resources, finish, practitioner_resource, response_id
from .fhir_questionnaire import questionnaire

FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
# Which feed items a resource type is made from.
SOURCES: dict[str, tuple[str, ...]] = {
    "Patient": ("person",), "RelatedPerson": ("person",), "Group": ("family",), "Encounter": ("visit",),
    "Observation": ("observation", "addendum"), "Flag": ("flag",), "Task": ("follow_up", "conflict"),
    "CareTeam": ("allocation",),
}
READABLE = (*SOURCES, "QuestionnaireResponse", "Practitioner", "Questionnaire", "CodeSystem")


def _from_items(db, keyring, agency_id, content, own, rtype, rid, sources, client_id=None) -> dict[str, Any] | None:
    for entity, row_id in sources:
        item = current_item(db, keyring, agency_id, entity, row_id, client_id)
        if item is None:
            continue
        for res in build_resources([item], content, own):
            if res["resourceType"] == rtype and res["id"] == rid:
                return res
    return None


def _observation_visit(db: Tx, rid: str) -> list[tuple[str, str]]:
    visit_id = feed_rows.observation_visit(db, rid)
    return [("visit", visit_id)] if visit_id else []


def _response_visit(db: Tx, agency_id: str, rid: str) -> list[tuple[str, str]]:
    for r in feed_rows.response_sets(db, agency_id):
        if response_id(r["visit_id"], r["checklist_id"], str(r["checklist_version"]), r["subject_id"]) == rid:
            return [("visit", r["visit_id"])]
    return []


def read(db: Tx, keyring: Keyring, agency_id: str, content: Any, own_system: str,
         rtype: str, rid: str, client_id: str | None = None) -> dict[str, Any] | None:
    """The resource ``rtype/rid`` as it now stands for this agency, as ``client_id``'s feed
    gives it (with that client's own external ids), or None."""
    if rtype not in READABLE or not FHIR_ID.match(rid):
        return None
    if rtype == "Questionnaire":
        for c in (content.checklists if content is not None else []):
            q = questionnaire(c)
            if q["id"] == rid:
                return q
        return None
    if rtype == "CodeSystem":
        return next((cs for cs in code_systems(content) if cs["id"] == rid), None)
    if rtype == "Practitioner":
        staff = feed_rows.staff_member(db, rid, agency_id)
        return finish(practitioner_resource(staff)) if staff else None
    if rtype == "QuestionnaireResponse":
        sources = _response_visit(db, agency_id, rid)
    else:
        sources = [(entity, rid) for entity in SOURCES[rtype]]
        if rtype == "Observation":
            sources += _observation_visit(db, rid)
    return _from_items(db, keyring, agency_id, content, own_system, rtype, rid, sources, client_id)


def capability_statement(base_url: str, software_version: str, at: str) -> dict[str, Any]:
    resources = []
    for rtype in sorted(READABLE):
        interactions = [{"code": "read"}] + ([{"code": "vread"}] if rtype not in ("Questionnaire", "CodeSystem")
                                             else [])
        if rtype in ("Questionnaire", "CodeSystem"):
            interactions.append({"code": "search-type"})
        resources.append({"type": rtype, "interaction": interactions, "versioning": "versioned",
                          "readHistory": False, "updateCreate": False})
    return {
        "resourceType": "CapabilityStatement",
        "id": "hearthside",
        "url": f"{base_url}/metadata",
        "version": software_version,
        "name": "HearthsideAgencyFhir",
        "title": "Hearthside agency FHIR R4 read API",
        "status": "active",
        "date": at,
        "publisher": "Hearthside",
        "kind": "instance",
        "software": {"name": "Hearthside", "version": software_version},
        "implementation": {"description": "The agency feed's resources, read by type and id", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Every resource the feed (GET /api/agency/v1/feed?format=fhir) emits can be read here "
                             "as it now stands; _history/<versionId> answers for the current version only.",
            "security": {"description": "The bearer token of an agency integration client "
                                        "(`Authorization: Bearer hsa_...`) with scope feed:read."},
            "resource": resources,
        }],
    }
