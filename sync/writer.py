"""Who is writing, and ops made by writers without a phone (REST, agency, server jobs).

A REST call, an agency write-back and the server's own rules build the same ops a phone
pushes, stamped with the server's clock, and hand them to ``sync.merge.apply_ops``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.access import Principal
from server.ids import new_id
from server.storage import sync_reach
from server.storage.records import Actor
from server.storage.tx import Tx

from . import hlc as hlc_mod
from .policy import WriterRole
from .protocol import CreateOp, DeleteOp, ResolveOp, SetOp


@dataclass
class Writer:
    actor: Actor
    agency_id: str
    role: str  # practitioner / supervisor / admin / integration / system
    principal: Principal

    @property
    def key(self) -> str:
        return self.actor.device_id or self.actor.client_id or self.actor.user_id or "server"

    @property
    def who(self) -> str | None:
        """The id recorded as the author: the user, or the integration client."""
        return self.actor.user_id or self.actor.client_id

    @property
    def policy_role(self) -> WriterRole:
        return WriterRole(self.role, self.who, self.principal.team_id)


def writer_for(db: Tx, actor: Actor, principal: Principal | None = None, *,
               agency_id: str | None = None) -> Writer:
    """The writer an actor is, with the access scope its writes are checked against. An
    integration client writes any family of its agency; the server itself (no user, no
    client, ``agency_id`` given) writes as ``system``."""
    if principal is not None:
        return Writer(actor, principal.agency_id, principal.role, principal)
    if actor.client_id:
        client_agency = sync_reach.integration_client_agency(db, actor.client_id)
        if client_agency is None:
            raise ValueError("unknown or revoked integration client")
        scope = Principal(user_id=actor.client_id, username="", display_name="", role="admin",
                          agency_id=client_agency, team_id=None, device_id="")
        return Writer(actor, client_agency, "integration", scope)
    if actor.user_id:
        u = sync_reach.enabled_user(db, actor.user_id)
        if u is None:
            raise ValueError("unknown or disabled user")
        p = Principal(user_id=u["id"], username=u["username"], display_name=u["display_name"], role=u["role"],
                      agency_id=u["agency_id"], team_id=u["team_id"], device_id=actor.device_id or "")
        return Writer(actor, u["agency_id"], u["role"], p)
    if agency_id:
        scope = Principal(user_id="", username="", display_name="", role="admin", agency_id=agency_id,
                          team_id=None, device_id="")
        return Writer(actor, agency_id, "system", scope)
    raise ValueError("an actor needs a user, an integration client or an agency")


def make_set(entity: str, entity_id: str, family_id: str, field_name: str, value: Any, base_version: int) -> SetOp:
    """A set op stamped by the server's clock; ``base_version`` is the field version the
    writer last saw (from its If-Match)."""
    return SetOp(op_id=new_id(), hlc=hlc_mod.server_clock.now(), entity=entity, entity_id=entity_id,
                 family_id=family_id, field=field_name, value=value, base_version=base_version)


def make_create(entity: str, entity_id: str, family_id: str, values: dict[str, Any], *,
                op_id: str | None = None) -> CreateOp:
    """A create op stamped by the server's clock; ``op_id`` for a server job that may run
    again (derived from what it creates, so a second run is a duplicate, not a new op)."""
    return CreateOp(op_id=op_id or new_id(), hlc=hlc_mod.server_clock.now(), entity=entity, entity_id=entity_id,
                    family_id=family_id, values=values)


def make_resolve(conflict_id: str, value: Any) -> ResolveOp:
    return ResolveOp(op_id=new_id(), hlc=hlc_mod.server_clock.now(), conflict_id=conflict_id, value=value)


def make_delete(entity: str, entity_id: str, family_id: str) -> DeleteOp:
    return DeleteOp(op_id=new_id(), hlc=hlc_mod.server_clock.now(), entity=entity, entity_id=entity_id,
                    family_id=family_id)
