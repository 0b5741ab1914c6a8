from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from ..accounts.schemas import Uuid

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
Date = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
PersonRole = Literal["child", "unborn", "mother", "father", "male-carer", "partner", "other-adult"]


class PersonCreate(msgspec.Struct, forbid_unknown_fields=True):
    role: PersonRole
    given_name: Name
    family_name: Name | None = None
    date_of_birth: Date | None = None
    expected_date: Date | None = None
    sex: Literal["female", "male", "other", "unknown"] | None = None
    nhs_number: Annotated[str, msgspec.Meta(pattern=r"^\d{3} ?\d{3} ?\d{4}$")] | None = None
    ethnicity: Name | None = None
    language: Name | None = None
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
    family_name: Name
    team_id: Uuid | None = None
    address: Text | None = None
    postcode: Annotated[str, msgspec.Meta(max_length=10)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=30)] | None = None
    notes: Text | None = None
    id: Uuid | None = None


class FamilyUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    family_name: Name | msgspec.UnsetType = msgspec.UNSET
    address: Text | None | msgspec.UnsetType = msgspec.UNSET
    postcode: Annotated[str, msgspec.Meta(max_length=10)] | None | msgspec.UnsetType = msgspec.UNSET
    phone: Annotated[str, msgspec.Meta(max_length=30)] | None | msgspec.UnsetType = msgspec.UNSET
    notes: Text | None | msgspec.UnsetType = msgspec.UNSET
    status: Literal["active", "closed"] | msgspec.UnsetType = msgspec.UNSET

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
