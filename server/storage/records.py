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

from sync import model
from sync.values import same

from ..clock import now_iso
from .crypto import Keyring, is_encrypted
from .tx import Tx


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


def _from_model(e: model.Entity) -> Entity:
    return Entity(
        name=e.name,
        table=e.table,
        fields=e.names,
        personal=frozenset(f.name for f in e.fields if f.personal),
        json_fields=frozenset(f.name for f in e.fields if f.type == "json"),
        bool_fields=frozenset(f.name for f in e.fields if f.type == "bool"),
        immutable=frozenset(f.name for f in e.fields if f.immutable),
        insert_only=e.insert_only,
        monotonic={f.name: f.order for f in e.fields if f.order is not None},
    )


# The storage view of the one model (``sync.model``): which columns to encrypt and decode.
ENTITIES: dict[str, Entity] = {name: _from_model(e) for name, e in model.ENTITIES.items()}
rank = model.rank


@dataclass(frozen=True)
class Actor:
    """Who is writing: a user on a device, an integration client, or the system."""

    user_id: str | None = None
    device_id: str | None = None
    client_id: str | None = None
    hlc: str | None = None


SYSTEM = Actor()


# -- encoding -----------------------------------------------------------------------------


def plain_value(entity: Entity, column: str, value: Any) -> Any:
    """A value in the form its column stores before any encryption: booleans as 0/1,
    JSON as its canonical text."""
    if value is None:
        return None
    if column in entity.bool_fields:
        value = 1 if value else 0
    if column in entity.json_fields:
        value = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return value


def encode_value(keyring: Keyring, entity: Entity, row_id: str, column: str, value: Any) -> Any:
    value = plain_value(entity, column, value)
    if value is None:
        return None
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
    db: Tx,
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
    # fetchall: the INSERT is finished (not left pending) before the next statement.
    seq = db.execute(
        "INSERT INTO change_log (agency_id, family_id, entity, entity_id, version, op, changes,"
        " actor_user_id, actor_device_id, actor_client_id, at) VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING seq",
        [row["agency_id"], row.get("family_id"), entity.name, row["id"], version, op, blob,
         actor.user_id, actor.device_id, actor.client_id, at],
    ).fetchall()[0][0]
    return int(seq)


def decode_changes(keyring: Keyring, entry: dict[str, Any]) -> dict[str, Any]:
    return json.loads(
        keyring.decrypt(entry["changes"], f"change_log/{entry['entity']}/{entry['entity_id']}/{entry['version']}")
    )


def _derived(keyring: Keyring, entity: Entity, data: dict[str, Any]) -> dict[str, Any]:
    """Columns kept from others for lookups: the NHS number's blind index (the number
    itself is encrypted), maintained on every path that writes it."""
    if entity.name == "person" and "nhs_number" in data:
        number = data["nhs_number"]
        return {"nhs_number_index": keyring.blind_index("nhs", number) if number else None}
    return {}


def _meta(version: int, actor: Actor, at: str) -> dict[str, Any]:
    return {"v": version, "hlc": actor.hlc, "by": actor.user_id or actor.client_id, "dev": actor.device_id, "at": at}


# -- writes -------------------------------------------------------------------------------


def insert(
    db: Tx,
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
    row.update(_derived(keyring, entity, data))
    # Plain SQL: sqlite-utils' insert introspects the table on every call, which was half
    # the cost of a sync push.
    db.execute(f"INSERT INTO {entity.table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    _log(db, keyring, entity, row, 1, "insert", {"family_id": row["family_id"], **data}, actor, at)
    return {**values, "family_id": row["family_id"], "version": 1}


def update(
    db: Tx,
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
    # Compared exactly: 1, true and 1.0 are different answers (``==`` calls them equal,
    # which dropped a change the merge had accepted and left phones differing for good).
    real = {k: v for k, v in changes.items() if not same(current.get(k), v)}
    if not real:
        return int(current["version"])
    at = now_iso()
    version = int(current["version"]) + 1
    meta = dict(current["field_meta"])
    for k in real:
        meta[k] = _meta(version, actor, at)
    cols = {k: encode_value(keyring, entity, row_id, k, v) for k, v in real.items()}
    cols.update(_derived(keyring, entity, real))
    cols.update(version=version, field_meta=json.dumps(meta, separators=(",", ":")), updated_at=at)
    assignments = ", ".join(f"{c} = ?" for c in cols)
    db.execute(f"UPDATE {entity.table} SET {assignments} WHERE id = ?", [*cols.values(), row_id])
    _log(db, keyring, entity, current, version, "update", real, actor, at)
    return version


def tombstone(db: Tx, keyring: Keyring, entity_name: str, row_id: str, actor: Actor = SYSTEM) -> int:
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

# Columns every record table has besides its entity's fields, and the ones kept from a
# field for lookups (``_derived``): what ``find_by`` may match and order on.
BASE_COLUMNS = ("id", "agency_id", "family_id", "version", "created_at", "updated_at")
DERIVED_COLUMNS: dict[str, tuple[str, ...]] = {"person": ("nhs_number_index",)}


def _rows(db: Tx, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return list(db.query(sql, params))


def get(
    db: Tx, keyring: Keyring, entity_name: str, row_id: str, *, include_deleted: bool = False
) -> dict[str, Any] | None:
    entity = ENTITIES[entity_name]
    rows = _rows(db, f"SELECT * FROM {entity.table} WHERE id = ?", [row_id])
    if not rows or (rows[0]["deleted"] and not include_deleted):
        return None
    return decode_row(keyring, entity, rows[0])


def exists(db: Tx, entity_name: str, row_id: str) -> bool:
    """Whether a record with this id was ever stored (tombstones included), in any family
    or agency: ids are global, so a create of a taken id must not make a second row."""
    table = ENTITIES[entity_name].table
    return db.execute(f"SELECT 1 FROM {table} WHERE id = ?", [row_id]).fetchone() is not None


def find(
    db: Tx,
    keyring: Keyring,
    entity_name: str,
    where: str = "1 = 1",
    params: Iterable[Any] = (),
    *,
    order_by: str = "created_at, id",
    include_deleted: bool = False,
) -> list[dict[str, Any]]:
    """Records matching a raw SQL condition. Being replaced: callers outside storage pass
    no SQL; use ``find_by`` (equalities) or a typed function of a storage module."""
    entity = ENTITIES[entity_name]
    live = "" if include_deleted else " AND deleted = 0"
    sql = f"SELECT * FROM {entity.table} WHERE ({where}){live} ORDER BY {order_by}"
    return [decode_row(keyring, entity, r) for r in _rows(db, sql, list(params))]


def _column(entity: Entity, name: str) -> str:
    """``name`` when it is a column of the entity's table; never a string from elsewhere."""
    if name in BASE_COLUMNS or name in entity.fields or name in DERIVED_COLUMNS.get(entity.name, ()):
        return name
    raise KeyError(f"{entity.name} has no column {name!r}")


def _match(entity: Entity, name: str, value: Any) -> tuple[str, list[Any]]:
    column = _column(entity, name)
    if column in entity.personal:
        # Stored encrypted with a fresh nonce each time: equal values never compare equal.
        raise ValueError(f"{entity.name}.{name} is encrypted and cannot be matched in the database")
    if isinstance(value, (list, tuple, set, frozenset)):
        wanted = [plain_value(entity, column, v) for v in value if v is not None]
        parts = [f"{column} IN ({', '.join('?' * len(wanted))})"] if wanted else []
        if any(v is None for v in value):
            parts.append(f"{column} IS NULL")
        return (f"({' OR '.join(parts)})" if parts else "1 = 0"), wanted
    if value is None:
        return f"{column} IS NULL", []
    return f"{column} = ?", [plain_value(entity, column, value)]


def find_by(
    db: Tx,
    keyring: Keyring,
    entity_name: str,
    /,
    *,
    include_deleted: bool = False,
    order_by: tuple[str, ...] = ("created_at", "id"),
    limit: int | None = None,
    **equals: Any,
) -> list[dict[str, Any]]:
    """Records of ``entity_name`` whose columns equal the keywords given, decoded.

    Each keyword is a column of the entity (one of its fields, or id, agency_id,
    family_id, version, created_at, updated_at): ``status="open"`` matches equal values,
    ``None`` matches NULL, a list / tuple / set matches any of its values (IN; empty: no
    rows). Encrypted (personal) fields cannot be matched. ``order_by`` names columns, a
    leading ``-`` for descending; NULLs sort first ascending and last descending on every
    engine. Unknown column names raise ``KeyError``: nothing a caller passes is put into
    the SQL except as a parameter."""
    entity = ENTITIES[entity_name]
    conditions, params = [], []
    for name, value in equals.items():
        cond, values = _match(entity, name, value)
        conditions.append(cond)
        params += values
    if not include_deleted:
        conditions.append("deleted = 0")
    order = []
    for key in order_by:
        descending = key.startswith("-")
        column = _column(entity, key[1:] if descending else key)
        order.append(f"{column} DESC NULLS LAST" if descending else f"{column} ASC NULLS FIRST")
    sql = f"SELECT * FROM {entity.table}"
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    if order:
        sql += " ORDER BY " + ", ".join(order)
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [decode_row(keyring, entity, r) for r in _rows(db, sql, params)]
