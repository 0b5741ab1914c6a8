"""Integration clients: a core system's credential, scoped to one agency.

The token is shown once, when it is made; only its SHA-256 hash is kept (it is 256 random
bits, so no dictionary exists to reverse the hash). Revoking or rotating takes effect on
the next request, because every request looks the hash up afresh.
"""

from __future__ import annotations

import secrets
from typing import Any

import msgspec

from .. import audit
from ..auth.tokens import token_hash
from ..clock import now_iso
from ..errors import FieldError, InvalidInput, NotFound, Unauthorized
from ..ids import new_id
from ..storage import clients as client_rows
from ..storage.crypto import Keyring
from ..storage.tx import Tx
from .webhook_admin import check_url
from .webhooks import new_secret

SCOPES = ("feed:read", "families:read", "families:write")
TOKEN_PREFIX = "hsa"


class AgencyClient(msgspec.Struct, frozen=True):
    """The principal of an agency API request."""

    client_id: str
    agency_id: str
    name: str
    scopes: tuple[str, ...]
    identifier_system: str

    def has(self, scope: str) -> bool:
        return scope in self.scopes


class ClientInfo(msgspec.Struct):
    id: str
    agency_id: str
    name: str
    scopes: list[str]
    token_prefix: str | None
    created_at: str
    rotated_at: str | None
    revoked_at: str | None
    last_used_at: str | None
    webhook_url: str | None
    identifier_system: str


def default_identifier_system(agency_id: str) -> str:
    return f"urn:hearthside:agency:{agency_id}"


def _new_token() -> str:
    return f"{TOKEN_PREFIX}_{secrets.token_urlsafe(32)}"


def parse_scopes(text: str | list[str]) -> list[str]:
    items = text if isinstance(text, list) else [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in items if s not in SCOPES]
    if bad or not items:
        raise InvalidInput(
            "Unknown or missing scopes.",
            errors=[FieldError("scopes", f"choose from {', '.join(SCOPES)}")],
        )
    return sorted(set(items))


def _info(row: dict[str, Any]) -> ClientInfo:
    return ClientInfo(
        id=row["id"], agency_id=row["agency_id"], name=row["name"], scopes=row["scopes"].split(","),
        token_prefix=row["token_prefix"], created_at=row["created_at"], rotated_at=row["rotated_at"],
        revoked_at=row["revoked_at"], last_used_at=row["last_used_at"], webhook_url=row["webhook_url"],
        identifier_system=row["identifier_system"] or default_identifier_system(row["agency_id"]),
    )


def create_client(
    db: Tx,
    keyring: Keyring,
    agency_id: str,
    name: str,
    scopes: list[str],
    *,
    webhook_url: str | None = None,
    identifier_system: str | None = None,
) -> tuple[ClientInfo, str, str | None]:
    """Returns (client, token, webhook secret). The token and secret are not kept in clear."""
    token = _new_token()
    client_id = new_id()
    if webhook_url:
        check_url(webhook_url)
    secret = new_secret() if webhook_url else None
    row = {
        "id": client_id, "agency_id": agency_id, "name": name, "token_hash": token_hash(token),
        "scopes": ",".join(parse_scopes(scopes)), "created_at": now_iso(), "revoked_at": None,
        "token_prefix": token[:10], "rotated_at": None, "last_used_at": None, "webhook_url": webhook_url,
        "webhook_secret": keyring.encrypt(secret.encode(), f"integration_clients/{client_id}/webhook_secret")
        if secret else None,
        "identifier_system": identifier_system or default_identifier_system(agency_id),
    }
    client_rows.insert(db, row)
    audit.record(db, "integration-client-created", agency_id=agency_id, client_id=client_id,
                 entity="integration_client", entity_id=client_id, detail={"scopes": row["scopes"]})
    return _info(row), token, secret


def _row(db: Tx, client_id: str) -> dict[str, Any]:
    row = client_rows.get(db, client_id)
    if row is None:
        raise NotFound("No such integration client.")
    return row


def rotate_client(db: Tx, client_id: str) -> tuple[ClientInfo, str]:
    """A new token; the old one stops working at once."""
    row = _row(db, client_id)
    if row["revoked_at"]:
        raise InvalidInput("A revoked client cannot be rotated; create a new one.")
    token = _new_token()
    client_rows.set_token(db, client_id, token_hash(token), token[:10], now_iso())
    audit.record(db, "integration-client-rotated", agency_id=row["agency_id"], client_id=client_id,
                 entity="integration_client", entity_id=client_id)
    return _info(_row(db, client_id)), token


def revoke_client(db: Tx, client_id: str) -> ClientInfo:
    row = _row(db, client_id)
    if not row["revoked_at"]:
        client_rows.revoke(db, client_id, now_iso())
        audit.record(db, "integration-client-revoked", agency_id=row["agency_id"], client_id=client_id,
                     entity="integration_client", entity_id=client_id)
    return _info(_row(db, client_id))


def list_clients(db: Tx, agency_id: str | None = None) -> list[ClientInfo]:
    return [_info(r) for r in client_rows.listing(db, agency_id)]


def authenticate(db: Tx, header: str) -> AgencyClient:
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Send the client token: Authorization: Bearer <token>.",
                           headers={"WWW-Authenticate": 'Bearer realm="hearthside-agency"'})
    row = client_rows.by_token(db, token_hash(token))
    if row is None:
        raise Unauthorized("The client token is not valid or has been revoked.",
                           headers={"WWW-Authenticate": 'Bearer realm="hearthside-agency", error="invalid_token"'})
    return AgencyClient(
        client_id=row["id"], agency_id=row["agency_id"], name=row["name"], scopes=tuple(row["scopes"].split(",")),
        identifier_system=row["identifier_system"] or default_identifier_system(row["agency_id"]),
    )

