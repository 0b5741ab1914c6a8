"""The audit trail: who did what to which record, when, from which device, and why.

Written in the same transaction as the action it records, so an action and its audit
entry stand or fall together. Never holds personal data: ids, actions and purposes only.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from .clock import now_iso


def record(
    db: sqlite_utils.Database,
    action: str,
    *,
    agency_id: str | None,
    user_id: str | None = None,
    device_id: str | None = None,
    client_id: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    family_id: str | None = None,
    purpose: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    db.execute(
        "INSERT INTO audit_events (at, agency_id, user_id, device_id, client_id, action, entity, entity_id,"
        " family_id, purpose, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [now_iso(), agency_id, user_id, device_id, client_id, action, entity, entity_id, family_id, purpose,
         json.dumps(detail or {}, sort_keys=True)],
    )


def by(principal: Any) -> dict[str, Any]:
    """The who-columns for an action taken by a signed-in principal."""
    return {"agency_id": principal.agency_id, "user_id": principal.user_id, "device_id": principal.device_id}
