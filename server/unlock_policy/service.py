"""Stored in ``agencies.settings`` under ``"unlock"``, beside the agency's other settings."""

from __future__ import annotations

import msgspec

from .. import audit
from ..access import Principal
from ..errors import NotFound
from ..storage import accounts
from ..storage.tx import Tx
from .schemas import UnlockPolicyRead, UnlockPolicyUpdate

KEY = "unlock"


def _settings(db: Tx, agency_id: str) -> dict:
    settings = accounts.agency_settings(db, agency_id)
    if settings is None:
        raise NotFound("No such agency.")
    return settings


def policy_for(db: Tx, agency_id: str) -> UnlockPolicyRead:
    return msgspec.convert(_settings(db, agency_id).get(KEY) or {}, UnlockPolicyRead)


def update_policy(db: Tx, principal: Principal, data: UnlockPolicyUpdate) -> UnlockPolicyRead:
    settings = _settings(db, principal.agency_id)
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    merged = msgspec.convert({**(settings.get(KEY) or {}), **changes}, UnlockPolicyRead)
    settings[KEY] = msgspec.to_builtins(merged)
    accounts.set_agency_settings(db, principal.agency_id, settings)
    audit.record(db, "unlock-policy-changed", entity="agency", entity_id=principal.agency_id, **audit.by(principal),
                 detail=changes)
    return merged
