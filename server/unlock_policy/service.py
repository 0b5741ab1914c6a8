"""Stored in ``agencies.settings`` under ``"unlock"``, beside the agency's other settings."""

from __future__ import annotations

import json

import msgspec
import sqlite_utils

from .. import audit
from ..access import Principal
from ..errors import NotFound
from .schemas import UnlockPolicyRead, UnlockPolicyUpdate

KEY = "unlock"


def _settings(db: sqlite_utils.Database, agency_id: str) -> dict:
    rows = list(db.query("SELECT settings FROM agencies WHERE id = ?", [agency_id]))
    if not rows:
        raise NotFound("No such agency.")
    return json.loads(rows[0]["settings"] or "{}")


def policy_for(db: sqlite_utils.Database, agency_id: str) -> UnlockPolicyRead:
    return msgspec.convert(_settings(db, agency_id).get(KEY) or {}, UnlockPolicyRead)


def update_policy(db: sqlite_utils.Database, principal: Principal, data: UnlockPolicyUpdate) -> UnlockPolicyRead:
    settings = _settings(db, principal.agency_id)
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    merged = msgspec.convert({**(settings.get(KEY) or {}), **changes}, UnlockPolicyRead)
    settings[KEY] = msgspec.to_builtins(merged)
    db.execute("UPDATE agencies SET settings = ? WHERE id = ?", [json.dumps(settings), principal.agency_id])
    audit.record(db, "unlock-policy-changed", entity="agency", entity_id=principal.agency_id, **audit.by(principal),
                 detail=changes)
    return merged
