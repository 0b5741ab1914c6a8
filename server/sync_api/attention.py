"""Entries kept that need a person to look at them: an observation or addendum whose
visit or person was deleted meanwhile, or one recorded while its family was not in the
writer's reach. They were never refused (nothing a practitioner records is lost); this
is where their writer and the supervisor find them."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlite_utils

from ..access import Principal, family_condition
from ..storage import records
from ..storage.crypto import Keyring


class AttentionRead(msgspec.Struct):
    id: str
    entity: str
    family_id: str
    visit_id: str | None
    attention: str
    kind: str | None
    text: str
    recorded_by: str
    recorded_at: str


def _scope(p: Principal) -> tuple[str, list[Any]]:
    """The writer's own entries wherever they are now; a supervisor's team's; an admin's
    agency's."""
    if p.role == "practitioner":
        return "recorded_by = ?", [p.user_id]
    cond, params = family_condition(p, "family_id")
    if p.role == "supervisor":
        return (f"({cond} OR recorded_by IN (SELECT id FROM users WHERE team_id IS ?))", [*params, p.team_id])
    return cond, params


def list_attention(db: sqlite_utils.Database, keyring: Keyring, p: Principal, limit: int) -> list[AttentionRead]:
    cond, params = _scope(p)
    out: list[AttentionRead] = []
    for entity in ("observation", "addendum"):
        rows = records.find(db, keyring, entity, f"attention IS NOT NULL AND agency_id = ? AND {cond}",
                            [p.agency_id, *params], order_by="recorded_at DESC, id")
        out += [AttentionRead(id=r["id"], entity=entity, family_id=r["family_id"], visit_id=r.get("visit_id"),
                              attention=r["attention"], kind=r.get("kind"), text=r["text"],
                              recorded_by=r["recorded_by"], recorded_at=r["recorded_at"]) for r in rows]
    return sorted(out, key=lambda a: a.recorded_at, reverse=True)[:limit]
