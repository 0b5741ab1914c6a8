"""What the OpenAPI document says about each agency operation beyond its signature: a
description, its success answers (status, media type, shape) and headers. Keyed by method
and path, so the handlers keep their own code small."""

from __future__ import annotations

from typing import Any

from . import shapes

ETAG = {"ETag": {"description": "The record's version, quoted (`\"3\"`); send it back as `If-Match`.",
                 "schema": {"type": "string"}}}
FEED_HEADERS = {
    "Hearthside-Next-Cursor": {"description": "Send as `cursor` for the next page.", "schema": {"type": "string"}},
    "Hearthside-Has-More": {"description": "`true` while more pages follow.", "schema": {"type": "string"}},
    "Hearthside-Log-Epoch": {"description": "The change log the cursor belongs to; send back as `epoch`.",
                             "schema": {"type": "string"}},
}
JSON, FHIR = "application/json", "application/fhir+json"
_WRITE = {"200": (JSON, shapes.AgencyRecord, ETAG, "Changed; the record as it now stands."),
          "201": (JSON, shapes.AgencyRecord, ETAG, "Created.")}
_CREATE = {"201": _WRITE["201"]}
_UPDATE = {"200": _WRITE["200"]}

# (method, path) -> (description, {status: (media type, shape, headers, description)})
OPERATIONS: dict[tuple[str, str], tuple[str, dict[str, tuple[str, Any, dict, str]]]] = {
    ("get", "/api/agency/v1/feed"): (
        "Completed records changed after `cursor`, in change order; `format=fhir` answers an R4 Bundle. "
        "Scope `feed:read`. A cursor from another epoch, or past the log's end, gets 409 feed-cursor-stale.",
        {"200": (JSON, shapes.AgencyFeedPage, FEED_HEADERS, "A page of the feed."),
         "200 fhir": (FHIR, shapes.FhirResource, FEED_HEADERS, "The page as a FHIR R4 Bundle (format=fhir).")}),
    ("get", "/api/agency/v1/fhir/Questionnaire"): (
        "The checklists as FHIR R4 Questionnaires in a Bundle. Scope `feed:read`.",
        {"200": (FHIR, shapes.FhirResource, {}, "A Bundle of Questionnaires.")}),
    ("get", "/api/agency/v1/fhir/metadata"): (
        "The FHIR R4 CapabilityStatement: every resource type readable here, and how. Scope `feed:read`.",
        {"200": (FHIR, shapes.FhirResource, {}, "The CapabilityStatement.")}),
    ("get", "/api/agency/v1/fhir/CodeSystem"): (
        "Every local code system (`urn:hearthside:*`) as FHIR R4 CodeSystems in a Bundle, for mapping to an "
        "agency's own codes. Scope `feed:read`.",
        {"200": (FHIR, shapes.FhirResource, {}, "A Bundle of CodeSystems.")}),
    ("get", "/api/agency/v1/fhir/{resource_type}/{resource_id}"): (
        "A resource the feed emits (a `fullUrl`), a Questionnaire or a CodeSystem, as it now stands: the same "
        "content and versionId as the feed's newest item for it. Scope `feed:read`.",
        {"200": (FHIR, shapes.FhirResource, {}, "The resource.")}),
    ("get", "/api/agency/v1/fhir/{resource_type}/{resource_id}/_history/{version_id}"): (
        "The resource at that versionId while it is the current one; 404 once its content has changed "
        "(earlier versions are not kept). Scope `feed:read`.",
        {"200": (FHIR, shapes.FhirResource, {}, "The resource.")}),
    ("post", "/api/agency/v1/acks"): (
        "Acknowledge feed items filed (idempotent); a list with any invalid entry is refused whole. "
        "Scope `feed:read`.",
        {"200": (JSON, shapes.AgencyAckResult, {}, "How many were acknowledged, and how many for the first time.")}),
    ("get", "/api/agency/v1/families"): (
        "Find a family by the agency's own id (`external_id`, under `system` or the client's identifier "
        "system). Scope `families:read`.",
        {"200": (JSON, shapes.AgencyFamily, ETAG, "The family with its people, relationships, allocations and "
                 "open conflicts.")}),
    ("get", "/api/agency/v1/families/{family_id}"): (
        "A family with its people, relationships, allocations and open conflicts. Scope `families:read`.",
        {"200": (JSON, shapes.AgencyFamily, ETAG, "The family.")}),
    ("post", "/api/agency/v1/families"): ("Create a family. Scope `families:write`.", _CREATE),
    ("put", "/api/agency/v1/families/{family_id}"): (
        "Create the family with this id (a UUID), or change the fields sent (If-Match required). "
        "Scope `families:write`.", _WRITE),
    ("patch", "/api/agency/v1/families/{family_id}"): (
        "Change the fields sent (If-Match required); a field someone else changed since gets 409 "
        "edit-conflict. Scope `families:write`.", _UPDATE),
    ("post", "/api/agency/v1/families/{family_id}/persons"): ("Add a person to a family. Scope `families:write`.",
                                                              _CREATE),
    ("put", "/api/agency/v1/families/{family_id}/persons/{person_id}"): (
        "Create the person with this id, or change the fields sent (If-Match required). Scope `families:write`.",
        _WRITE),
    ("patch", "/api/agency/v1/families/{family_id}/persons/{person_id}"): (
        "Change a person's fields (If-Match required). Scope `families:write`.", _UPDATE),
    ("post", "/api/agency/v1/families/{family_id}/relationships"): (
        "Record an adult's relationship to a child. Scope `families:write`.", _CREATE),
    ("patch", "/api/agency/v1/families/{family_id}/relationships/{relationship_id}"): (
        "Change or end a relationship (If-Match required). Scope `families:write`.", _UPDATE),
    ("put", "/api/agency/v1/families/{family_id}/allocations/{practitioner_id}"): (
        "Allocate a practitioner (`active: true`) or end the allocation (`active: false`, If-Match required); "
        "ending it purges the family from their phone at its next sync. Scope `families:write`.", _WRITE),
}
