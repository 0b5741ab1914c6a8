"""Acknowledgements: a core system confirms which feed items (at which version) it has
filed, with its own id for each. Items whose current version is not acknowledged stay on
the admin's list with their age."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import sqlite_utils

from .. import audit
from ..clock import now_iso, parse_iso, utcnow
from ..errors import FieldError, InvalidInput
from ..security.limits import INT64_MAX
from ..storage import records
from ..storage.crypto import Keyring
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


def acknowledge(db: sqlite_utils.Database, keyring: Keyring, client: AgencyClient, acks: list[Ack]) -> dict[str, Any]:
    if len(acks) > MAX_ACKS:
        raise InvalidInput(f"At most {MAX_ACKS} acknowledgements at once.",
                           errors=[FieldError("body", f"at most {MAX_ACKS} items")])
    errors = []
    for n, a in enumerate(acks):
        if a.item_type not in ITEM_TYPES:
            errors.append(FieldError(f"body[{n}].item_type", f"one of {', '.join(ITEM_TYPES)}"))
            continue
        table = records.ENTITIES[a.item_type].table
        rows = list(db.query(f"SELECT version FROM {table} WHERE id = ? AND agency_id = ?", [a.id, client.agency_id]))
        if not rows:
            errors.append(FieldError(f"body[{n}].id", "no such item"))
        elif a.version < 1 or a.version > rows[0]["version"]:
            errors.append(FieldError(f"body[{n}].version", "not a version of this item"))
        if a.external_id is not None and not (0 < len(a.external_id) <= 200):
            errors.append(FieldError(f"body[{n}].external_id", "1 to 200 characters"))
        if a.system is not None and (any(ch.isspace() for ch in a.system) or ":" not in a.system):
            errors.append(FieldError(f"body[{n}].system", "a URI, without spaces"))
    if errors:
        raise InvalidInput("Some acknowledgements are not valid; none were recorded.", errors=errors)
    recorded = 0
    for a in acks:
        cur = db.execute(
            "INSERT OR IGNORE INTO feed_acks (client_id, agency_id, item_type, item_id, version, external_id, acked_at)"
            " VALUES (?,?,?,?,?,?,?)",
            [client.client_id, client.agency_id, a.item_type, a.id, a.version,
             keyring.encrypt(a.external_id.encode(), f"feed_acks/{client.client_id}/{a.item_type}/{a.id}/{a.version}")
             if a.external_id else None, now_iso()])
        recorded += cur.rowcount
        if a.external_id:
            external_ids.put(db, keyring, client.agency_id, a.item_type, a.id,
                             external_ids.ExternalId(system=a.system or client.identifier_system, value=a.external_id),
                             client.client_id)
    audit.record(db, "feed-acknowledged", agency_id=client.agency_id, client_id=client.client_id,
                 detail={"count": len(acks), "new": recorded})
    return {"acknowledged": len(acks), "new": recorded}


def unacknowledged(db: sqlite_utils.Database, keyring: Keyring, agency_id: str) -> list[dict[str, Any]]:
    """For each live client that reads the feed: the items whose current version it has not
    acknowledged, oldest first, with their age in seconds."""
    page = read_feed(db, keyring, agency_id, 0, 10**9, build=False)
    now = utcnow()
    out = []
    for client in db.query("SELECT id, name, scopes FROM integration_clients WHERE agency_id = ? AND revoked_at IS NULL"
                           " ORDER BY created_at", [agency_id]):
        if "feed:read" not in client["scopes"].split(","):
            continue
        acked = {(r["item_type"], r["item_id"], r["version"]) for r in db.query(
            "SELECT item_type, item_id, version FROM feed_acks WHERE client_id = ?", [client["id"]])}
        pending = [
            {"item_type": i["type"], "id": i["id"], "version": i["version"], "since": i["changed_at"],
             "age_seconds": int((now - parse_iso(i["changed_at"])).total_seconds())}
            for i in page.items if (i["type"], i["id"], i["version"]) not in acked
        ]
        pending.sort(key=lambda p: p["since"])
        out.append({"client_id": client["id"], "name": client["name"], "count": len(pending),
                    "oldest_age_seconds": pending[0]["age_seconds"] if pending else None, "items": pending})
    return out
