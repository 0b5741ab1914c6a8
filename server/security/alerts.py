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
import sqlite_utils
from litestar import Controller, get
from litestar.params import Parameter

from sync.hooks import AppliedChange, register_after_apply
from sync.model import INT64_MAX

from .. import audit
from ..access import Principal, require_role
from ..storage.db import Database

# Deleting these hides a safeguarding concern (a family's record takes its flags with it).
ALERTED_DELETES = ("flag", "family")


def _family_team(db: sqlite_utils.Database, family_id: str | None) -> str | None:
    row = db.execute("SELECT team_id FROM families WHERE id = ?", [family_id]).fetchone() if family_id else None
    return row[0] if row else None


@register_after_apply
def on_deleted(db: sqlite_utils.Database, keyring: Any, actor: Any, changes: list[AppliedChange]) -> None:
    """After any write path applied a delete: an alert for each flag or family removed."""
    for c in changes:
        if c.op == "delete" and c.entity in ALERTED_DELETES:
            audit.record(db, f"{c.entity}-deleted", agency_id=c.agency_id, user_id=actor.user_id,
                         device_id=actor.device_id, client_id=actor.client_id, entity=c.entity,
                         entity_id=c.entity_id, family_id=c.family_id, alert=True,
                         team_id=_family_team(db, c.family_id))


def delete_refused(db: sqlite_utils.Database, writer: Any, entity: str, entity_id: str, family_id: str | None) -> None:
    """Someone tried to delete a flag and was refused: their supervisor should know."""
    if entity != "flag":
        return
    a = writer.actor
    row = db.execute("SELECT family_id FROM flags WHERE id = ? AND agency_id = ?", [entity_id, writer.agency_id]
                     ).fetchone()
    fam = row[0] if row else None  # never trust the op's family for a record of another
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
        where, params = "a.alert = 1 AND a.agency_id = ?", [principal.agency_id]
        if principal.role == "supervisor":
            where += " AND a.team_id = ?"
            params.append(principal.team_id)
        if before is not None:
            where += " AND a.seq < ?"
            params.append(before)
        with store.write() as db:  # a write: reading alerts is itself audited
            rows = list(db.query(
                "SELECT a.seq, a.at, a.action, a.entity, a.entity_id, a.family_id, a.team_id, a.user_id,"
                " u.display_name AS user_name, a.device_id, a.client_id FROM audit_events a"
                f" LEFT JOIN users u ON u.id = a.user_id WHERE {where} ORDER BY a.seq DESC LIMIT ?",
                [*params, limit]))
            audit.record(db, "alerts-read", purpose="supervision", **audit.by(principal))
        return [msgspec.convert(r, AlertRead) for r in rows]
