from __future__ import annotations

from typing import Any

import msgspec

from sync.shapes import Date, field_type

from ..accounts.schemas import Uuid

# Each field's type, limit and choices come from the model (``sync.model``).
FamilyName = field_type("family", "family_name", min_length=1)
Address = field_type("family", "address")
Postcode = field_type("family", "postcode")
Phone = field_type("family", "phone")
Notes = field_type("family", "notes")
FamilyStatus = field_type("family", "status")
PersonRole = field_type("person", "role")
GivenName = field_type("person", "given_name", min_length=1)
Surname = field_type("person", "family_name", min_length=1)
Sex = field_type("person", "sex")
NhsNumber = field_type("person", "nhs_number")
Ethnicity = field_type("person", "ethnicity", min_length=1)
Language = field_type("person", "language", min_length=1)


class PersonCreate(msgspec.Struct, forbid_unknown_fields=True):
    role: PersonRole
    given_name: GivenName
    family_name: Surname | None = None
    date_of_birth: Date | None = None
    expected_date: Date | None = None
    sex: Sex | None = None
    nhs_number: NhsNumber | None = None
    ethnicity: Ethnicity | None = None
    language: Language | None = None
    interpreter_needed: bool = False
    lives_in_household: bool = True
    protection_plan: bool = False
    id: Uuid | None = None


class PersonRead(msgspec.Struct):
    id: str
    role: str
    given_name: str | None
    family_name: str | None
    date_of_birth: str | None
    expected_date: str | None
    sex: str | None
    ethnicity: str | None
    language: str | None
    interpreter_needed: bool
    lives_in_household: bool
    protection_plan: bool
    version: int


class RelationshipRead(msgspec.Struct):
    id: str
    adult_id: str
    child_id: str
    relationship: str
    parental_responsibility: bool
    version: int


class AllocationCreate(msgspec.Struct, forbid_unknown_fields=True):
    practitioner_id: Uuid


class AllocationRead(msgspec.Struct):
    id: str
    practitioner_id: str
    active: bool
    version: int


class VisitRead(msgspec.Struct):
    id: str
    practitioner_id: str
    type: str
    status: str
    planned_for: str | None
    completed_at: str | None
    no_access: bool
    version: int


class FollowUpRead(msgspec.Struct):
    id: str
    family_id: str
    assignee_id: str | None
    due_at: str
    text: str
    status: str
    rule_id: str | None
    version: int


class FlagRead(msgspec.Struct):
    id: str
    family_id: str
    severity: str
    reason: str
    status: str
    rule_id: str | None
    decision: str | None
    rationale: str | None
    created_at: str
    version: int


class ObservationRead(msgspec.Struct):
    id: str
    visit_id: str | None
    about_person_id: str | None
    kind: str
    text: str
    supersedes_id: str | None
    recorded_by: str
    recorded_at: str


class FamilyCreate(msgspec.Struct, forbid_unknown_fields=True):
    family_name: FamilyName
    team_id: Uuid | None = None
    address: Address | None = None
    postcode: Postcode | None = None
    phone: Phone | None = None
    notes: Notes | None = None
    id: Uuid | None = None


class FamilyUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    family_name: FamilyName | msgspec.UnsetType = msgspec.UNSET
    address: Address | None | msgspec.UnsetType = msgspec.UNSET
    postcode: Postcode | None | msgspec.UnsetType = msgspec.UNSET
    phone: Phone | None | msgspec.UnsetType = msgspec.UNSET
    notes: Notes | None | msgspec.UnsetType = msgspec.UNSET
    status: FamilyStatus | msgspec.UnsetType = msgspec.UNSET

    def changes(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__struct_fields__ if getattr(self, f) is not msgspec.UNSET}


class FamilySummary(msgspec.Struct):
    id: str
    family_name: str
    postcode: str | None
    team_id: str | None
    status: str
    version: int


class FamilyRead(msgspec.Struct):
    id: str
    family_name: str
    address: str | None
    postcode: str | None
    phone: str | None
    notes: str | None
    team_id: str | None
    status: str
    version: int
    persons: list[PersonRead]
    relationships: list[RelationshipRead]
    allocations: list[AllocationRead]
    visits: list[VisitRead]
    follow_ups: list[FollowUpRead]
    flags: list[FlagRead]
    observations: list[ObservationRead]
