"""Pull: the change log after a cursor, filtered to what the user may see now, with the
caseload instructions (purge / backfill / wipe / resync).

The cursor is ``change_log.seq``, assigned inside the write transaction; SQLite has one
writer at a time, so a reader never sees a later seq committed before an earlier one and
paging by it cannot skip a change. Caseload instructions are worked out from the log too
(allocation and family changes in the page's seq range), not from per-device state: a
page fetched twice, or a reply lost on the way, gives the same instructions again.

A cursor only means something in the log it was taken from. The log has an identity
(``sync_meta.log_epoch``, replaced by a restore from backup); a phone sends it back with
its cursor, and one whose epoch is not this log's, or whose cursor lies beyond the log's
end, is told to resynchronise instead of silently missing what the restore rewound.

Conflicts are records (entity ``conflict``) written through the record layer, so they
come as changes like any other, with the provisional value beside the candidates.
"""

from __future__ import annotations

from typing import Any

from server.access import Principal
from server.storage import conflicts as conflict_store
from server.storage import records, sync_log, sync_reach
from server.storage.crypto import Keyring
from server.storage.records import ENTITIES
# The log's identity and end, for the agency feed's cursors too.
from server.storage.sync_log import high_seq, log_epoch
from server.storage.tx import Tx

from .hlc import server_clock
from .protocol import (
    BackfillInstruction,
    Candidate,
    Change,
    ConflictRead,
    Instruction,
    PullResponse,
    PurgeInstruction,
    ResyncInstruction,
    UploadInstruction,
    WipeInstruction,
)

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000


def stale(db: Tx, cursor: int, epoch: str | None) -> bool:
    """A cursor from another log (its epoch differs) or beyond this one's end. Cursor 0
    is never stale: it asks for everything. Without an epoch only the end can be checked."""
    if cursor <= 0:
        return False
    return bool(epoch and epoch != log_epoch(db)) or cursor > high_seq(db)


def pull(
    db: Tx,
    keyring: Keyring,
    p: Principal,
    cursor: int,
    limit: int = DEFAULT_LIMIT,
    *,
    holding_seq: int | None = None,
    revoked: bool = False,
    epoch: str | None = None,
) -> PullResponse:
    """Answer one pull inside the caller's read transaction."""
    if revoked:
        return revoked_answer(db, p, cursor, holding_seq)
    if stale(db, cursor, epoch):
        # has_more with next_cursor 0: an app that does not know the instruction still
        # starts again from the beginning rather than waiting past changes it never saw.
        return PullResponse(changes=[], next_cursor=0, has_more=True, instructions=[ResyncInstruction()],
                            server_hlc=server_clock.now(), epoch=log_epoch(db))
    limit = max(1, min(limit, MAX_LIMIT))
    rows = sync_log.changes_after(db, p, cursor, limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = int(rows[-1]["seq"]) if has_more else max(cursor, high_seq(db))
    changes = [_change(keyring, r) for r in rows]
    instructions: list[Instruction] = []
    if cursor > 0 and next_cursor > cursor:
        instructions, backfill = caseload_changes(db, keyring, p, cursor, next_cursor)
        changes.extend(backfill)
    # An app that sends no epoch predates conflicts as changes: it replaces its list with
    # this one (and forgets its own ops' conflicts that closed), so it gets it once a pull.
    legacy = not epoch and not has_more
    return PullResponse(
        changes=changes,
        next_cursor=next_cursor,
        has_more=has_more,
        conflicts=open_conflicts(db, keyring, p) if legacy else None,
        instructions=instructions,
        server_hlc=server_clock.now(),
        epoch=log_epoch(db),
    )


def revoked_answer(db: Tx, p: Principal, cursor: int, holding_seq: int | None):
    """A revoked device is told to wipe only once the server holds every op it declared;
    until then, to upload. Without a declaration it is never told to wipe."""
    received = sync_log.last_client_seq(db, p.device_id)
    if holding_seq is not None and holding_seq <= received:
        instruction: Instruction = WipeInstruction()
    else:
        instruction = UploadInstruction(last_client_seq=received)
    return PullResponse(changes=[], next_cursor=cursor, has_more=False, instructions=[instruction],
                        server_hlc=server_clock.now(), epoch=log_epoch(db))


def _change(keyring: Keyring, row: dict[str, Any]) -> Change:
    values = records.decode_changes(keyring, row) if row["op"] != "delete" else {}
    values.pop("family_id", None)
    version = int(row["version"])
    if row["entity"] == "conflict":
        values = conflict_values(values)
    return Change(seq=int(row["seq"]), entity=row["entity"], entity_id=row["entity_id"], family_id=row["family_id"],
                  version=version, op=row["op"], values=values, field_versions={k: version for k in values})


def _candidates(raw: Any) -> list[Candidate]:
    return [Candidate(**{k: v for k, v in c.items() if k in Candidate.__struct_fields__}) for c in raw or []]


def _provisional(candidates: list[Candidate]) -> Any:
    """What the field shows until a person decides: the newest candidate by HLC."""
    return max(candidates, key=lambda x: x.hlc or "").value if candidates else None


def conflict_values(values: dict[str, Any]) -> dict[str, Any]:
    """A conflict's changed fields as a phone reads them: candidates in the shape of
    ``ConflictRead`` and, whenever they change, the provisional value beside them."""
    if "candidates" not in values:
        return values
    candidates = _candidates(values["candidates"])
    return {**values, "candidates": candidates, "provisional": _provisional(candidates)}


def caseload_changes(
    db: Tx, keyring: Keyring, p: Principal, after: int, upto: int
) -> tuple[list[Instruction], list[Change]]:
    """Purge / backfill for families whose visibility to ``p`` changed in (after, upto]."""
    events: dict[str, int] = {}  # family id -> seq of its latest visibility event in range
    if p.role == "practitioner":
        events.update(sync_log.allocation_events(db, p.agency_id, p.user_id, after, upto))
    elif p.role == "supervisor":
        for r in sync_log.family_updates(db, p.agency_id, after, upto):
            if "team_id" in records.decode_changes(keyring, r):
                events[r["family_id"]] = max(events.get(r["family_id"], 0), r["seq"])
    deleted = sync_log.family_deletions(db, p.agency_id, after, upto)
    instructions: list[Instruction] = []
    backfill: list[Change] = []
    for family_id in sorted(set(events) | set(deleted)):
        if family_id not in deleted and sync_reach.family_visible(db, p, family_id):
            first = sync_log.first_seq(db, family_id)
            if first is not None and first > after:
                continue  # all of its history is after the cursor: this pull delivers it all
            instructions.append(BackfillInstruction(family_id=family_id))
            backfill.extend(snapshot(db, keyring, family_id, events[family_id]))
        else:
            instructions.append(PurgeInstruction(family_id=family_id))
    return instructions, backfill


def snapshot(db: Tx, keyring: Keyring, family_id: str, seq: int) -> list[Change]:
    """A family's live records as backfill changes (full values, per-field versions)."""
    out: list[Change] = []
    for entity in ENTITIES.values():
        key = "id" if entity.name == "family" else "family_id"
        for row in records.find_by(db, keyring, entity.name, **{key: family_id}):
            meta = row["field_meta"]
            values = {f: row.get(f) for f in entity.fields}
            versions = {f: int((meta.get(f) or {}).get("v", 0)) for f in entity.fields}
            if entity.name == "conflict":
                values = conflict_values(values)
                versions["provisional"] = versions["candidates"]
            out.append(Change(
                seq=seq, entity=entity.name, entity_id=row["id"], family_id=family_id, version=int(row["version"]),
                op="insert", values=values, field_versions=versions, backfill=True,
            ))
    return out


def open_conflicts(db: Tx, keyring: Keyring, p: Principal) -> list[ConflictRead]:
    out = []
    for c in conflict_store.open_for(db, keyring, p):
        candidates = _candidates(c["candidates"])
        out.append(ConflictRead(id=c["id"], family_id=c["family_id"], entity=c["entity"], entity_id=c["entity_id"],
                                field=c["field"], status=c["status"], provisional=_provisional(candidates),
                                candidates=candidates, version=int(c["version"])))
    return out
