"""Write-back: a core system creates and updates families, people, relationships and
allocations. Every accepted change is a per-field op through the same merge as a phone's
push, so it reaches the phones on their next pull (ending an allocation there purges the
family from that practitioner's phone) and a stale write becomes a recorded conflict, never
a silent overwrite.

Versions: ``If-Match`` carries the record version the core system last saw (the ``ETag``
of a read or write); an update without one is refused (428). For each field sent, the
base version given to the merge is that field's own version if it has not changed since,
else the (older) version the caller saw, which the merge then treats as stale: a
different value there is a conflict (``server.writes``). That holds for the client's own
earlier writes too: a stale If-Match never overwrites what the same client wrote since.
The merge decides what a core system may write (``sync.policy``, role "integration").
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from sync import merge, model
from sync.protocol import Op, OpResult
from sync.values import UUID_RE, same
from sync.writer import make_create

from sync.shapes import Date, field_type

from .. import audit, writes
from ..accounts.schemas import Uuid
from ..families.schemas import (
    Address,
    Ethnicity,
    FamilyName,
    FamilyStatus,
    GivenName,
    Language,
    NhsNumber,
    Notes,
    PersonRole,
    Phone,
    Postcode,
    Sex,
    Surname,
)
from ..errors import Conflict, DomainError, FieldError, InvalidInput, NotFound, id_taken
from ..ids import new_id
from ..storage import families as family_rows, records
from ..storage.crypto import Keyring
from ..storage.tx import Tx
from ..storage.records import Actor
from . import external_ids
from .clients import AgencyClient

UNSET = msgspec.UNSET
U = msgspec.UnsetType


class ExternalIdIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    system: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


Relationship = field_type("relationship", "relationship", min_length=1)

# A record has a handful of identifiers in other systems, never hundreds.
ExternalIds = Annotated[list[ExternalIdIn], msgspec.Meta(max_length=20)]


class _Write(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    def changes(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__struct_fields__
                if f not in ("id", "external_ids") and getattr(self, f) is not UNSET}


# Types, limits and choices from the model, as for the staff API.
class FamilyWrite(_Write):
    family_name: FamilyName | U = UNSET
    team_id: Uuid | None | U = UNSET
    address: Address | None | U = UNSET
    postcode: Postcode | None | U = UNSET
    phone: Phone | None | U = UNSET
    notes: Notes | None | U = UNSET
    status: FamilyStatus | U = UNSET
    id: Uuid | U = UNSET
    external_ids: ExternalIds = []


class PersonWrite(_Write):
    role: PersonRole | U = UNSET
    given_name: GivenName | None | U = UNSET
    family_name: Surname | None | U = UNSET
    date_of_birth: Date | None | U = UNSET
    expected_date: Date | None | U = UNSET
    sex: Sex | None | U = UNSET
    nhs_number: NhsNumber | None | U = UNSET
    ethnicity: Ethnicity | None | U = UNSET
    language: Language | None | U = UNSET
    interpreter_needed: bool | U = UNSET
    lives_in_household: bool | U = UNSET
    protection_plan: bool | U = UNSET
    id: Uuid | U = UNSET
    external_ids: ExternalIds = []


class RelationshipWrite(_Write):
    adult_id: Uuid | U = UNSET
    child_id: Uuid | U = UNSET
    relationship: Relationship | U = UNSET
    parental_responsibility: bool | U = UNSET
    id: Uuid | U = UNSET
    external_ids: ExternalIds = []


class AllocationWrite(_Write):
    active: bool = True


parse_if_match = writes.parse_if_match


def actor_of(client: AgencyClient) -> Actor:
    return Actor(client_id=client.client_id)


def _apply(db: Tx, keyring: Keyring, client: AgencyClient, ops: list[Op]) -> list[OpResult]:
    """The core system's ops through the one write path, strictly: a refusal is the answer
    (mapped by ``server.errors``), never a quarantined op."""
    return merge.apply_ops(db, keyring, actor_of(client), ops, strict=True)


# -- reads --------------------------------------------------------------------------------


def _family_row(db, keyring, client: AgencyClient, family_id: str) -> dict[str, Any]:
    row = records.get(db, keyring, "family", family_id)
    if row is None or row["agency_id"] != client.agency_id:
        raise NotFound("No such family.")
    return row


def representation(db, keyring, entity: str, row: dict[str, Any], client_id: str | None = None) -> dict[str, Any]:
    spec = records.ENTITIES[entity]
    out = {"id": row["id"], "family_id": row.get("family_id"), "version": row["version"],
           "field_versions": {k: int(m.get("v", 0)) for k, m in row["field_meta"].items()},
           **{f: row.get(f) for f in spec.fields}}
    out["external_ids"] = external_ids.of(db, keyring, entity, [row["id"]], client_id).get(row["id"], [])
    return out


def read_family(db, keyring, client: AgencyClient, family_id: str) -> dict[str, Any]:
    row = _family_row(db, keyring, client, family_id)
    out = representation(db, keyring, "family", row, client.client_id)
    for entity, key in (("person", "persons"), ("relationship", "relationships"), ("allocation", "allocations")):
        out[key] = [representation(db, keyring, entity, r, client.client_id)
                    for r in family_rows.of_family(db, keyring, entity, family_id)]
    out["conflicts"] = [
        {k: c[k] for k in ("id", "entity", "entity_id", "field", "status", "candidates", "version")}
        for c in family_rows.open_conflicts(db, keyring, family_id)
        if c["entity"] in ("family", "person", "relationship", "allocation")]
    audit.record(db, "agency-family-read", agency_id=client.agency_id, client_id=client.client_id,
                 entity="family", entity_id=family_id, family_id=family_id, purpose="core system read")
    return out


def find_family(db, keyring, client: AgencyClient, system: str | None, value: str) -> dict[str, Any]:
    fid = external_ids.lookup(db, keyring, client.agency_id, "family",
                              external_ids.ExternalId(system=system or client.identifier_system, value=value),
                              client.client_id)
    if not fid:
        raise NotFound("No family has that identifier.")
    return read_family(db, keyring, client, fid)


# -- writes -------------------------------------------------------------------------------


class WriteResult(msgspec.Struct):
    status_code: int
    body: dict[str, Any]
    version: int


def write(
    db: Tx,
    keyring: Keyring,
    client: AgencyClient,
    entity: str,
    family_id: str | None,
    row_id: str | None,
    body: _Write,
    if_match: int | None,
    mode: Literal["create", "update", "upsert"],
) -> WriteResult:
    values = body.changes()
    # A record id is a UUID wherever it comes from: the agency's case number belongs in
    # external_ids, and a non-UUID id would make an invalid FHIR id.
    path_ids = {"family_id": family_id, f"{entity}_id": row_id} if entity != "family" else {"family_id": row_id}
    bad = [name for name, value in path_ids.items() if value is not None and not UUID_RE.match(value)]
    if bad:
        raise InvalidInput("Record ids are UUIDs; send your own id in external_ids.",
                           errors=[FieldError(f"path.{name}", "must be an id (UUID)") for name in bad])
    if entity != "family":
        _family_row(db, keyring, client, family_id or "")
    row_id = row_id or (getattr(body, "id", UNSET) if getattr(body, "id", UNSET) is not UNSET else None) or new_id()
    existing = records.get(db, keyring, entity, row_id, include_deleted=True)
    if existing is not None and (existing["agency_id"] != client.agency_id or existing["deleted"]
                                 or (entity != "family" and existing["family_id"] != family_id)):
        # Out of reach: "no such record" to change (PUT included), and to create with a
        # chosen id the one taken-id answer (the same whoever holds it), never an answer
        # that says where the record is.
        if mode != "create":
            raise NotFound(f"No such {entity}.")
        raise id_taken()
    if existing is None:
        if mode == "update":
            raise NotFound(f"No such {entity}.")
        missing = [f.name for f in model.entity(entity).fields if f.required and values.get(f.name) in (None, UNSET)]
        if missing:
            raise InvalidInput("Some fields are needed to create this record.",
                               errors=[FieldError(f"body.{f}", "required") for f in missing])
        values = {k: v for k, v in values.items() if v is not None}
        _apply(db, keyring, client, [make_create(entity, row_id, row_id if entity == "family" else family_id or "",
                                                 values)])
        _after_write(db, keyring, client, entity, row_id, values, body)
        row = records.get(db, keyring, entity, row_id)
        assert row is not None
        return WriteResult(201, representation(db, keyring, entity, row, client.client_id), row["version"])
    if mode == "create":
        raise _exists(entity)
    version = writes.based_on(if_match, existing)
    spec = model.entity(entity)
    # A whole record sent back (PUT) names its fixed fields as they are: only a change to
    # one is a change (and the merge refuses it).
    values = {k: v for k, v in values.items()
              if not (spec.field(k) and spec.field(k).immutable and same(existing.get(k), v))}
    ops = writes.set_ops(entity, existing, values, version)
    results = _apply(db, keyring, client, ops)
    _after_write(db, keyring, client, entity, row_id, values, body)
    row = records.get(db, keyring, entity, row_id)
    assert row is not None
    current = representation(db, keyring, entity, row, client.client_id)
    conflicts = [(op.field, r) for op, r in zip(ops, results) if r.status == "conflict"]
    if conflicts:
        return WriteResult(409, {
            "type": "urn:hearthside:problem:edit-conflict",
            "title": "The record changed since that version",
            "status": 409,
            "detail": "Fields changed by someone else since the If-Match version are recorded as conflicts for a"
                      " person to resolve; the other fields were merged.",
            "conflicting_fields": [f for f, _ in conflicts],
            "conflicts": [{"field": f, "conflict_id": r.conflict_id, "yours": values[f], "current": existing.get(f)}
                          for f, r in conflicts],
            "applied_fields": [op.field for op, r in zip(ops, results) if r.status == "applied"],
            "current": current,
        }, row["version"])
    return WriteResult(200, current, row["version"])


def _exists(entity: str) -> DomainError:
    return Conflict(f"That {entity} already exists; update it with PUT or PATCH and If-Match.",
                    errors=[FieldError("body.id", "already used")])


def _after_write(db, keyring, client: AgencyClient, entity: str, row_id: str, values: dict[str, Any], body: Any) -> None:
    for ext in getattr(body, "external_ids", []) or []:
        external_ids.put(db, keyring, client.agency_id, entity, row_id,
                         external_ids.ExternalId(system=ext.system or client.identifier_system, value=ext.value),
                         client.client_id)
    row = records.get(db, keyring, entity, row_id)
    audit.record(db, f"agency-{entity}-written", agency_id=client.agency_id, client_id=client.client_id,
                 entity=entity, entity_id=row_id, family_id=row["family_id"] if row else None,
                 purpose="core system write-back", detail={"fields": sorted(values)})


def allocate(db, keyring, client: AgencyClient, family_id: str, practitioner_id: str, body: AllocationWrite,
             if_match: int | None) -> WriteResult:
    """Allocate (active) or end the allocation of (inactive) a practitioner to a family."""
    _family_row(db, keyring, client, family_id)
    if not family_rows.is_practitioner(db, client.agency_id, practitioner_id):
        raise NotFound("No such practitioner.")
    existing = family_rows.allocations(db, keyring, family_id, practitioner_id)
    if not existing:
        if not body.active:
            raise NotFound("That practitioner is not allocated to this family.")
        allocation_id = new_id()
        _apply(db, keyring, client, [make_create("allocation", allocation_id, family_id,
                                                 {"practitioner_id": practitioner_id, "active": True})])
        row = records.get(db, keyring, "allocation", allocation_id)
        assert row is not None
        _after_write(db, keyring, client, "allocation", allocation_id, {"active": True}, body)
        return WriteResult(201, representation(db, keyring, "allocation", row, client.client_id), row["version"])
    return write(db, keyring, client, "allocation", family_id, existing[0]["id"],
                 _AllocationActive(active=body.active), if_match, "update")


class _AllocationActive(_Write):
    active: bool | U = UNSET
