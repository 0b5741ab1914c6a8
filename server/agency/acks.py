"""Acknowledgements: a core system confirms which feed items (at which version) it has
filed, with its own id for each. Items whose current version is not acknowledged stay on
the admin's list with their age."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from .. import audit
from ..clock import now_iso, parse_iso, utcnow
from ..errors import FieldError, InvalidInput
from ..security.limits import INT64_MAX
from ..storage import clients as client_rows, feed as feed_rows
from ..storage.crypto import Keyring
from ..storage.tx import Tx
from . import external_ids
from .clients import AgencyClient
from .feed import ITEM_TYPES, read_feed

MAX_ACKS = 1000


Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Ack(msgspec.Struct, forbid_unknown_fields=True):
    item_type: Short
    id: Short
    version: Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
    external_id: Short | None = None
    # Whose namespace ``external_id`` is in; by default the client's identifier system. The
    # file connector names its own, so its bookkeeping never reads as the agency's ids.
    system: Short | None = None


# The request body. Litestar drops a top-level Annotated bound when it decodes ``data``,
# so ``acknowledge`` checks the length itself; the annotation documents it in the schema.
AckList = Annotated[list[Ack], msgspec.Meta(max_length=MAX_ACKS)]


def acknowledge(db: Tx, keyring: Keyring, client: AgencyClient, acks: list[Ack]) -> dict[str, Any]:
    if len(acks) > MAX_ACKS:
        raise InvalidInput(f"At most {MAX_ACKS} acknowledgements at once.",
                           errors=[FieldError("body", f"at most {MAX_ACKS} items")])
    errors = []
    for n, a in enumerate(acks):
        if a.item_type not in ITEM_TYPES:
            errors.append(FieldError(f"body[{n}].item_type", f"one of {', '.join(ITEM_TYPES)}"))
            continue
        current = feed_rows.item_version(db, a.item_type, a.id, client.agency_id)
        if current is None:
            errors.append(FieldError(f"body[{n}].id", "no such item"))
        elif a.version < 1 or a.version > current:
            errors.append(FieldError(f"body[{n}].version", "not a version of this item"))
        if a.external_id is not None and not (0 < len(a.external_id) <= 200):
            errors.append(FieldError(f"body[{n}].external_id", "1 to 200 characters"))
        if a.system is not None and (any(ch.isspace() for ch in a.system) or ":" not in a.system):
            errors.append(FieldError(f"body[{n}].system", "a URI, without spaces"))
    if errors:
        raise InvalidInput("Some acknowledgements are not valid; none were recorded.", errors=errors)
    recorded = 0
    for a in acks:
        recorded += feed_rows.add_ack(
            db, client.client_id, client.agency_id, a.item_type, a.id, a.version,
            keyring.encrypt(a.external_id.encode(), f"feed_acks/{client.client_id}/{a.item_type}/{a.id}/{a.version}")
            if a.external_id else None, now_iso())
        if a.external_id:
            external_ids.put(db, keyring, client.agency_id, a.item_type, a.id,
                             external_ids.ExternalId(system=a.system or client.identifier_system, value=a.external_id),
                             client.client_id)
    audit.record(db, "feed-acknowledged", agency_id=client.agency_id, client_id=client.client_id,
                 detail={"count": len(acks), "new": recorded})
    return {"acknowledged": len(acks), "new": recorded}


def unacknowledged(db: Tx, keyring: Keyring, agency_id: str) -> list[dict[str, Any]]:
    """For each live client that reads the feed: the items whose current version it has not
    acknowledged, oldest first, with their age in seconds."""
    page = read_feed(db, keyring, agency_id, 0, 10**9, build=False)
    now = utcnow()
    out = []
    for client in client_rows.live(db, agency_id):
        if "feed:read" not in client["scopes"].split(","):
            continue
        acked = feed_rows.acked(db, client["id"])
        pending = [
            {"item_type": i["type"], "id": i["id"], "version": i["version"], "since": i["changed_at"],
             "age_seconds": int((now - parse_iso(i["changed_at"])).total_seconds())}
            for i in page.items if (i["type"], i["id"], i["version"]) not in acked
        ]
        pending.sort(key=lambda p: p["since"])
        out.append({"client_id": client["id"], "name": client["name"], "count": len(pending),
                    "oldest_age_seconds": pending[0]["age_seconds"] if pending else None, "items": pending})
    return out
