"""Families and their people: reads scoped by ``access``; writes are ops through the one
write path (``server.writes``, ``sync.merge``), which decides who may do what."""

from __future__ import annotations

from typing import Any

import msgspec

from sync.writer import make_create, make_set

from .. import audit, writes
from ..access import Principal, load_in_reach, require_family
from ..errors import NotFound, id_taken
from ..ids import new_id
from ..storage import families as family_rows, records
from ..storage.crypto import Keyring
from ..storage.tx import Tx
from .schemas import (
    AllocationCreate,
    AllocationRead,
    FamilyCreate,
    FamilyRead,
    FamilySummary,
    FamilyUpdate,
    FlagRead,
    FollowUpRead,
    ObservationRead,
    PersonCreate,
    PersonRead,
    RelationshipRead,
    VisitRead,
)


def list_families(db: Tx, keyring: Keyring, p: Principal) -> list[FamilySummary]:
    out = [msgspec.convert(r, FamilySummary) for r in family_rows.in_reach(db, keyring, p)]
    audit.record(db, "families-listed", purpose="caseload", detail={"count": len(out)}, **audit.by(p))
    return sorted(out, key=lambda f: f.family_name)


def get_family(db: Tx, keyring: Keyring, p: Principal, family_id: str) -> FamilyRead:
    require_family(db, p, family_id)
    family = records.get(db, keyring, "family", family_id)
    assert family is not None

    def rows(entity: str) -> list[dict[str, Any]]:
        return family_rows.of_family(db, keyring, entity, family_id)

    audit.record(db, "family-read", entity="family", entity_id=family_id, family_id=family_id,
                 purpose="view family record", **audit.by(p))
    return FamilyRead(
        **{k: family[k] for k in ("id", "family_name", "address", "postcode", "phone", "notes", "team_id", "status",
                                  "version")},
        persons=[msgspec.convert(r, PersonRead) for r in rows("person")],
        relationships=[msgspec.convert(r, RelationshipRead) for r in rows("relationship")],
        allocations=[msgspec.convert(r, AllocationRead) for r in rows("allocation")],
        visits=[msgspec.convert(r, VisitRead) for r in rows("visit")],
        follow_ups=[msgspec.convert(r, FollowUpRead) for r in rows("follow_up")],
        flags=[msgspec.convert(r, FlagRead) for r in rows("flag")],
        observations=[msgspec.convert(r, ObservationRead) for r in rows("observation")],
    )


def _values(body: msgspec.Struct) -> dict[str, Any]:
    """A create body as op values: what was sent (an empty optional field is simply absent)."""
    return {k: v for k, v in msgspec.to_builtins(body).items() if k != "id" and v is not None}


def _unused(db: Tx, entity: str, record_id: str) -> None:
    if family_rows.exists(db, entity, record_id):
        raise id_taken()


def create_family(db: Tx, keyring: Keyring, p: Principal, body: FamilyCreate) -> FamilyRead:
    """A new family: the merge sets a supervisor's team and refuses another team's."""
    family_id = body.id or new_id()
    _unused(db, "family", family_id)
    writes.apply(db, keyring, p, [make_create("family", family_id, family_id, _values(body))])
    audit.record(db, "family-created", entity="family", entity_id=family_id, family_id=family_id, **audit.by(p))
    return get_family(db, keyring, p, family_id)


def update_family(
    db: Tx, keyring: Keyring, p: Principal, family_id: str, body: FamilyUpdate,
    if_match: str | None,
) -> writes.Written:
    family = load_in_reach(db, keyring, p, "family", family_id, "family")
    version = writes.require_if_match(if_match, family)
    ops = writes.set_ops("family", family, body.changes(), version)
    results = writes.apply(db, keyring, p, ops)
    audit.record(db, "family-updated", entity="family", entity_id=family_id, family_id=family_id,
                 detail={"fields": sorted(body.changes())}, **audit.by(p))
    read = get_family(db, keyring, p, family_id)
    return writes.outcome(read, read.version, ops, results)


def add_person(
    db: Tx, keyring: Keyring, p: Principal, family_id: str, body: PersonCreate
) -> PersonRead:
    require_family(db, p, family_id)
    person_id = body.id or new_id()
    _unused(db, "person", person_id)
    writes.apply(db, keyring, p, [make_create("person", person_id, family_id, _values(body))])
    audit.record(db, "person-created", entity="person", entity_id=person_id, family_id=family_id, **audit.by(p))
    return msgspec.convert(records.get(db, keyring, "person", person_id), PersonRead)


def allocate(
    db: Tx, keyring: Keyring, p: Principal, family_id: str, body: AllocationCreate
) -> AllocationRead:
    """Allocate a practitioner. A create, so no If-Match: an allocation that exists is made
    active again (the request says what it wants, whatever the allocation's history)."""
    require_family(db, p, family_id)
    existing = family_rows.allocations(db, keyring, family_id, body.practitioner_id)
    if existing:
        allocation_id = existing[0]["id"]
        base = writes.base_version(existing[0], "active", int(existing[0]["version"]))
        op = make_set("allocation", allocation_id, family_id, "active", True, base)
    else:
        allocation_id = new_id()
        op = make_create("allocation", allocation_id, family_id, {"practitioner_id": body.practitioner_id,
                                                                  "active": True})
    writes.apply(db, keyring, p, [op])
    audit.record(db, "family-allocated", entity="allocation", entity_id=allocation_id, family_id=family_id,
                 **audit.by(p))
    return msgspec.convert(records.get(db, keyring, "allocation", allocation_id), AllocationRead)


def deallocate(
    db: Tx, keyring: Keyring, p: Principal, family_id: str, practitioner_id: str,
    if_match: str | None,
) -> writes.Written:
    require_family(db, p, family_id)
    existing = family_rows.allocations(db, keyring, family_id, practitioner_id, active_only=True)
    if not existing:
        raise NotFound("That practitioner is not allocated to this family.")
    allocation = existing[0]
    ops = writes.set_ops("allocation", allocation, {"active": False}, writes.require_if_match(if_match, allocation))
    results = writes.apply(db, keyring, p, ops)
    audit.record(db, "family-deallocated", entity="allocation", entity_id=allocation["id"], family_id=family_id,
                 **audit.by(p))
    read = msgspec.convert(records.get(db, keyring, "allocation", allocation["id"]), AllocationRead)
    return writes.outcome(read, read.version, ops, results)
