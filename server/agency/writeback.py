"""Write-back: a core system creates and updates families, people, relationships and
allocations. Every accepted change is a per-field op through the same merge as a phone's
push, so it reaches the phones on their next pull (ending an allocation there purges the
family from that practitioner's phone) and a stale write becomes a recorded conflict, never
a silent overwrite.

Versions: ``If-Match`` carries the record version the core system last saw (the ``ETag``
of a read or write). For each field sent, the base version given to the merge is that
field's own version if it has not changed since, else the (older) version the caller
saw, which the merge then treats as stale: a different value there is a conflict.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
import sqlite_utils

from .. import audit
from ..accounts.schemas import Uuid
from ..errors import DomainError, FieldError, InvalidInput, NotFound, PreconditionFailed
from ..ids import new_id
from ..storage import records
from ..storage.crypto import Keyring
from ..storage.records import Actor
from . import external_ids
from .clients import AgencyClient
from sync.hlc import server_clock

from .merge_port import apply_ops

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
Date = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
UNSET = msgspec.UNSET
U = msgspec.UnsetType


class PreconditionRequired(DomainError):
    status, slug, title = 428, "precondition-required", "If-Match is required"


class ExternalIdIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    system: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


# A record has a handful of identifiers in other systems, never hundreds.
ExternalIds = Annotated[list[ExternalIdIn], msgspec.Meta(max_length=20)]


class _Write(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    def changes(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__struct_fields__
                if f not in ("id", "external_ids") and getattr(self, f) is not UNSET}


class FamilyWrite(_Write):
    family_name: Name | U = UNSET
    team_id: Uuid | None | U = UNSET
    address: Text | None | U = UNSET
    postcode: Annotated[str, msgspec.Meta(max_length=10)] | None | U = UNSET
    phone: Annotated[str, msgspec.Meta(max_length=30)] | None | U = UNSET
    notes: Text | None | U = UNSET
    status: Literal["active", "closed"] | U = UNSET
    id: Uuid | U = UNSET
    external_ids: ExternalIds = []


class PersonWrite(_Write):
    role: Literal["child", "unborn", "mother", "father", "male-carer", "partner", "other-adult"] | U = UNSET
    given_name: Name | None | U = UNSET
    family_name: Name | None | U = UNSET
    date_of_birth: Date | None | U = UNSET
    expected_date: Date | None | U = UNSET
    sex: Literal["female", "male", "other", "unknown"] | None | U = UNSET
    nhs_number: Annotated[str, msgspec.Meta(pattern=r"^\d{3} ?\d{3} ?\d{4}$")] | None | U = UNSET
    ethnicity: Name | None | U = UNSET
    language: Name | None | U = UNSET
    interpreter_needed: bool | U = UNSET
    lives_in_household: bool | U = UNSET
    protection_plan: bool | U = UNSET
    id: Uuid | U = UNSET
    external_ids: ExternalIds = []


class RelationshipWrite(_Write):
    adult_id: Uuid | U = UNSET
    child_id: Uuid | U = UNSET
    relationship: Name | U = UNSET
    parental_responsibility: bool | U = UNSET
    id: Uuid | U = UNSET
    external_ids: ExternalIds = []


class AllocationWrite(_Write):
    active: bool = True


REQUIRED_ON_CREATE = {"family": ("family_name",), "person": ("role",), "relationship": ("adult_id", "child_id",
                                                                                         "relationship")}


def parse_if_match(header: str | None) -> int | None:
    if header is None or not header.strip():
        return None
    text = header.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if not text.isdigit():
        raise InvalidInput("If-Match must be a record version such as \"3\".",
                           errors=[FieldError("header.If-Match", "not a version")])
    return int(text)


def actor_of(client: AgencyClient) -> Actor:
    return Actor(client_id=client.client_id, hlc=server_clock.now())


# -- reads --------------------------------------------------------------------------------


def _family_row(db, keyring, client: AgencyClient, family_id: str) -> dict[str, Any]:
    row = records.get(db, keyring, "family", family_id)
    if row is None or row["agency_id"] != client.agency_id:
        raise NotFound("No such family.")
    return row


def representation(db, keyring, entity: str, row: dict[str, Any]) -> dict[str, Any]:
    spec = records.ENTITIES[entity]
    out = {"id": row["id"], "family_id": row.get("family_id"), "version": row["version"],
           "field_versions": {k: int(m.get("v", 0)) for k, m in row["field_meta"].items()},
           **{f: row.get(f) for f in spec.fields}}
    out["external_ids"] = external_ids.of(db, keyring, entity, [row["id"]]).get(row["id"], [])
    return out


def read_family(db, keyring, client: AgencyClient, family_id: str) -> dict[str, Any]:
    row = _family_row(db, keyring, client, family_id)
    out = representation(db, keyring, "family", row)
    for entity, key in (("person", "persons"), ("relationship", "relationships"), ("allocation", "allocations")):
        out[key] = [representation(db, keyring, entity, r)
                    for r in records.find(db, keyring, entity, "family_id = ?", [family_id])]
    out["conflicts"] = [
        {k: c[k] for k in ("id", "entity", "entity_id", "field", "status", "candidates", "version")}
        for c in records.find(db, keyring, "conflict", "family_id = ? AND status = 'open'", [family_id])
        if c["entity"] in ("family", "person", "relationship", "allocation")]
    audit.record(db, "agency-family-read", agency_id=client.agency_id, client_id=client.client_id,
                 entity="family", entity_id=family_id, family_id=family_id, purpose="core system read")
    return out


def find_family(db, keyring, client: AgencyClient, system: str | None, value: str) -> dict[str, Any]:
    fid = external_ids.lookup(db, keyring, client.agency_id, "family",
                              external_ids.ExternalId(system=system or client.identifier_system, value=value))
    if not fid:
        raise NotFound("No family has that identifier.")
    return read_family(db, keyring, client, fid)


# -- writes -------------------------------------------------------------------------------


class WriteResult(msgspec.Struct):
    status_code: int
    body: dict[str, Any]
    version: int


def write(
    db: sqlite_utils.Database,
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
    if entity == "family":
        if values.get("team_id") and not list(db.query("SELECT 1 FROM teams WHERE id = ? AND agency_id = ?",
                                                       [values["team_id"], client.agency_id])):
            raise InvalidInput("No such team.", errors=[FieldError("body.team_id", "no such team in this agency")])
    else:
        _family_row(db, keyring, client, family_id or "")
        _check_refs(db, client, entity, family_id or "", values)
    if entity == "person" and values.get("nhs_number"):
        values["nhs_number"] = "".join(values["nhs_number"].split())
    row_id = row_id or (getattr(body, "id", UNSET) if getattr(body, "id", UNSET) is not UNSET else None) or new_id()
    existing = records.get(db, keyring, entity, row_id, include_deleted=True)
    if existing is not None and (existing["agency_id"] != client.agency_id
                                 or (entity != "family" and existing["family_id"] != family_id)):
        raise NotFound(f"No such {entity}.")
    if existing is not None and existing["deleted"]:
        raise NotFound(f"No such {entity}.")
    actor = actor_of(client)
    if existing is None:
        if mode == "update":
            raise NotFound(f"No such {entity}.")
        missing = [f for f in REQUIRED_ON_CREATE.get(entity, ()) if values.get(f) in (None, UNSET)]
        if missing:
            raise InvalidInput("Some fields are needed to create this record.",
                               errors=[FieldError(f"body.{f}", "required") for f in missing])
        if entity == "family":
            values.setdefault("status", "active")
        _refused(apply_ops(db, keyring, actor, [{"type": "create", "op_id": new_id(), "entity": entity,
                                                 "entity_id": row_id, "agency_id": client.agency_id,
                                                 "family_id": family_id, "values": values, "hlc": actor.hlc}]))
        _after_write(db, keyring, client, entity, row_id, values, body)
        row = records.get(db, keyring, entity, row_id)
        assert row is not None
        return WriteResult(201, representation(db, keyring, entity, row), row["version"])
    if mode == "create":
        raise _exists(entity)
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the version you last read (the ETag).")
    if if_match > existing["version"]:
        raise PreconditionFailed("If-Match names a version this record has not reached.",
                                 errors=[FieldError("header.If-Match", f"latest is {existing['version']}")])
    spec = records.ENTITIES[entity]
    bad = [f for f in values if f in spec.immutable and values[f] != existing.get(f)]
    if bad:
        raise InvalidInput("These fields cannot be changed.", errors=[FieldError(f"body.{f}", "fixed at creation")
                                                                      for f in bad])
    ops = []
    for fld, value in values.items():
        fv = int((existing["field_meta"].get(fld) or {}).get("v", 0))
        ops.append({"type": "set", "op_id": new_id(), "entity": entity, "entity_id": row_id, "family_id":
                    existing["family_id"], "field": fld, "value": value,
                    "base_version": fv if fv <= if_match else if_match, "hlc": actor.hlc})
    results = apply_ops(db, keyring, actor, ops)
    _after_write(db, keyring, client, entity, row_id, values, body)
    row = records.get(db, keyring, entity, row_id)
    assert row is not None
    conflicts = [r for r in results if r["status"] == "conflict"]
    rejected = [r for r in results if r["status"] == "rejected"]
    if rejected:
        raise InvalidInput("Some fields could not be written.",
                           errors=[FieldError(f"body.{r['field']}", r["reason"] or "rejected") for r in rejected])
    current = representation(db, keyring, entity, row)
    if conflicts:
        return WriteResult(409, {
            "type": "urn:hearthside:problem:edit-conflict",
            "title": "The record changed since that version",
            "status": 409,
            "detail": "Fields changed by someone else since the If-Match version are recorded as conflicts for a"
                      " person to resolve; the other fields were merged.",
            "conflicting_fields": [r["field"] for r in conflicts],
            "conflicts": [{"field": r["field"], "conflict_id": r["conflict_id"], "yours": values[r["field"]],
                           "current": _before(existing, r["field"])} for r in conflicts],
            "applied_fields": [r["field"] for r in results if r["status"] == "applied"],
            "current": current,
        }, row["version"])
    return WriteResult(200, current, row["version"])


def _refused(results: list[dict[str, Any]]) -> None:
    """A create the merge would not apply: nothing is kept (the transaction rolls back)."""
    bad = [r for r in results if r["status"] not in ("applied", "duplicate")]
    if bad:
        raise InvalidInput("The record could not be created.",
                           errors=[FieldError("body", r.get("reason") or r["status"]) for r in bad])


def _before(existing: dict[str, Any], fld: str) -> Any:
    return existing.get(fld)


def _exists(entity: str) -> DomainError:
    from ..errors import Conflict

    return Conflict(f"That {entity} already exists; update it with PUT or PATCH and If-Match.",
                    errors=[FieldError("body.id", "already used")])


def _check_refs(db, client: AgencyClient, entity: str, family_id: str, values: dict[str, Any]) -> None:
    if entity == "relationship":
        for fld in ("adult_id", "child_id"):
            if fld in values and not list(db.query("SELECT 1 FROM persons WHERE id = ? AND family_id = ? AND deleted = 0",
                                                   [values[fld], family_id])):
                raise InvalidInput("No such person in this family.", errors=[FieldError(f"body.{fld}", "no such person")])


def _after_write(db, keyring, client: AgencyClient, entity: str, row_id: str, values: dict[str, Any], body: Any) -> None:
    if entity == "person" and "nhs_number" in values:
        db.execute("UPDATE persons SET nhs_number_index = ? WHERE id = ?",
                   [keyring.blind_index("nhs", values["nhs_number"]) if values["nhs_number"] else None, row_id])
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
    if not list(db.query("SELECT 1 FROM users WHERE id = ? AND agency_id = ? AND role = 'practitioner'",
                         [practitioner_id, client.agency_id])):
        raise NotFound("No such practitioner.")
    existing = records.find(db, keyring, "allocation", "family_id = ? AND practitioner_id = ?",
                            [family_id, practitioner_id])
    if not existing:
        if not body.active:
            raise NotFound("That practitioner is not allocated to this family.")
        allocation_id = new_id()
        actor = actor_of(client)
        _refused(apply_ops(db, keyring, actor, [{"type": "create", "op_id": new_id(), "entity": "allocation",
                                                 "entity_id": allocation_id, "agency_id": client.agency_id,
                                                 "family_id": family_id, "hlc": actor.hlc,
                                                 "values": {"practitioner_id": practitioner_id, "active": True}}]))
        row = records.get(db, keyring, "allocation", allocation_id)
        assert row is not None
        _after_write(db, keyring, client, "allocation", allocation_id, {"active": True}, body)
        return WriteResult(201, representation(db, keyring, "allocation", row), row["version"])
    return write(db, keyring, client, "allocation", family_id, existing[0]["id"],
                 _AllocationActive(active=body.active), if_match, "update")


class _AllocationActive(_Write):
    active: bool | U = UNSET
