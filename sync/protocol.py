"""Sync protocol messages (see docs/sync.md).

Ops and instructions are tagged unions on ``"type"``. The decoders are built once, here,
at import. Push bodies are decoded in two steps — the envelope first with each op kept raw,
then each op on its own — so one malformed op is quarantined instead of refusing the whole
batch (which would block everything queued behind it on the phone).

New fields on these messages always get defaults: phones running an older app keep
working, and an older server ignores what it does not know (``forbid_unknown_fields`` is
deliberately off for ops).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from .hlc import PATTERN as HLC_PATTERN
from .model import INT64_MAX

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
MAX_OPS = 1000

Uuid = Annotated[str, msgspec.Meta(pattern=UUID_PATTERN)]
Hlc = Annotated[str, msgspec.Meta(pattern=HLC_PATTERN)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Seq = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
Version = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]


# -- ops ----------------------------------------------------------------------------------


class _Op(msgspec.Struct, kw_only=True, tag_field="type", frozen=True):
    op_id: Uuid
    # 0 for writers without a device sequence (agency write-back, server jobs).
    client_seq: Seq = 0
    hlc: Hlc


class CreateOp(_Op, tag="create", frozen=True):
    entity: Name
    entity_id: Uuid
    family_id: Uuid
    values: dict[Name, Any]


class SetOp(_Op, tag="set", frozen=True):
    entity: Name
    entity_id: Uuid
    family_id: Uuid
    field: Name
    value: Any
    base_version: Version


class ResolveOp(_Op, tag="resolve", frozen=True):
    conflict_id: Uuid
    value: Any


class DeleteOp(_Op, tag="delete", frozen=True):
    entity: Name
    entity_id: Uuid
    family_id: Uuid


Op = CreateOp | SetOp | ResolveOp | DeleteOp


class OpHeader(msgspec.Struct, frozen=True):
    """The least of an op that must be readable to sequence and quarantine it."""

    op_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    client_seq: Seq = 0


class PushRequest(msgspec.Struct, frozen=True):
    ops: Annotated[list[msgspec.Raw], msgspec.Meta(max_length=MAX_OPS)]


# held: kept on the server, not yet applied (the family is out of the writer's reach for
# now, or the device was revoked and a supervisor reviews its upload). Not an error: the
# phone keeps showing the entry as waiting, never as refused or synced.
Status = Literal["applied", "duplicate", "conflict", "rejected", "held"]


class OpResult(msgspec.Struct, omit_defaults=True):
    op_id: str
    client_seq: int
    status: Status
    version: int | None = None
    field_version: int | None = None
    conflict_id: str | None = None
    reason: str | None = None
    # The field's value on the server after the op, sent only when it is not the op's own
    # value (a conflict whose provisional value is another's, a superseded status).
    value: Any = msgspec.UNSET
    # On a duplicate: the status the op's first answer gave (or has now, for a held op
    # since applied), so a phone that lost a reply learns what became of its edit.
    first_status: Status | None = None


class PushResponse(msgspec.Struct):
    results: list[OpResult]
    last_client_seq: int
    server_hlc: str
    device_revoked: bool = False


# -- pull ---------------------------------------------------------------------------------


class Change(msgspec.Struct):
    seq: int
    entity: str
    entity_id: str
    family_id: str | None
    version: int
    op: Literal["insert", "update", "delete"]
    values: dict[str, Any]
    field_versions: dict[str, int]
    backfill: bool = False


class Candidate(msgspec.Struct):
    value: Any
    user_id: str | None = None
    device_id: str | None = None
    client_id: str | None = None
    hlc: str | None = None
    at: str | None = None
    op_id: str | None = None
    # The writer's display name when it was recorded (conflicts opened before it have none).
    user_name: str | None = None


class ConflictRead(msgspec.Struct):
    id: str
    family_id: str
    entity: str
    entity_id: str
    field: str
    status: str
    provisional: Any
    candidates: list[Candidate]
    version: int = 0


class PurgeInstruction(msgspec.Struct, tag_field="type", tag="purge"):
    family_id: str


class BackfillInstruction(msgspec.Struct, tag_field="type", tag="backfill"):
    family_id: str


class UploadInstruction(msgspec.Struct, tag_field="type", tag="upload"):
    last_client_seq: int


class WipeInstruction(msgspec.Struct, tag_field="type", tag="wipe"):
    pass


class ResyncInstruction(msgspec.Struct, tag_field="type", tag="resync"):
    """The cursor belongs to another change log (the database was restored from a backup)
    or lies beyond this one's end: drop the cursor and what the server confirmed, keep the
    outbox, and pull again from 0."""


Instruction = PurgeInstruction | BackfillInstruction | UploadInstruction | WipeInstruction | ResyncInstruction


class PullResponse(msgspec.Struct, kw_only=True, omit_defaults=True):
    changes: list[Change]
    next_cursor: int
    has_more: bool
    # Open conflicts now come as ``conflict`` changes like any other record. The complete
    # list is still sent, on the last page of a pull, to phones that do not send ``epoch``
    # (apps from before conflicts came as changes replace their list with it); otherwise
    # it is left out, never sent empty, so such a phone never clears its list by mistake.
    conflicts: list[ConflictRead] | None = None
    instructions: list[Instruction]
    server_hlc: str
    # The change log's identity (a new one after a restore): send it back with the cursor.
    epoch: str = ""

    @property
    def wipes(self) -> bool:
        """A revoked device that the server holds everything from is told to wipe, with
        nothing else in the answer (one response shape, so clients decode one thing)."""
        return any(isinstance(i, WipeInstruction) for i in self.instructions)

    @property
    def resyncs(self) -> bool:
        return any(isinstance(i, ResyncInstruction) for i in self.instructions)


class QuarantineRead(msgspec.Struct):
    id: str
    op_id: str | None
    client_seq: int | None
    device_id: str | None
    user_id: str | None
    client_id: str | None
    entity: str | None
    entity_id: str | None
    family_id: str | None
    reason: str
    received_at: str
    op: Any


# Built once: decoding is on the hot path of every push.
push_decoder = msgspec.json.Decoder(PushRequest)
op_decoder = msgspec.json.Decoder(Op)
header_decoder = msgspec.json.Decoder(OpHeader)
encoder = msgspec.json.Encoder()
