"""Entries kept that need a person to look at them: an observation or addendum whose
visit or person was deleted meanwhile, or one recorded while its family was not in the
writer's reach. They were never refused (nothing a practitioner records is lost); this
is where their writer and the supervisor find them."""

from __future__ import annotations

import msgspec

from ..access import Principal
from ..storage import attention as attention_store
from ..storage.crypto import Keyring
from ..storage.tx import Tx


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


def list_attention(db: Tx, keyring: Keyring, p: Principal, limit: int) -> list[AttentionRead]:
    """The writer's own entries wherever they are now; a supervisor's team's; an admin's
    agency's."""
    out: list[AttentionRead] = []
    for entity in attention_store.KEPT:
        rows = attention_store.kept_for(db, keyring, p, entity)
        out += [AttentionRead(id=r["id"], entity=entity, family_id=r["family_id"], visit_id=r.get("visit_id"),
                              attention=r["attention"], kind=r.get("kind"), text=r["text"],
                              recorded_by=r["recorded_by"], recorded_at=r["recorded_at"]) for r in rows]
    return sorted(out, key=lambda a: a.recorded_at, reverse=True)[:limit]
