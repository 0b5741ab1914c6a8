"""Families and their people: reads scoped by ``access``, writes through ``records``."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlite_utils

from .. import audit
from ..access import Principal, family_condition, require_family, require_role
from ..errors import FieldError, InvalidInput, NotFound
from ..ids import new_id
from ..storage import records
from ..storage.crypto import Keyring
from ..storage.records import Actor
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


def actor_of(p: Principal) -> Actor:
    return Actor(user_id=p.user_id, device_id=p.device_id)


def list_families(db: sqlite_utils.Database, keyring: Keyring, p: Principal) -> list[FamilySummary]:
    cond, params = family_condition(p, "id")
    rows = records.find(db, keyring, "family", cond, params, order_by="id")
    out = [msgspec.convert(r, FamilySummary) for r in rows]
    audit.record(db, "families-listed", purpose="caseload", detail={"count": len(out)}, **audit.by(p))
    return sorted(out, key=lambda f: f.family_name)


def get_family(db: sqlite_utils.Database, keyring: Keyring, p: Principal, family_id: str) -> FamilyRead:
    require_family(db, p, family_id)
    family = records.get(db, keyring, "family", family_id)
    assert family is not None

    def rows(entity: str, order_by: str = "created_at, id") -> list[dict[str, Any]]:
        return records.find(db, keyring, entity, "family_id = ?", [family_id], order_by=order_by)

    audit.record(db, "family-read", entity="family", entity_id=family_id, family_id=family_id,
                 purpose="view family record", **audit.by(p))
    return FamilyRead(
        **{k: family[k] for k in ("id", "family_name", "address", "postcode", "phone", "notes", "team_id", "status",
                                  "version")},
        persons=[msgspec.convert(r, PersonRead) for r in rows("person")],
        relationships=[msgspec.convert(r, RelationshipRead) for r in rows("relationship")],
        allocations=[msgspec.convert(r, AllocationRead) for r in rows("allocation")],
        visits=[msgspec.convert(r, VisitRead) for r in rows("visit", "planned_for DESC, id")],
        follow_ups=[msgspec.convert(r, FollowUpRead) for r in rows("follow_up", "due_at, id")],
        flags=[msgspec.convert(r, FlagRead) for r in rows("flag", "created_at DESC, id")],
        observations=[msgspec.convert(r, ObservationRead) for r in rows("observation", "recorded_at, id")],
    )


def _check_team(db: sqlite_utils.Database, p: Principal, team_id: str | None) -> str | None:
    if p.role == "supervisor":
        # Supervisors create families in their own team only.
        if team_id not in (None, p.team_id):
            raise InvalidInput("You can only add families to your own team.",
                               errors=[FieldError("body.team_id", "not your team")])
        return p.team_id
    if team_id and not list(db.query("SELECT 1 FROM teams WHERE id = ? AND agency_id = ?", [team_id, p.agency_id])):
        raise InvalidInput("No such team.", errors=[FieldError("body.team_id", "no such team in this agency")])
    return team_id


def create_family(db: sqlite_utils.Database, keyring: Keyring, p: Principal, body: FamilyCreate) -> FamilyRead:
    require_role(p, "admin", "supervisor")
    team_id = _check_team(db, p, body.team_id)
    family_id = body.id or new_id()
    if list(db.query("SELECT 1 FROM families WHERE id = ?", [family_id])):
        raise InvalidInput("That id is already used.", errors=[FieldError("body.id", "already used")])
    values = msgspec.to_builtins(body)
    values.update(id=family_id, agency_id=p.agency_id, team_id=team_id, status="active")
    records.insert(db, keyring, "family", values, actor_of(p))
    audit.record(db, "family-created", entity="family", entity_id=family_id, family_id=family_id, **audit.by(p))
    return get_family(db, keyring, p, family_id)


def update_family(
    db: sqlite_utils.Database, keyring: Keyring, p: Principal, family_id: str, body: FamilyUpdate
) -> FamilyRead:
    require_family(db, p, family_id)
    require_role(p, "admin", "supervisor")
    records.update(db, keyring, "family", family_id, body.changes(), actor_of(p))
    audit.record(db, "family-updated", entity="family", entity_id=family_id, family_id=family_id, **audit.by(p))
    return get_family(db, keyring, p, family_id)


def add_person(
    db: sqlite_utils.Database, keyring: Keyring, p: Principal, family_id: str, body: PersonCreate
) -> PersonRead:
    require_family(db, p, family_id)
    require_role(p, "admin", "supervisor")
    person_id = body.id or new_id()
    if list(db.query("SELECT 1 FROM persons WHERE id = ?", [person_id])):
        raise InvalidInput("That id is already used.", errors=[FieldError("body.id", "already used")])
    values = msgspec.to_builtins(body)
    if values.get("nhs_number"):
        values["nhs_number"] = "".join(values["nhs_number"].split())
    values.update(id=person_id, agency_id=p.agency_id, family_id=family_id)
    records.insert(db, keyring, "person", values, actor_of(p))
    if values.get("nhs_number"):
        db.execute("UPDATE persons SET nhs_number_index = ? WHERE id = ?",
                   [keyring.blind_index("nhs", values["nhs_number"]), person_id])
    audit.record(db, "person-created", entity="person", entity_id=person_id, family_id=family_id, **audit.by(p))
    row = records.get(db, keyring, "person", person_id)
    return msgspec.convert(row, PersonRead)


def allocate(
    db: sqlite_utils.Database, keyring: Keyring, p: Principal, family_id: str, body: AllocationCreate
) -> AllocationRead:
    require_family(db, p, family_id)
    require_role(p, "admin", "supervisor")
    practitioner = list(
        db.query("SELECT * FROM users WHERE id = ? AND agency_id = ? AND role = 'practitioner'",
                 [body.practitioner_id, p.agency_id])
    )
    if not practitioner:
        raise InvalidInput("No such practitioner.", errors=[FieldError("body.practitioner_id", "no such practitioner")])
    existing = records.find(db, keyring, "allocation", "family_id = ? AND practitioner_id = ?",
                            [family_id, body.practitioner_id])
    if existing:
        records.update(db, keyring, "allocation", existing[0]["id"], {"active": True}, actor_of(p))
        allocation_id = existing[0]["id"]
    else:
        allocation_id = new_id()
        records.insert(db, keyring, "allocation",
                       {"id": allocation_id, "agency_id": p.agency_id, "family_id": family_id,
                        "practitioner_id": body.practitioner_id, "active": True}, actor_of(p))
    audit.record(db, "family-allocated", entity="allocation", entity_id=allocation_id, family_id=family_id,
                 **audit.by(p))
    return msgspec.convert(records.get(db, keyring, "allocation", allocation_id), AllocationRead)


def deallocate(
    db: sqlite_utils.Database, keyring: Keyring, p: Principal, family_id: str, practitioner_id: str
) -> AllocationRead:
    require_family(db, p, family_id)
    require_role(p, "admin", "supervisor")
    existing = records.find(db, keyring, "allocation", "family_id = ? AND practitioner_id = ? AND active = 1",
                            [family_id, practitioner_id])
    if not existing:
        raise NotFound("That practitioner is not allocated to this family.")
    records.update(db, keyring, "allocation", existing[0]["id"], {"active": False}, actor_of(p))
    audit.record(db, "family-deallocated", entity="allocation", entity_id=existing[0]["id"], family_id=family_id,
                 **audit.by(p))
    return msgspec.convert(records.get(db, keyring, "allocation", existing[0]["id"]), AllocationRead)
