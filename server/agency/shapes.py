"""Read shapes of the agency API's answers, for the OpenAPI document. A record's own fields
come from its declaration in sync/model.py, so they are not repeated here: these shapes
name what the API adds around them (ids, versions, external ids, paging)."""

from __future__ import annotations

from typing import Any

import msgspec


class AgencyExternalId(msgspec.Struct):
    system: str
    value: str


class AgencyFeedItem(msgspec.Struct):
    """One changed record; file it by ``id`` and ``version`` (the newest wins)."""

    type: str
    id: str
    version: int
    seq: int
    family_id: str | None
    changed_at: str
    deleted: bool
    external_ids: list[AgencyExternalId]
    data: dict[str, Any]


class AgencyFeedPage(msgspec.Struct):
    items: list[AgencyFeedItem]
    next_cursor: int
    has_more: bool
    epoch: str


class AgencyAckResult(msgspec.Struct):
    acknowledged: int
    new: int


class AgencyRecord(msgspec.Struct):
    """A record as it now stands: its fields (as declared in sync/model.py) beside these."""

    id: str
    family_id: str | None
    version: int
    field_versions: dict[str, int]
    external_ids: list[AgencyExternalId]


class AgencyConflict(msgspec.Struct):
    id: str
    entity: str
    entity_id: str
    field: str
    status: str
    candidates: Any
    version: int


class AgencyFamily(AgencyRecord):
    persons: list[AgencyRecord]
    relationships: list[AgencyRecord]
    allocations: list[AgencyRecord]
    conflicts: list[AgencyConflict]


class FhirResource(msgspec.Struct):
    """A FHIR R4 resource (here a ``Bundle``); its structure is FHIR's own."""

    resourceType: str  # noqa: N815 - FHIR's member name
