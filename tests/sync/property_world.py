"""The world the sync state machine runs in, and the writers without a phone.

Two families of one team: f1 with two children, two visits of p1's and a checklist answer
on each visit; f2 with one child, whose allocation to p2 comes and goes. Three phones
(p1 twice, p2 once), a supervisor writing as a REST handler does (``sync.merge.apply_ops``
with its Principal) and an agency client writing back through the agency's merge port.
"""

from __future__ import annotations

import hashlib

from dataclasses import dataclass, field
from typing import Any

import msgspec

from server.access import Principal
from server.clock import now_iso
from server.ids import new_id
from server.storage import records
from server.storage.records import Actor
from sync import merge


def insert_user(db, agency: str, team: str, username: str, role: str) -> str:
    uid = new_id()
    db["users"].insert({"id": uid, "agency_id": agency, "team_id": team, "username": username,
                        "display_name": username, "role": role, "password_hash": "x", "demo": 0,
                        "disabled_at": None, "created_at": now_iso()})
    return uid


def principal(uid: str, username: str, role: str, agency: str, team: str, device: str) -> Principal:
    return Principal(user_id=uid, username=username, display_name=username, role=role, agency_id=agency,
                     team_id=team, device_id=device)


@dataclass
class World:
    agency: str = ""
    team: str = ""
    p1: str = ""
    p2: str = ""
    client_id: str = ""
    f1: str = ""
    f2: str = ""
    persons: list[str] = field(default_factory=list)  # f1's children
    visits: list[str] = field(default_factory=list)  # f1's visits, p1's
    responses: list[str] = field(default_factory=list)  # one checklist answer on each visit
    scratch: str = ""  # the person the agency deletes
    f2_person: str = ""
    alloc: dict[tuple[str, str], str] = field(default_factory=dict)
    principals: list[Principal] = field(default_factory=list)  # the three phones'
    sup: Principal | None = None

    def record(self, entity: str, idx: int) -> str:
        return {"person": self.persons, "visit": self.visits, "checklist_response": self.responses}[entity][idx]


def build(db, kr) -> World:
    w = World(agency=new_id(), team=new_id(), client_id=new_id(), f1=new_id(), f2=new_id())
    db["agencies"].insert({"id": w.agency, "name": "A", "timezone": "Europe/London", "settings": "{}",
                           "created_at": now_iso()})
    db["teams"].insert({"id": w.team, "agency_id": w.agency, "name": "T", "created_at": now_iso()})
    w.p1 = insert_user(db, w.agency, w.team, "p1", "practitioner")
    w.p2 = insert_user(db, w.agency, w.team, "p2", "practitioner")
    sup = insert_user(db, w.agency, w.team, "sup", "supervisor")
    db["integration_clients"].insert({"id": w.client_id, "agency_id": w.agency, "name": "core",
                                      "token_hash": new_id(), "scopes": "[]", "created_at": now_iso()})

    def insert(entity: str, family: str, **values: Any) -> str:
        rid = new_id()
        records.insert(db, kr, entity, {"id": rid, "agency_id": w.agency, "family_id": family, **values})
        return rid

    for fam in (w.f1, w.f2):
        records.insert(db, kr, "family", {"id": fam, "agency_id": w.agency, "team_id": w.team,
                                          "family_name": "Fam", "status": "active"})
    w.persons = [insert("person", w.f1, role="child", given_name=name) for name in ("Kit", "Lyn")]
    w.scratch = insert("person", w.f1, role="other-adult", given_name="Lodger")
    w.visits = [insert("visit", w.f1, practitioner_id=w.p1, type="targeted", status="in-progress") for _ in "ab"]
    w.responses = [insert("checklist_response", w.f1, visit_id=v, checklist_id="safe-sleep", checklist_version=1,
                          subject_id=w.persons[0], item_id="cot", answer="yes") for v in w.visits]
    w.f2_person = insert("person", w.f2, role="child", given_name="Wren")
    for fam, uid in ((w.f1, w.p1), (w.f1, w.p2), (w.f2, w.p1), (w.f2, w.p2)):
        w.alloc[(fam, uid)] = insert("allocation", fam, practitioner_id=uid, active=True)
    for i, (uid, name) in enumerate(((w.p1, "p1"), (w.p1, "p1"), (w.p2, "p2"))):
        did = new_id()
        db["devices"].insert({"id": did, "user_id": uid, "agency_id": w.agency, "name": f"d{i}",
                              "escrow_key": "x", "enrolled_at": now_iso()})
        w.principals.append(principal(uid, name, "practitioner", w.agency, w.team, did))
    w.sup = principal(sup, "sup", "supervisor", w.agency, w.team, "")
    return w


def field_version(row: dict[str, Any], name: str) -> int:
    return int((row["field_meta"].get(name) or {}).get("v", 0))


def supervisor_apply(db, kr, w: World, ops: list[Any]) -> list[dict[str, Any]]:
    """A REST handler's write: the supervisor's ops through the one merge, with its Principal."""
    results = merge.apply_ops(db, kr, Actor(user_id=w.sup.user_id), ops, principal=w.sup)
    return [msgspec.to_builtins(r) for r in results]


def agency_set(db, kr, w: World, entity: str, entity_id: str, name: str, value: Any, base: int) -> dict[str, Any]:
    """An agency write-back: a set op stamped by the server, through the one merge, as the
    write-back controller sends it."""
    op = merge.make_set(entity, entity_id, w.f1, name, value, base)
    (r,) = merge.apply_ops(db, kr, Actor(client_id=w.client_id), [op])
    return {**msgspec.to_builtins(r), "field": name}


def field_history(db, kr, entity_id: str) -> dict[int, tuple[set[str], str | None]]:
    """Per row version of a record: the fields it changed and who changed them."""
    out = {}
    for r in db.query("SELECT * FROM change_log WHERE entity_id = ? ORDER BY seq", [entity_id]):
        fields = set(records.decode_changes(kr, r)) if r["op"] != "delete" else set()
        out[r["version"]] = (fields, r["actor_device_id"] or r["actor_client_id"] or r["actor_user_id"])
    return out


def fingerprint(store) -> str:
    """Everything a replayed push must leave as it was."""
    h = hashlib.sha256()
    with store.read() as db:
        for table in ("change_log", "conflicts", "persons", "visits", "observations", "checklist_responses",
                      "sync_quarantine", "sync_held"):
            for row in db.query(f"SELECT * FROM {table} ORDER BY rowid"):
                h.update(repr(sorted((k, v) for k, v in row.items() if k != "received_at")).encode())
    return h.hexdigest()
