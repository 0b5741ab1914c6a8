"""Read shapes of the agency API's answers, for the OpenAPI document. A record's own fields
come from its declaration in sync/model.py, so they are not repeated here: these shapes
name what the API adds around them (ids, versions, external ids, paging)."""

from __future__ import annotations

from typing import Any

import msgspec


class ExternalIdRead(msgspec.Struct):
    system: str
    value: str


class FeedItem(msgspec.Struct):
    """One changed record; file it by ``id`` and ``version`` (the newest wins)."""

    type: str
    id: str
    version: int
    seq: int
    family_id: str | None
    changed_at: str
    deleted: bool
    external_ids: list[ExternalIdRead]
    data: dict[str, Any]


class FeedPage(msgspec.Struct):
    items: list[FeedItem]
    next_cursor: int
    has_more: bool
    epoch: str


class AckResult(msgspec.Struct):
    acknowledged: int
    new: int


class RecordRead(msgspec.Struct):
    """A record as it now stands: its fields (as declared in sync/model.py) beside these."""

    id: str
    family_id: str | None
    version: int
    field_versions: dict[str, int]
    external_ids: list[ExternalIdRead]


class ConflictRead(msgspec.Struct):
    id: str
    entity: str
    entity_id: str
    field: str
    status: str
    candidates: Any
    version: int


class FamilyRead(RecordRead):
    persons: list[RecordRead]
    relationships: list[RecordRead]
    allocations: list[RecordRead]
    conflicts: list[ConflictRead]


class FhirResource(msgspec.Struct):
    """A FHIR R4 resource (here a ``Bundle``); its structure is FHIR's own."""

    resourceType: str  # noqa: N815 - FHIR's member name
