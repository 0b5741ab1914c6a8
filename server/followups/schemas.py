from __future__ import annotations

from typing import Annotated

import msgspec

from sync.shapes import field_type, finished
from sync.values import DATE_RE

from ..accounts.schemas import Uuid

Text = field_type("follow_up", "text", min_length=1)
Note = field_type("follow_up", "note", min_length=1)
Date = Annotated[str, msgspec.Meta(pattern=DATE_RE.pattern, description="a local date (agency time zone)")]
Finished = finished("follow_up")


class FollowUpCreate(msgspec.Struct, forbid_unknown_fields=True):
    family_id: Uuid
    text: Text
    # The local day it is due (agency time zone); due at the end of that day.
    due_date: Date
    assignee_id: Uuid | None = None
    visit_id: Uuid | None = None
    id: Uuid | None = None


class FollowUpComplete(msgspec.Struct, forbid_unknown_fields=True):
    note: Note
    status: Finished = "done"


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
