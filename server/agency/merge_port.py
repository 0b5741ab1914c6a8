"""The one call through which agency write-back reaches the records: the sync merge.

Write-back builds the same ops a phone pushes (SYNC-CONTRACT v1: ``create`` with values,
``set`` with ``field``, ``value``, ``base_version``) and hands them to ``apply_ops`` here,
which passes them to ``sync.merge.apply_ops`` — the merge the phones' pushes use — as its
``CreateOp`` / ``SetOp`` Structs (made by ``sync.merge.make_create`` / ``make_set``, stamped
by the server's HLC), and answers each op as a dict (status, version, conflict_id, reason,
field).

Where ``sync.merge`` is not installed (this branch before the sync branch is merged) a
stand-in with the contract's semantics is used: base matches -> apply; same value ->
no-op; monotonic fields move forward; otherwise a conflict record with every competing
value, the newest by HLC shown provisionally.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import sqlite_utils

from ..clock import now_iso
from ..ids import new_id
from ..storage import records
from ..storage.crypto import Keyring
from ..storage.records import Actor, rank

_counter = itertools.count()


def server_hlc(node: str) -> str:
    return f"{int(time.time() * 1000):015d}-{next(_counter) % 100000:05d}-{node}"


def _candidate(value: Any, meta: dict[str, Any] | None, actor: Actor | None = None) -> dict[str, Any]:
    if actor is not None:
        return {"value": value, "user_id": actor.user_id, "client_id": actor.client_id, "device_id": actor.device_id,
                "hlc": actor.hlc, "at": now_iso()}
    meta = meta or {}
    return {"value": value, "user_id": meta.get("by"), "client_id": None, "device_id": meta.get("dev"),
            "hlc": meta.get("hlc"), "at": meta.get("at")}


def _conflict(db, keyring, actor: Actor, entity: str, row: dict[str, Any], fld: str, value: Any) -> str:
    meta = row["field_meta"].get(fld)
    open_ = records.find(db, keyring, "conflict", "entity = ? AND entity_id = ? AND field = ? AND status = 'open'",
                         [entity, row["id"], fld])
    if open_:
        c = open_[0]
        records.update(db, keyring, "conflict", c["id"], {"candidates": [*c["candidates"], _candidate(value, None, actor)]},
                       actor)
        conflict_id = c["id"]
    else:
        conflict_id = new_id()
        records.insert(db, keyring, "conflict", {
            "id": conflict_id, "agency_id": row["agency_id"], "family_id": row["family_id"], "entity": entity,
            "entity_id": row["id"], "field": fld, "status": "open",
            "candidates": [_candidate(row.get(fld), meta), _candidate(value, None, actor)]}, actor)
    # The newest value (by HLC) is shown until a person decides; the other is kept above.
    if (actor.hlc or "") > ((meta or {}).get("hlc") or ""):
        records.update(db, keyring, entity, row["id"], {fld: value}, actor)
    return conflict_id


try:  # the sync engineer's merge, once merged
    from sync import merge as _sync_merge  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on what is merged
    _sync_merge = None


def apply_ops(db: sqlite_utils.Database, keyring: Keyring, actor: Actor, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if _sync_merge is not None and hasattr(_sync_merge, "make_set"):
        return _via_sync(db, keyring, actor, ops)
    return _stand_in(db, keyring, actor, ops)


def _via_sync(db: sqlite_utils.Database, keyring: Keyring, actor: Actor, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    structs = []
    for op in ops:
        family_id = op["entity_id"] if op["entity"] == "family" else op["family_id"]
        if op["type"] == "create":
            structs.append(_sync_merge.make_create(op["entity"], op["entity_id"], family_id, op["values"]))
        else:
            struct = _sync_merge.make_set(op["entity"], op["entity_id"], family_id, op["field"], op["value"],
                                          op["base_version"])
            if op.get("hlc") and actor.device_id:  # a phone's own edit keeps the clock it was made with
                import msgspec

                struct = msgspec.structs.replace(struct, hlc=op["hlc"], op_id=op.get("op_id") or struct.op_id)
            structs.append(struct)
    results = _sync_merge.apply_ops(db, keyring, actor, structs)
    return [{"op_id": r.op_id, "status": r.status, "version": r.version, "conflict_id": r.conflict_id,
             "reason": r.reason, "field": op.get("field")} for r, op in zip(results, ops)]


def _stand_in(db: sqlite_utils.Database, keyring: Keyring, actor: Actor, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    results = []
    for op in ops:
        entity = records.ENTITIES[op["entity"]]
        res = {"op_id": op.get("op_id"), "status": "applied", "version": None, "conflict_id": None, "reason": None,
               "field": op.get("field")}
        row = records.get(db, keyring, op["entity"], op["entity_id"], include_deleted=True)
        if op["type"] == "create":
            if row is None:
                values = {"id": op["entity_id"], "agency_id": op["agency_id"], "family_id": op.get("family_id"),
                          **op["values"]}
                if op["entity"] == "family":
                    values.pop("family_id")
                records.insert(db, keyring, op["entity"], values, actor)
                res["version"] = 1
                results.append(res)
                continue
            sets = [{"type": "set", "op_id": op.get("op_id"), "entity": op["entity"], "entity_id": op["entity_id"],
                     "field": f, "value": v, "base_version": 0} for f, v in op["values"].items()]
            results.extend(_stand_in(db, keyring, actor, sets))
            continue
        fld, value = op["field"], op["value"]
        if row is None or row["deleted"]:
            res.update(status="rejected", reason="no such record")
        elif fld not in entity.fields or fld in entity.immutable:
            res.update(status="rejected", reason="field cannot be changed")
        elif row.get(fld) == value:
            res.update(status="duplicate", version=row["version"])
        else:
            fv = int((row["field_meta"].get(fld) or {}).get("v", 0))
            forward = False
            if fld in entity.monotonic:
                try:
                    forward = rank(entity.monotonic[fld], value) > rank(entity.monotonic[fld], row.get(fld))
                except ValueError:
                    res.update(status="rejected", reason="not a known state")
                    results.append(res)
                    continue
            open_conflict = bool(records.find(
                db, keyring, "conflict", "entity = ? AND entity_id = ? AND field = ? AND status = 'open'",
                [op["entity"], row["id"], fld]))
            if (op["base_version"] == fv and not open_conflict) or forward:
                res["version"] = records.update(db, keyring, op["entity"], row["id"], {fld: value}, actor)
            elif fld in entity.monotonic:
                res.update(status="duplicate", version=row["version"])  # a step back is already superseded
            else:
                res.update(status="conflict", conflict_id=_conflict(db, keyring, actor, op["entity"], row, fld, value))
                res["version"] = records.get(db, keyring, op["entity"], row["id"])["version"]
        results.append(res)
    return results
