"""The agency feed: completed records in change order, paged by ``change_log.seq``.

Each feed item is one record a core system files: a signed visit (with its checklist
responses, the observations made during it and the people it concerns), an observation
added later, an addendum, a flag (with its decision), a follow-up, a family or person
(their details as they now stand), a relationship between an adult and a child, an
allocation of a practitioner, or a conflict on family details. An item is emitted
at the change-log entry that made its current version, so one page never repeats an item
and an item that changes again appears again, later, with a higher version.

Draft visit data never appears: a visit's responses, observations, flags and follow-ups
recorded before it was signed are emitted when (at the entry where) it is signed.

The cursor belongs to one change log, named by its epoch (sent with every page). A
restore from backup gives the log a new epoch: a cursor sent with another epoch, or one
past the log's end, is refused (``StaleCursor``) rather than answered with pages that
would silently skip what the restore rewound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from sync.pull import log_epoch, stale

from ..errors import Conflict
from ..storage import families as family_rows, feed as feed_rows, records
from ..storage.crypto import Keyring
from ..storage.tx import Tx
from . import external_ids

FAMILY_DETAIL_ENTITIES = ("family", "person", "relationship", "allocation")
ITEM_TYPES = ("visit", "observation", "addendum", "flag", "follow_up", "family", "person", "relationship",
              "allocation", "conflict")
_SCAN = 500


@dataclass
class FeedPage:
    items: list[dict[str, Any]]
    next_cursor: int
    has_more: bool
    epoch: str = ""


class StaleCursor(Conflict):
    slug, title = "feed-cursor-stale", "The cursor belongs to another change log"


@dataclass
class _Ctx:
    db: Tx
    keyring: Keyring
    client_id: str | None = None
    rows: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)
    completion: dict[str, int | None] = field(default_factory=dict)
    # One page names the same household and staff many times: read and decrypt them once.
    households: dict[str, Any] = field(default_factory=dict)
    staff: dict[str, Any] = field(default_factory=dict)

    def row(self, entity: str, row_id: str) -> dict[str, Any] | None:
        key = (entity, row_id)
        if key not in self.rows:
            self.rows[key] = records.get(self.db, self.keyring, entity, row_id, include_deleted=True)
        return self.rows[key]

    def entry_seq(self, entity: str, row: dict[str, Any], version: int) -> int | None:
        return feed_rows.entry_seq(self.db, row.get("family_id"), entity, row["id"], version)

    def completion_seq(self, visit_id: str) -> int | None:
        """The change-log seq at which a visit was signed (None while it is a draft)."""
        if visit_id not in self.completion:
            visit = self.row("visit", visit_id)
            seq = None
            if visit and visit["status"] == "completed":
                v = int((visit["field_meta"].get("status") or {}).get("v", visit["version"]))
                seq = self.entry_seq("visit", visit, v)
            self.completion[visit_id] = seq
        return self.completion[visit_id]


def _keys_for(ctx: _Ctx, entry: dict[str, Any]) -> list[tuple[str, str]]:
    entity, row_id, seq, version = entry["entity"], entry["entity_id"], entry["seq"], entry["version"]
    if entity not in ITEM_TYPES:
        return []
    row = ctx.row(entity, row_id)
    if row is None:
        return []
    latest = version == int(row["version"])
    if entity == "visit":
        done = ctx.completion_seq(row_id)
        if done is None:
            return []
        keys = [("visit", row_id)] if latest else []
        if seq == done:
            keys += _deferred(ctx, row, done)
        return keys
    if entity in ("observation", "flag", "follow_up") and row.get("visit_id"):
        done = ctx.completion_seq(row["visit_id"])
        if done is None or seq < done:
            return []  # a draft's, or sent with the visit when it was signed
    if entity == "conflict" and row["entity"] not in FAMILY_DETAIL_ENTITIES:
        return []
    return [(entity, row_id)] if latest else []


def _deferred(ctx: _Ctx, visit: dict[str, Any], done: int) -> list[tuple[str, str]]:
    """Flags and follow-ups raised while the visit was a draft, whose current version was
    made before it was signed: they are sent with the visit."""
    keys = []
    for entity in ("flag", "follow_up"):
        for r in feed_rows.raised_during(ctx.db, entity, visit["id"]):
            seq = ctx.entry_seq(entity, r, r["version"])
            if seq is not None and seq < done:
                keys.append((entity, r["id"]))
    return keys


def iter_entries(db: Tx, agency_id: str, cursor: int) -> Iterator[dict[str, Any]]:
    while True:
        batch = feed_rows.entries_after(db, agency_id, cursor, _SCAN)
        yield from batch
        if len(batch) < _SCAN:
            return
        cursor = batch[-1]["seq"]


def read_feed(
    db: Tx, keyring: Keyring, agency_id: str, cursor: int, limit: int, *, build: bool = True,
    epoch: str | None = None, client_id: str | None = None,
) -> FeedPage:
    """One page of at most ``limit`` items after ``cursor`` (call inside one read
    transaction, so the page is a consistent snapshot). ``build=False`` gives the items'
    type, id, version and time only. ``epoch``: the one the cursor came with. ``client_id``:
    whose external ids the items carry."""
    if stale(db, cursor, epoch):
        raise StaleCursor(
            "The server's change log was restored from a backup (or the cursor is past its end): "
            "read the feed again from cursor 0 and file items by id and version.",
            extra={"epoch": log_epoch(db)})
    ctx = _Ctx(db, keyring, client_id)
    items: list[dict[str, Any]] = []
    emitted: set[tuple[str, str]] = set()
    position = cursor
    for entry in iter_entries(db, agency_id, cursor):
        if len(items) >= limit:
            break
        for key in _keys_for(ctx, entry):
            if key in emitted:
                continue
            emitted.add(key)
            row = ctx.row(key[0], key[1])
            assert row is not None
            item = {"type": key[0], "id": key[1], "version": int(row["version"]), "seq": entry["seq"],
                    "family_id": row.get("family_id"), "changed_at": entry["at"], "deleted": row["deleted"]}
            if build:
                item["data"] = _build(ctx, key[0], row)
            items.append(item)
        position = entry["seq"]
    more = feed_rows.has_entries_after(db, agency_id, position)
    if build:
        _attach_external_ids(ctx, items)
    return FeedPage(items=items, next_cursor=position, has_more=more, epoch=log_epoch(db))


# -- item bodies --------------------------------------------------------------------------

_DROP = {"field_meta", "agency_id", "nhs_number_index", "deleted"}


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in _DROP}


def _people(ctx: _Ctx, family_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if ("people", family_id) not in ctx.households:
        ctx.households[("people", family_id)] = _read_people(ctx, family_id)
    return ctx.households[("people", family_id)]


def _read_people(ctx: _Ctx, family_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    persons = [_clean(p) for p in family_rows.of_family(ctx.db, ctx.keyring, "person", family_id)]
    rels = [{**_clean(r), "deleted": r["deleted"]} for r in family_rows.of_family(
        ctx.db, ctx.keyring, "relationship", family_id, include_deleted=True)]
    ext = external_ids.of(ctx.db, ctx.keyring, "person", [p["id"] for p in persons], ctx.client_id)
    for p in persons:
        p["external_ids"] = ext.get(p["id"], [])
    return persons, rels


def _family_summary(ctx: _Ctx, family_id: str) -> dict[str, Any]:
    if ("family", family_id) not in ctx.households:
        ctx.households[("family", family_id)] = _read_family_summary(ctx, family_id)
    return ctx.households[("family", family_id)]


def _read_family_summary(ctx: _Ctx, family_id: str) -> dict[str, Any]:
    fam = ctx.row("family", family_id) or {"id": family_id}
    return {"id": family_id, "family_name": fam.get("family_name"), "address": fam.get("address"),
            "postcode": fam.get("postcode"), "team_id": fam.get("team_id"), "version": fam.get("version"),
            "status": fam.get("status"), "deleted": bool(fam.get("deleted")),
            "external_ids": external_ids.of(ctx.db, ctx.keyring, "family", [family_id], ctx.client_id).get(family_id, [])}


def _build(ctx: _Ctx, item_type: str, row: dict[str, Any]) -> dict[str, Any]:
    data = _clean(row)
    if item_type == "visit":
        done = ctx.completion_seq(row["id"]) or 0
        data["checklist_responses"] = [_clean(r) for r in feed_rows.visit_responses(ctx.db, ctx.keyring, row["id"])]
        observations = []
        for o in feed_rows.visit_observations(ctx.db, ctx.keyring, row["id"]):
            seq = ctx.entry_seq("observation", o, int(o["version"]))
            if seq is not None and seq < done:
                observations.append(_clean(o))
        data["observations"] = observations
        data["practitioner"] = _staff(ctx, row.get("practitioner_id"))
    elif item_type == "family":
        data["allocations"] = [_clean(a) for a in family_rows.of_family(ctx.db, ctx.keyring, "allocation", row["id"])]
    elif item_type == "person":
        data["relationships"] = [
            {**_clean(r), "deleted": r["deleted"]} for r in feed_rows.relationships_of(ctx.db, ctx.keyring, row["id"])]
    elif item_type == "allocation":
        data["practitioner"] = _staff(ctx, row["practitioner_id"])
    elif item_type == "flag":
        visit = ctx.row("visit", row["visit_id"]) if row.get("visit_id") else None
        # Raised by the visit's answers: when it was signed, not when the server stored it.
        data["raised_at"] = (visit or {}).get("completed_at") or row.get("created_at")
    # Every item carries the household as it now stands, so each FHIR resource made from
    # it (the Group and its members above all) is the same whichever item it came with.
    family_id = row["id"] if item_type == "family" else row["family_id"]
    if item_type != "family":
        data["family"] = _family_summary(ctx, family_id)
    people, rels = _people(ctx, family_id)
    data["people"] = people
    if item_type != "person":
        data["relationships"] = rels
    data["staff"] = _staff_of(ctx, data)
    return data


_USER_FIELDS = ("practitioner_id", "recorded_by", "raised_by", "decided_by", "acknowledged_by", "assignee_id",
                "signed_by", "resolved_by")


def _staff_of(ctx: _Ctx, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every user the item names, so each reference to a practitioner resolves in the bundle."""
    ids = {data.get(f) for f in _USER_FIELDS}
    ids |= {o.get("recorded_by") for o in data.get("observations", [])}
    out = {}
    for uid in sorted(i for i in ids if isinstance(i, str) and i):
        staff = _staff(ctx, uid)
        if staff and staff.get("username"):
            out[uid] = staff
    return out


def _staff(ctx: _Ctx, user_id: str | None) -> dict[str, Any] | None:
    if not user_id:
        return None
    if user_id not in ctx.staff:
        ctx.staff[user_id] = feed_rows.staff_member(ctx.db, user_id) or {"id": user_id}
    return ctx.staff[user_id]


def _attach_external_ids(ctx: _Ctx, items: list[dict[str, Any]]) -> None:
    by_type: dict[str, list[str]] = {}
    for item in items:
        by_type.setdefault(item["type"], []).append(item["id"])
    found = {t: external_ids.of(ctx.db, ctx.keyring, t, ids, ctx.client_id) for t, ids in by_type.items()}
    for item in items:
        item["external_ids"] = found[item["type"]].get(item["id"], [])


def current_item(db: Tx, keyring: Keyring, agency_id: str, entity: str,
                 row_id: str, client_id: str | None = None) -> dict[str, Any] | None:
    """The feed item for a record as it now stands, exactly as the feed gave (or will give)
    it: None for another agency's record, a draft visit's data, or a record the feed does
    not carry. Its ``changed_at`` is that of the change-log entry the feed emits it at.
    ``client_id``: the reading client, whose own external ids it carries (as its feed does)."""
    ctx = _Ctx(db, keyring, client_id)
    row = ctx.row(entity, row_id)
    if row is None or row.get("agency_id") != agency_id or entity not in ITEM_TYPES:
        return None
    if entity == "conflict" and row["entity"] not in FAMILY_DETAIL_ENTITIES:
        return None
    version = int(row["version"])
    seq = ctx.entry_seq(entity, row, version)
    if seq is None:
        return None
    visit_id = row["id"] if entity == "visit" else (row.get("visit_id") if entity in (
        "observation", "flag", "follow_up") else None)
    if visit_id:
        done = ctx.completion_seq(visit_id)
        if done is None:
            return None
        seq = max(seq, done)  # made while a draft: emitted when the visit was signed
    at = feed_rows.entry_at(db, seq)
    item = {"type": entity, "id": row_id, "version": version, "seq": seq, "family_id": row.get("family_id"),
            "changed_at": at, "deleted": row["deleted"], "data": _build(ctx, entity, row)}
    _attach_external_ids(ctx, [item])
    return item
