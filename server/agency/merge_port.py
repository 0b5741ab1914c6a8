"""The one call through which agency write-back reaches the records: the sync merge.

Write-back builds the same ops a phone pushes (``create`` with values, ``set`` with
``field``, ``value``, ``base_version``) and hands them to ``sync.merge.apply_ops`` — the
merge the phones' pushes use — so a core system can never overwrite a practitioner's
edit silently, nor the other way round.
"""

from __future__ import annotations

from typing import Any

import msgspec
import sqlite_utils

from sync import merge

from ..storage.crypto import Keyring
from ..storage.records import Actor


def apply_ops(db: sqlite_utils.Database, keyring: Keyring, actor: Actor, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    structs = []
    for op in ops:
        family_id = op["entity_id"] if op["entity"] == "family" else op["family_id"]
        if op["type"] == "create":
            structs.append(merge.make_create(op["entity"], op["entity_id"], family_id, op["values"]))
        else:
            struct = merge.make_set(op["entity"], op["entity_id"], family_id, op["field"], op["value"],
                                    op["base_version"])
            if op.get("hlc") and actor.device_id:  # a phone's own edit keeps the clock it was made with
                struct = msgspec.structs.replace(struct, hlc=op["hlc"], op_id=op.get("op_id") or struct.op_id)
            structs.append(struct)
    results = merge.apply_ops(db, keyring, actor, structs)
    return [{"op_id": r.op_id, "status": r.status, "version": r.version, "conflict_id": r.conflict_id,
             "reason": r.reason, "field": op.get("field")} for r, op in zip(results, ops)]
