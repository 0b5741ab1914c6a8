"""The record layer: every write to a family's records goes through here.

It knows, for each synced entity, which columns hold personal data (encrypted with the
keyring, bound to table/row/column) and keeps the bookkeeping that sync and the agency
feed rely on: the row ``version``, per-field metadata (version, HLC, writer, device) and
one ``change_log`` entry per change, whose integer ``seq`` is the pull / feed cursor.
The sync merge decides *whether* a write happens; this module makes it happen the same
way for a device, a supervisor's REST call, an agency's write-back or the demo seeder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

import sqlite_utils

from ..clock import now_iso
from .crypto import Keyring, is_encrypted


@dataclass(frozen=True)
class Entity:
    name: str
    table: str
    # Fields a writer may set; ``immutable`` ones only when the record is created.
    fields: tuple[str, ...]
    personal: frozenset[str] = frozenset()
    json_fields: frozenset[str] = frozenset()
    bool_fields: frozenset[str] = frozenset()
    immutable: frozenset[str] = frozenset()
    # Observations and addenda are appended, never edited: they cannot conflict.
    insert_only: bool = False
    # Fields whose values only move forward along this order (follow-up status).
    monotonic: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def aad(self, row_id: str, column: str) -> str:
        return f"{self.table}/{row_id}/{column}"


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in [
        Entity(
            "family",
            "families",
            ("team_id", "family_name", "address", "postcode", "phone", "notes", "status"),
            personal=frozenset({"family_name", "address", "postcode", "phone", "notes"}),
        ),
        Entity(
            "person",
            "persons",
            (
                "role", "given_name", "family_name", "date_of_birth", "expected_date", "sex", "nhs_number",
                "ethnicity", "language", "interpreter_needed", "lives_in_household", "protection_plan",
            ),
            personal=frozenset(
                {"given_name", "family_name", "date_of_birth", "expected_date", "nhs_number", "ethnicity", "language"}
            ),
            bool_fields=frozenset({"interpreter_needed", "lives_in_household", "protection_plan"}),
        ),
        Entity(
            "relationship",
            "relationships",
            ("adult_id", "child_id", "relationship", "parental_responsibility"),
            bool_fields=frozenset({"parental_responsibility"}),
            immutable=frozenset({"adult_id", "child_id"}),
        ),
        Entity(
            "allocation",
            "allocations",
            ("practitioner_id", "active"),
            bool_fields=frozenset({"active"}),
            immutable=frozenset({"practitioner_id"}),
        ),
        Entity(
            "visit",
            "visits",
            (
                "practitioner_id", "type", "status", "planned_for", "started_at", "completed_at", "signed_by",
                "no_access", "present", "summary",
            ),
            personal=frozenset({"present", "summary"}),
            json_fields=frozenset({"present"}),
            bool_fields=frozenset({"no_access"}),
            monotonic={"status": ("planned", "in-progress", "completed")},
        ),
        Entity(
            "checklist_response",
            "checklist_responses",
            ("visit_id", "checklist_id", "checklist_version", "subject_id", "item_id", "answer", "note", "seen_or_told"),
            personal=frozenset({"answer", "note"}),
            json_fields=frozenset({"answer"}),
            immutable=frozenset({"visit_id", "checklist_id", "checklist_version", "subject_id", "item_id"}),
        ),
        Entity(
            "observation",
            "observations",
            ("visit_id", "about_person_id", "kind", "text", "supersedes_id", "recorded_by", "recorded_at", "device_id"),
            personal=frozenset({"text"}),
            insert_only=True,
        ),
        Entity(
            "addendum",
            "addenda",
            ("visit_id", "text", "recorded_by", "recorded_at", "device_id"),
            personal=frozenset({"text"}),
            insert_only=True,
        ),
        Entity(
            "follow_up",
            "follow_ups",
            ("visit_id", "rule_id", "subject_id", "assignee_id", "due_at", "text", "status", "note", "completed_at"),
            personal=frozenset({"text", "note"}),
            immutable=frozenset({"visit_id", "rule_id", "subject_id"}),
            monotonic={"status": ("open", ("done", "cancelled"))},  # type: ignore[dict-item]
        ),
        Entity(
            "flag",
            "flags",
            (
                "visit_id", "rule_id", "subject_id", "severity", "reason", "answers", "status", "acknowledged_by",
                "acknowledged_at", "decision", "rationale", "decided_by", "decided_at", "raised_by",
            ),
            personal=frozenset({"reason", "answers", "decision", "rationale"}),
            json_fields=frozenset({"answers"}),
            immutable=frozenset({"visit_id", "rule_id", "subject_id"}),
            monotonic={"status": ("open", "acknowledged", "closed")},
        ),
        Entity(
            "conflict",
            "conflicts",
            ("entity", "entity_id", "field", "candidates", "status", "resolution", "resolved_by", "resolved_at"),
            personal=frozenset({"candidates", "resolution"}),
            json_fields=frozenset({"candidates", "resolution"}),
            immutable=frozenset({"entity", "entity_id", "field"}),
            monotonic={"status": ("open", "resolved")},
        ),
    ]
}


def rank(order: tuple, value: Any) -> int:
    """Position of ``value`` in a monotonic order; a tuple groups equal-rank end states."""
    for i, step in enumerate(order):
        if value == step or (isinstance(step, tuple) and value in step):
            return i
    raise ValueError(f"{value!r} is not a known state")


@dataclass(frozen=True)
class Actor:
    """Who is writing: a user on a device, an integration client, or the system."""

    user_id: str | None = None
    device_id: str | None = None
    client_id: str | None = None
    hlc: str | None = None


SYSTEM = Actor()


# -- encoding -----------------------------------------------------------------------------


def encode_value(keyring: Keyring, entity: Entity, row_id: str, column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in entity.bool_fields:
        value = 1 if value else 0
    if column in entity.json_fields:
        value = json.dumps(value, separators=(",", ":"), sort_keys=True)
    if column in entity.personal:
        text = value if isinstance(value, str) else json.dumps(value)
        return keyring.encrypt(text.encode(), entity.aad(row_id, column))
    return value


def decode_value(keyring: Keyring, entity: Entity, row_id: str, column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in entity.personal and is_encrypted(value):
        value = keyring.decrypt(value, entity.aad(row_id, column)).decode()
    if column in entity.json_fields:
        return json.loads(value)
    if column in entity.bool_fields:
        return bool(int(value))
    return value


def decode_row(keyring: Keyring, entity: Entity, row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for column in entity.fields:
        if column in out:
            out[column] = decode_value(keyring, entity, row["id"], column, out[column])
    if "field_meta" in out and isinstance(out["field_meta"], str):
        out["field_meta"] = json.loads(out["field_meta"])
    out["deleted"] = bool(out.get("deleted", 0))
    return out


def _log(
    db: sqlite_utils.Database,
    keyring: Keyring,
    entity: Entity,
    row: dict[str, Any],
    version: int,
    op: str,
    changes: dict[str, Any],
    actor: Actor,
    at: str,
) -> int:
    blob = keyring.encrypt(
        json.dumps(changes, separators=(",", ":"), sort_keys=True).encode(),
        f"change_log/{entity.name}/{row['id']}/{version}",
    )
    cur = db.execute(
        "INSERT INTO change_log (agency_id, family_id, entity, entity_id, version, op, changes,"
        " actor_user_id, actor_device_id, actor_client_id, at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [row["agency_id"], row.get("family_id"), entity.name, row["id"], version, op, blob,
         actor.user_id, actor.device_id, actor.client_id, at],
    )
    return int(cur.lastrowid)


def decode_changes(keyring: Keyring, entry: dict[str, Any]) -> dict[str, Any]:
    return json.loads(
        keyring.decrypt(entry["changes"], f"change_log/{entry['entity']}/{entry['entity_id']}/{entry['version']}")
    )


def _meta(version: int, actor: Actor, at: str) -> dict[str, Any]:
    return {"v": version, "hlc": actor.hlc, "by": actor.user_id or actor.client_id, "dev": actor.device_id, "at": at}


# -- writes -------------------------------------------------------------------------------


def insert(
    db: sqlite_utils.Database,
    keyring: Keyring,
    entity_name: str,
    values: dict[str, Any],
    actor: Actor = SYSTEM,
) -> dict[str, Any]:
    """Create a record (version 1) and log it. ``values`` holds id, agency_id, family_id
    and any of the entity's fields; unknown keys are a programming error."""
    entity = ENTITIES[entity_name]
    unknown = set(values) - set(entity.fields) - {"id", "agency_id", "family_id"}
    if unknown:
        raise KeyError(f"unknown fields for {entity_name}: {sorted(unknown)}")
    at = now_iso()
    row_id = values["id"]
    data = {k: v for k, v in values.items() if k in entity.fields}
    meta = {k: _meta(1, actor, at) for k in data}
    row = {
        "id": row_id,
        "agency_id": values["agency_id"],
        "family_id": values.get("family_id") or (row_id if entity.name == "family" else None),
        **{k: encode_value(keyring, entity, row_id, k, v) for k, v in data.items()},
        "version": 1,
        "field_meta": json.dumps(meta, separators=(",", ":")),
        "created_at": at,
        "updated_at": at,
    }
    # Plain SQL: sqlite-utils' insert introspects the table on every call, which was half
    # the cost of a sync push.
    db.execute(f"INSERT INTO {entity.table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    _log(db, keyring, entity, row, 1, "insert", {"family_id": row["family_id"], **data}, actor, at)
    return {**values, "family_id": row["family_id"], "version": 1}


def update(
    db: sqlite_utils.Database,
    keyring: Keyring,
    entity_name: str,
    row_id: str,
    changes: dict[str, Any],
    actor: Actor = SYSTEM,
    *,
    current: dict[str, Any] | None = None,
) -> int:
    """Apply field changes to an existing record; returns its new version. Values equal to
    what is stored are dropped, so a no-op write does not bump versions or log. ``current``:
    the record as just read in this transaction, to save reading it again."""
    entity = ENTITIES[entity_name]
    if current is None:
        current = get(db, keyring, entity_name, row_id, include_deleted=True)
    if current is None:
        raise KeyError(f"{entity_name} {row_id} does not exist")
    bad = set(changes) - set(entity.fields)
    if bad:
        raise KeyError(f"unknown fields for {entity_name}: {sorted(bad)}")
    if entity.insert_only:
        raise ValueError(f"{entity_name} records are append-only")
    real = {k: v for k, v in changes.items() if current.get(k) != v}
    if not real:
        return int(current["version"])
    at = now_iso()
    version = int(current["version"]) + 1
    meta = dict(current["field_meta"])
    for k in real:
        meta[k] = _meta(version, actor, at)
    cols = {k: encode_value(keyring, entity, row_id, k, v) for k, v in real.items()}
    cols.update(version=version, field_meta=json.dumps(meta, separators=(",", ":")), updated_at=at)
    assignments = ", ".join(f"{c} = ?" for c in cols)
    db.execute(f"UPDATE {entity.table} SET {assignments} WHERE id = ?", [*cols.values(), row_id])
    _log(db, keyring, entity, current, version, "update", real, actor, at)
    return version


def tombstone(db: sqlite_utils.Database, keyring: Keyring, entity_name: str, row_id: str, actor: Actor = SYSTEM) -> int:
    """Mark a record deleted. Tombstones are kept (and logged) so that a device that
    missed the deletion cannot bring the record back."""
    entity = ENTITIES[entity_name]
    current = get(db, keyring, entity_name, row_id, include_deleted=True)
    if current is None:
        raise KeyError(f"{entity_name} {row_id} does not exist")
    if current["deleted"]:
        return int(current["version"])
    at = now_iso()
    version = int(current["version"]) + 1
    db.execute(f"UPDATE {entity.table} SET deleted = 1, version = ?, updated_at = ? WHERE id = ?", [version, at, row_id])
    _log(db, keyring, entity, current, version, "delete", {}, actor, at)
    return version


# -- reads --------------------------------------------------------------------------------


def _rows(db: sqlite_utils.Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    # The connection directly: sqlite-utils' query() wraps every read in a savepoint, which
    # costs a sync push two extra statements per op.
    cur = db.conn.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def get(
    db: sqlite_utils.Database, keyring: Keyring, entity_name: str, row_id: str, *, include_deleted: bool = False
) -> dict[str, Any] | None:
    entity = ENTITIES[entity_name]
    rows = _rows(db, f"SELECT * FROM {entity.table} WHERE id = ?", [row_id])
    if not rows or (rows[0]["deleted"] and not include_deleted):
        return None
    return decode_row(keyring, entity, rows[0])


def find(
    db: sqlite_utils.Database,
    keyring: Keyring,
    entity_name: str,
    where: str = "1 = 1",
    params: Iterable[Any] = (),
    *,
    order_by: str = "created_at, id",
    include_deleted: bool = False,
) -> list[dict[str, Any]]:
    entity = ENTITIES[entity_name]
    live = "" if include_deleted else " AND deleted = 0"
    sql = f"SELECT * FROM {entity.table} WHERE ({where}){live} ORDER BY {order_by}"
    return [decode_row(keyring, entity, r) for r in _rows(db, sql, list(params))]
