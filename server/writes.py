"""REST writes as ops: the translators' shared part.

A REST handler (and the agency write-back) validates its body, builds ops with
``sync.writer.make_*`` and applies them here through ``sync.merge`` — the merge a phone's
push uses, under the one policy (``sync.policy``). Strictly: a refusal is raised and
mapped to problem+json by ``server.errors`` (the caller is waiting for the answer, so
nothing goes to the sync quarantine), and the request's transaction rolls back.

Every write to an existing record names the version it was based on: ``If-Match`` with
the record's version (its ``ETag``). For each field sent, the base version given to the
merge is the field's own version when it has not changed since that version, else the
version the caller saw, which the merge treats as stale: a different value there opens a
conflict (answered 409, naming the field and the conflict), never a silent overwrite.
Without ``If-Match`` the write is refused with 428, never applied blind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec
from litestar import Response
from litestar.params import HeaderParameter

from sync import merge
from sync.protocol import Op, OpResult, SetOp
from sync.writer import make_set

from .access import Principal
from .errors import PROBLEM_JSON, FieldError, InvalidInput, PreconditionFailed, PreconditionRequired
from .storage.crypto import Keyring
from .storage.records import Actor
from .storage.tx import Tx

IfMatch = Annotated[str | None, HeaderParameter(
    name="If-Match", required=False,
    description="The record's version you last read (its ETag). Required to change an existing record.")]


def parse_if_match(header: str | None) -> int | None:
    """The version named by an ``If-Match`` header (``"3"``, ``W/"3"`` or ``3``)."""
    if header is None or not header.strip():
        return None
    text = header.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if not text.isdigit() or len(text) > 12:
        raise InvalidInput("If-Match must be a record version such as \"3\".",
                           errors=[FieldError("header.If-Match", "not a version")])
    return int(text)


def require_if_match(header: str | None, record: dict[str, Any]) -> int:
    """The version a write to ``record`` was based on, from its ``If-Match`` header."""
    return based_on(parse_if_match(header), record)


def based_on(version: int | None, record: dict[str, Any]) -> int:
    """428 without a version, 412 for one the record has not reached."""
    if version is None:
        raise PreconditionRequired("Send If-Match with the version you last read (the ETag).",
                                   errors=[FieldError("header.If-Match", "required to change this record")])
    if version > int(record["version"]):
        raise PreconditionFailed("If-Match names a version this record has not reached.",
                                 errors=[FieldError("header.If-Match", f"latest is {record['version']}")])
    return version


def base_version(record: dict[str, Any], name: str, if_match: int) -> int:
    fv = int((record["field_meta"].get(name) or {}).get("v", 0))
    return fv if fv <= if_match else if_match


def set_ops(entity: str, record: dict[str, Any], changes: dict[str, Any], if_match: int) -> list[SetOp]:
    return [make_set(entity, record["id"], record["family_id"], name, value, base_version(record, name, if_match))
            for name, value in changes.items()]


def actor_of(p: Principal) -> Actor:
    return Actor(user_id=p.user_id, device_id=p.device_id or None)


def apply(db: Tx, keyring: Keyring, p: Principal, ops: list[Op]) -> list[OpResult]:
    """Apply a signed-in person's ops strictly (see the module's docstring)."""
    return merge.apply_ops(db, keyring, actor_of(p), ops, principal=p, strict=True)


@dataclass
class Written:
    """What a write answered: the record as it now reads, its version, and the fields the
    merge kept as conflicts (each with its conflict id) rather than applying."""

    read: Any
    version: int
    conflicts: list[dict[str, str]] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    status: int = 200


def outcome(read: Any, version: int, ops: list[Op], results: list[OpResult], status: int = 200) -> Written:
    conflicts, applied = [], []
    for op, r in zip(ops, results):
        name = getattr(op, "field", None) or getattr(op, "entity", "")
        if r.status == "conflict":
            conflicts.append({"field": name, "conflict_id": r.conflict_id or ""})
        elif isinstance(op, SetOp):
            applied.append(name)
    return Written(read, version, conflicts, applied, status)


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def respond(w: Written) -> Response:
    """200 / 201 with the read shape and its ETag; 409 problem+json when a field became a
    conflict (the transaction still commits: the conflict is kept for a person to resolve,
    and the other fields were applied)."""
    if not w.conflicts:
        return Response(w.read, status_code=w.status, headers=etag(w.version))
    body = {
        "type": "urn:hearthside:problem:edit-conflict",
        "title": "The record changed since that version",
        "status": 409,
        "detail": "Fields changed by someone else since the If-Match version are kept as conflicts for a person"
                  " to resolve; the other fields were applied.",
        "errors": [{"field": f"body.{c['field']}", "message": "changed since your version: kept as a conflict"}
                   for c in w.conflicts],
        "conflicting_fields": [c["field"] for c in w.conflicts],
        "conflicts": w.conflicts,
        "applied_fields": w.applied,
        "current": msgspec.to_builtins(w.read),
    }
    return Response(body, status_code=409, media_type=PROBLEM_JSON, headers=etag(w.version))
