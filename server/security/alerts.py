"""Alerts: audit entries a supervisor and an admin must see, not only an auditor.

A device revoked (a lost phone), a flag deleted or an attempt to delete one refused, a
family's whole record deleted: each is recorded as an audit entry with ``alert`` set and
the team whose supervisors it concerns (``team_id``), so the alert is sealed in the
keyed chain like any entry. Supervisors read their own team's alerts; admins every alert
of their agency; nothing crosses agencies. Reading them is itself audited.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.params import Parameter

from sync.hooks import AppliedChange, register_after_apply
from sync.model import INT64_MAX

from .. import audit
from ..access import Principal, require_role
from ..storage import audit_log, scope, security
from ..storage.db import Database
from ..storage.tx import Tx

# Deleting these hides a safeguarding concern (a family's record takes its flags with it).
ALERTED_DELETES = ("flag", "family")


def _family_team(db: Tx, family_id: str | None) -> str | None:
    return scope.family_team(db, family_id) if family_id else None


@register_after_apply
def on_deleted(db: Tx, keyring: Any, actor: Any, changes: list[AppliedChange]) -> None:
    """After any write path applied a delete: an alert for each flag or family removed."""
    for c in changes:
        if c.op == "delete" and c.entity in ALERTED_DELETES:
            audit.record(db, f"{c.entity}-deleted", agency_id=c.agency_id, user_id=actor.user_id,
                         device_id=actor.device_id, client_id=actor.client_id, entity=c.entity,
                         entity_id=c.entity_id, family_id=c.family_id, alert=True,
                         team_id=_family_team(db, c.family_id))


def delete_refused(db: Tx, writer: Any, entity: str, entity_id: str, family_id: str | None) -> None:
    """Someone tried to delete a flag and was refused: their supervisor should know."""
    if entity != "flag":
        return
    a = writer.actor
    fam = security.flag_family(db, entity_id, writer.agency_id)  # never trust the op's family for a record of another
    audit.record(db, "flag-delete-refused", agency_id=writer.agency_id, user_id=a.user_id, device_id=a.device_id,
                 client_id=a.client_id, entity="flag", entity_id=entity_id, family_id=fam, alert=True,
                 team_id=_family_team(db, fam) if fam else getattr(writer.principal, "team_id", None))


class AlertRead(msgspec.Struct):
    seq: int
    at: str
    action: str
    entity: str | None
    entity_id: str | None
    family_id: str | None
    team_id: str | None
    user_id: str | None
    user_name: str | None
    device_id: str | None
    client_id: str | None


class AlertsController(Controller):
    path = "/api/v1/alerts"
    tags = ["security"]

    @get("/", sync_to_thread=True)
    def list_alerts(
        self,
        store: Database,
        principal: Principal,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        before: Annotated[int | None, Parameter(ge=1, le=INT64_MAX)] = None,
    ) -> list[AlertRead]:
        """Alerts, newest first: a supervisor's team's, or every one of an admin's agency.
        Page back with ``before`` = the smallest ``seq`` seen."""
        require_role(principal, "supervisor", "admin")
        team_only = principal.role == "supervisor"
        with store.write() as db:  # a write: reading alerts is itself audited
            rows = audit_log.alerts(db, principal.agency_id, principal.team_id, team_only=team_only,
                                    before=before, limit=limit)
            audit.record(db, "alerts-read", purpose="supervision", **audit.by(principal))
        return [msgspec.convert(r, AlertRead) for r in rows]
