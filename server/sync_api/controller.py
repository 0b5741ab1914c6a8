"""Sync endpoints: push, pull and the admin's view of quarantined ops (docs/sync.md)."""

from __future__ import annotations

import json
import threading
from typing import Any, Literal

import anyio.to_thread
from litestar import Controller, Request, get, post
from litestar.params import Parameter

from sync import held as held_mod
from sync import pull as pull_mod
from sync import push as push_mod
from sync.held import HeldRead
from sync.protocol import OpResult, PullResponse, PushResponse, QuarantineRead

from .. import audit
from .attention import AttentionRead, list_attention
from ..access import Principal, require_role
from ..security.limits import INT64_MAX
from ..storage import held as held_store
from ..storage.db import Database


# Pushes queue here rather than on SQLite's busy handler, whose sleeps (up to 100 ms a try)
# make waiting writers unfair and slow under many concurrent phones.
_WRITE_LOCK = threading.Lock()


class SyncController(Controller):
    path = "/api/v1/sync"
    tags = ["sync"]

    @post("/push", status_code=200, opt={"allow_revoked_device": True})
    async def push_ops(self, request: Request, store: Database, principal: Principal) -> PushResponse:
        """Push a batch of ops (`{"ops": [...]}`, see docs/sync.md). Answered only after the
        batch's transaction has committed; each op is applied, duplicate, conflict or
        rejected (quarantined). A gap in client_seq is a 409 `client-seq-gap` with
        `expected`. A revoked device may still push what it holds."""
        body = await request.body()
        revoked = bool(request.auth)

        def work() -> PushResponse:
            items = push_mod.decode_push(body)
            with _WRITE_LOCK, store.write() as db:
                return push_mod.push(db, store.keyring, principal, None, revoked=revoked, items=items)

        return await anyio.to_thread.run_sync(work)

    @get("/pull", opt={"allow_revoked_device": True}, sync_to_thread=True)
    def pull_changes(
        self,
        request: Request,
        store: Database,
        principal: Principal,
        cursor: int = Parameter(ge=0, le=INT64_MAX, default=0, description="Last next_cursor received; 0 from the start."),
        limit: int = Parameter(ge=1, le=pull_mod.MAX_LIMIT, default=pull_mod.DEFAULT_LIMIT),
        holding_seq: int | None = Parameter(
            ge=0, le=INT64_MAX, default=None, description="Highest client_seq this device ever assigned (needed for a wipe)."
        ),
        epoch: str | None = Parameter(
            default=None, pattern=r"^[A-Za-z0-9-]{1,64}$",
            description="The `epoch` of the answer the cursor came from; a cursor of another epoch gets `resync`.",
        ),
    ) -> PullResponse:
        """Changes after the cursor for the families you may see (open conflicts among
        them, as `conflict` changes), and purge / backfill / upload / wipe / resync
        instructions."""
        revoked = bool(request.auth)
        with store.read() as db:
            answer = pull_mod.pull(db, store.keyring, principal, cursor, limit, holding_seq=holding_seq,
                                   revoked=revoked, epoch=epoch)
        with _WRITE_LOCK, store.write() as db:
            push_mod.mark_synced(db, principal.device_id)
            if answer.wipes:
                audit.record(db, "device-wipe-instructed", purpose="device revoked", entity="device",
                             entity_id=principal.device_id, **audit.by(principal))
            elif answer.resyncs:
                audit.record(db, "sync-resync-instructed", purpose="sync", detail={"cursor": cursor},
                             **audit.by(principal))
            elif answer.changes:
                audit.record(db, "sync-pull", purpose="sync", detail={"changes": len(answer.changes)},
                             **audit.by(principal))
        return answer

    @get("/attention", sync_to_thread=True)
    def list_attention(
        self, store: Database, principal: Principal, limit: int = Parameter(ge=1, le=1000, default=200)
    ) -> list[AttentionRead]:
        """Entries kept that need a person to look at them (their visit or person was
        deleted meanwhile, or they were recorded while the family was out of reach): your
        own, your team's (supervisors) or your agency's (admins)."""
        with store.write() as db:  # a write: reading records is audited
            out = list_attention(db, store.keyring, principal, limit)
            audit.record(db, "attention-listed", purpose="review kept entries", detail={"count": len(out)},
                         **audit.by(principal))
            return out

    @get("/quarantine", sync_to_thread=True)
    def list_quarantine(
        self, store: Database, principal: Principal, limit: int = Parameter(ge=1, le=1000, default=200)
    ) -> list[QuarantineRead]:
        """Refused ops, newest first: a supervisor sees their team's workers', an admin their
        agency's. (Each phone shows its own refused entries where they were made.)"""
        require_role(principal, "supervisor", "admin")
        with store.read() as db:
            return [_quarantine_read(store, r) for r in held_store.quarantined_for(db, principal, limit)]


class HeldController(Controller):
    """Ops kept on the server, not yet applied: a revoked phone's upload waiting for review,
    and ops held while a family was out of their writer's reach."""

    path = "/api/v1/sync/held"
    tags = ["sync"]

    @get("/", sync_to_thread=True)
    def list_held(
        self, store: Database, principal: Principal,
        status: Literal["held", "applied", "declined", "all"] = "held",
        limit: int = Parameter(ge=1, le=1000, default=200),
    ) -> list[HeldRead]:
        """Held ops of your team's workers (supervisors) or your agency's (admins)."""
        require_role(principal, "supervisor", "admin")
        with store.read() as db:
            return held_mod.list_held(db, store.keyring, principal, status, limit)

    @post("/{held_id:str}/accept", status_code=200, sync_to_thread=True)
    def accept_held(self, held_id: str, store: Database, principal: Principal) -> OpResult:
        """Apply a held op as its writer made it, through the same merge as any other."""
        return _decide_held(store, principal, held_id, accept=True)

    @post("/{held_id:str}/decline", status_code=200, sync_to_thread=True)
    def decline_held(self, held_id: str, store: Database, principal: Principal) -> OpResult:
        """Keep a held op on file without applying it."""
        return _decide_held(store, principal, held_id, accept=False)


def _decide_held(store: Database, principal: Principal, held_id: str, *, accept: bool) -> OpResult:
    require_role(principal, "supervisor", "admin")
    with _WRITE_LOCK, store.write() as db:
        result = held_mod.decide(db, store.keyring, principal, held_id, accept=accept)
        audit.record(db, "held-op-accepted" if accept else "held-op-declined", entity="sync_held",
                     entity_id=held_id, purpose="review upload", **audit.by(principal))
        return result


def _quarantine_read(store: Database, row: dict[str, Any]) -> QuarantineRead:
    raw = store.keyring.decrypt(row["op"], f"sync_quarantine/{row['id']}/op")
    try:
        op: Any = json.loads(raw)
    except ValueError:
        op = raw.decode(errors="replace")
    return QuarantineRead(
        id=row["id"], op_id=row["op_id"], client_seq=row["client_seq"], device_id=row["device_id"],
        user_id=row["user_id"], client_id=row["client_id"], entity=row["entity"], entity_id=row["entity_id"],
        family_id=row["family_id"], reason=row["reason"], received_at=row["received_at"], op=op,
    )
