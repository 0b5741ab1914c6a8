from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from ..accounts.schemas import Uuid

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Date = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", description="a local date (agency time zone)")]


class FollowUpCreate(msgspec.Struct, forbid_unknown_fields=True):
    family_id: Uuid
    text: Text
    # The local day it is due (agency time zone); due at the end of that day.
    due_date: Date
    assignee_id: Uuid | None = None
    visit_id: Uuid | None = None
    id: Uuid | None = None


class FollowUpComplete(msgspec.Struct, forbid_unknown_fields=True):
    note: Text
    status: Literal["done", "cancelled"] = "done"


class FollowUpReassign(msgspec.Struct, forbid_unknown_fields=True):
    assignee_id: Uuid
    due_date: Date | None = None


class FollowUpRead(msgspec.Struct):
    id: str
    family_id: str
    visit_id: str | None
    rule_id: str | None
    subject_id: str | None
    assignee_id: str | None
    due_at: str
    due_date: str
    text: str
    status: str
    note: str | None
    completed_at: str | None
    overdue: bool
    days_overdue: int
    created_at: str
    version: int
