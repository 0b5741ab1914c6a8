from __future__ import annotations

from typing import Annotated, Any

import msgspec

from sync.shapes import field_type

from ..accounts.schemas import Uuid
from ..followups.schemas import Date, FollowUpRead
from ..followups.schemas import Text as FollowUpText

Decision = field_type("flag", "decision", min_length=1)
Rationale = field_type("flag", "rationale", min_length=1)


class DecisionFollowUp(msgspec.Struct, forbid_unknown_fields=True):
    text: FollowUpText
    due_date: Date
    # Default: the practitioner allocated to the visit behind the flag.
    assignee_id: Uuid | None = None


class FlagDecision(msgspec.Struct, forbid_unknown_fields=True):
    decision: Decision
    rationale: Rationale
    # Close the flag with this decision (a flag can only be closed with one).
    close: bool = True
    follow_ups: Annotated[list[DecisionFollowUp], msgspec.Meta(max_length=20)] = []


class FlagRead(msgspec.Struct):
    id: str
    family_id: str
    visit_id: str | None
    rule_id: str | None
    subject_id: str | None
    severity: str
    reason: str
    answers: Any
    status: str
    acknowledged_by: str | None
    acknowledged_at: str | None
    decision: str | None
    rationale: str | None
    decided_by: str | None
    decided_at: str | None
    raised_by: str | None
    created_at: str
    age_hours: float
    version: int


class FlagRecord(msgspec.Struct):
    """What the flag is about, for the supervisor deciding on it."""

    family: dict[str, Any]
    visit: dict[str, Any] | None
    subject: dict[str, Any] | None
    follow_ups: list[FollowUpRead]


class FlagDetail(msgspec.Struct):
    flag: FlagRead
    record: FlagRecord
    created_follow_ups: list[FollowUpRead] = []


class PractitionerSync(msgspec.Struct):
    user_id: str
    display_name: str
    role: str
    last_sync_at: str | None


class PractitionerOverdue(msgspec.Struct):
    user_id: str
    display_name: str
    count: int
    follow_ups: list[FollowUpRead]


class Overview(msgspec.Struct):
    generated_at: str
    open_flags_by_severity: dict[str, int]
    flags: list[FlagRead]
    overdue_by_practitioner: list[PractitionerOverdue]
    practitioners: list[PractitionerSync]
