"""The policy matrix: one answer whichever way a write arrives.

Every REST write that has a sync equivalent is tried both ways — as the endpoint, and as
the ops a phone pushes — by each role, on each kind of record (the caller's own, a
same-team colleague's, another team's) in each state that matters (an open, decided or
closed flag raised on a signed visit; an open or done follow-up). Each pair is tried on a
fresh family of its own, so nothing one way does can change what the other way meets.
The answers must agree: applied both ways, refused both ways (403 / 409 / 422 and
``rejected``), or out of reach both ways (404 and ``held``).

The bypasses the issue found open through sync are tried last, as a practitioner in their
own caseload: every one is refused and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from typing import Any, Callable

import pytest

from server.clock import now_iso
from server.ids import new_id
from server.storage import records
from tests.factories import add_family, build_world
from tests.sync.device import Phone

ROLES = {"practitioner": "prac_a1", "supervisor": "sup_a1", "admin": "admin_a"}
# Whose record: the family's team and allocated practitioner, and who a follow-up is for.
# "colleague here" is a colleague's follow-up in the practitioner's own family: reach
# allows it, so only the record's owner decides.
WHOSE = {
    "own": ("A1", "prac_a1", "prac_a1"),
    "colleague here": ("A1", "prac_a1", "prac_a1b"),
    "colleague": ("A1", "prac_a1b", "prac_a1b"),
    "other team": ("A2", "prac_a2", "prac_a2"),
}
FAMILY_LEVEL = ("own", "colleague", "other team")
_keys = count()


@dataclass
class Target:
    family_id: str
    whose: str
    state: str
    record: dict[str, Any] | None = None  # the follow-up or flag acted on, as stored


def fresh_family(store, world, whose: str) -> str:
    team, practitioner, _ = WHOSE[whose]
    with store.write() as db:
        return add_family(db, store.keyring, world, f"m{next(_keys)}", "A", team, practitioner)


def fresh_follow_up(store, world, whose: str, state: str) -> Target:
    fid = fresh_family(store, world, whose)
    fu = new_id()
    done = {"status": "done", "note": "Done before", "completed_at": now_iso()} if state == "done" else {}
    with store.write() as db:
        records.insert(db, store.keyring, "follow_up", {
            "id": fu, "agency_id": world.agencies["A"], "family_id": fid, "assignee_id": world.users[WHOSE[whose][2]],
            "due_at": "2030-01-01T23:59:00.000Z", "text": "Weigh the baby", "status": "open", **done})
        return Target(fid, whose, state, records.get(db, store.keyring, "follow_up", fu))


def fresh_flag(store, world, whose: str, state: str) -> Target:
    """A flag as the server's rules raise it: on a signed visit."""
    fid = fresh_family(store, world, whose)
    visit, flag = new_id(), new_id()
    practitioner = world.users[WHOSE[whose][1]]
    decided = {"decision": "Joint visit", "rationale": "Not seen alone twice", "decided_by": world.users["sup_a1"],
               "decided_at": now_iso(), "acknowledged_by": world.users["sup_a1"], "acknowledged_at": now_iso()}
    extra = {"open": {}, "decided": {**decided, "status": "acknowledged"}, "closed": {**decided, "status": "closed"}}
    with store.write() as db:
        records.insert(db, store.keyring, "visit", {
            "id": visit, "agency_id": world.agencies["A"], "family_id": fid, "practitioner_id": practitioner,
            "type": "child-protection", "status": "completed", "completed_at": now_iso(), "signed_by": practitioner})
        records.insert(db, store.keyring, "flag", {
            "id": flag, "agency_id": world.agencies["A"], "family_id": fid, "visit_id": visit,
            "rule_id": "child-not-seen-alone", "severity": "urgent", "reason": "Child not seen alone",
            "status": "open", **extra[state]})
        return Target(fid, whose, state, records.get(db, store.keyring, "flag", flag))


def fv(record: dict[str, Any], name: str) -> int:
    return int((record["field_meta"].get(name) or {}).get("v", 0))


def at(record: dict[str, Any]) -> dict[str, str]:
    return {"If-Match": f'"{record["version"]}"'}


def set_op(entity: str, record: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    return {"type": "set", "entity": entity, "entity_id": record["id"], "family_id": record["family_id"],
            "field": name, "value": value, "base_version": fv(record, name)}


def create_op(entity: str, family_id: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"type": "create", "entity": entity, "entity_id": new_id(), "family_id": family_id, "values": values}


def get(store, entity: str, record_id: str) -> dict[str, Any]:
    with store.read() as db:
        return records.get(db, store.keyring, entity, record_id)


def new_assignee(world, t: Target) -> str:
    """Someone else of the family's team to give a follow-up to."""
    team = WHOSE[t.whose][0]
    others = ("prac_a1", "prac_a1b") if team == "A1" else ("prac_a2", "sup_a2")
    return next(world.users[n] for n in others if world.users[n] != t.record["assignee_id"])


# -- the actions: (targets, REST call, the ops a phone sends) -------------------------------
# REST: (client, headers, world, user, target) -> response; ops: (world, user, target) -> ops


def _family_targets(store, world):
    for whose in FAMILY_LEVEL:
        yield lambda whose=whose: Target(fresh_family(store, world, whose), whose, "active")


def _follow_up_targets(store, world):
    for whose in WHOSE:
        for state in ("open", "done"):
            yield lambda whose=whose, state=state: fresh_follow_up(store, world, whose, state)


def _flag_targets(store, world):
    for whose in FAMILY_LEVEL:
        for state in ("open", "decided", "closed"):
            yield lambda whose=whose, state=state: fresh_flag(store, world, whose, state)


def _allocation(store, world, t: Target) -> dict[str, Any]:
    with store.read() as db:
        return records.find(db, store.keyring, "allocation", "family_id = ?", [t.family_id])[0]


def _spare(world, t: Target) -> str:
    """A practitioner not yet allocated to the target's family."""
    return world.users["prac_a1" if WHOSE[t.whose][1] != "prac_a1" else "prac_a1b"]


def _assignee_for(world, user: str, t: Target, detail: str) -> str:
    if detail == "for themselves":
        return world.users[user]
    allocated = WHOSE[t.whose][1]
    return world.users[allocated if allocated != user else "prac_a1b"]


ACTIONS: dict[str, tuple[Callable, Callable, Callable]] = {
    "set a family field": (
        _family_targets,
        lambda c, h, w, u, t, s: c.patch(f"/api/v1/families/{t.family_id}", json={"notes": "Matrix"},
                                         headers={**h, **at(get(s, "family", t.family_id))}),
        lambda w, u, t, s: [set_op("family", get(s, "family", t.family_id), "notes", "Matrix")],
    ),
    "create a person": (
        _family_targets,
        lambda c, h, w, u, t, s: c.post(f"/api/v1/families/{t.family_id}/persons",
                                        json={"role": "father", "given_name": "Matrix"}, headers=h),
        lambda w, u, t, s: [create_op("person", t.family_id, {"role": "father", "given_name": "Matrix"})],
    ),
    "allocate a practitioner": (
        _family_targets,
        lambda c, h, w, u, t, s: c.post(f"/api/v1/families/{t.family_id}/allocations",
                                        json={"practitioner_id": _spare(w, t)}, headers=h),
        lambda w, u, t, s: [create_op("allocation", t.family_id, {"practitioner_id": _spare(w, t), "active": True})],
    ),
    "end an allocation": (
        _family_targets,
        lambda c, h, w, u, t, s: c.post(
            f"/api/v1/families/{t.family_id}/allocations/{_allocation(s, w, t)['practitioner_id']}/end",
            headers={**h, **at(_allocation(s, w, t))}),
        lambda w, u, t, s: [set_op("allocation", _allocation(s, w, t), "active", False)],
    ),
    "complete a follow-up": (
        _follow_up_targets,
        lambda c, h, w, u, t, s: c.post(f"/api/v1/follow-ups/{t.record['id']}/complete", json={"note": "Weighed"},
                                        headers={**h, **at(t.record)}),
        lambda w, u, t, s: [set_op("follow_up", t.record, "note", "Weighed"),
                            set_op("follow_up", t.record, "status", "done")],
    ),
    "reassign a follow-up": (
        _follow_up_targets,
        lambda c, h, w, u, t, s: c.post(f"/api/v1/follow-ups/{t.record['id']}/reassign",
                                        json={"assignee_id": new_assignee(w, t)},
                                        headers={**h, **at(t.record)}),
        lambda w, u, t, s: [set_op("follow_up", t.record, "assignee_id", new_assignee(w, t))],
    ),
    "acknowledge a flag": (
        _flag_targets,
        lambda c, h, w, u, t, s: c.post(f"/api/v1/flags/{t.record['id']}/acknowledge", headers={**h, **at(t.record)}),
        lambda w, u, t, s: [set_op("flag", t.record, "status", "acknowledged")],
    ),
    "decide on a flag": (
        _flag_targets,
        lambda c, h, w, u, t, s: c.post(f"/api/v1/flags/{t.record['id']}/decision",
                                        json={"decision": "Strategy meeting", "rationale": "Third time"},
                                        headers={**h, **at(t.record)}),
        lambda w, u, t, s: [set_op("flag", t.record, "decision", "Strategy meeting"),
                            set_op("flag", t.record, "rationale", "Third time"),
                            set_op("flag", t.record, "status", "closed")],
    ),
    "close a flag": (
        _flag_targets,
        lambda c, h, w, u, t, s: c.post(f"/api/v1/flags/{t.record['id']}/close", headers={**h, **at(t.record)}),
        lambda w, u, t, s: [set_op("flag", t.record, "status", "closed")],
    ),
}
for _detail in ("for themselves", "for a colleague"):
    ACTIONS[f"create a follow-up {_detail}"] = (
        _family_targets,
        lambda c, h, w, u, t, s, d=_detail: c.post("/api/v1/follow-ups", headers=h, json={
            "family_id": t.family_id, "text": "Call back", "due_date": "2030-01-01",
            "assignee_id": _assignee_for(w, u, t, d)}),
        lambda w, u, t, s, d=_detail: [create_op("follow_up", t.family_id, {
            "assignee_id": _assignee_for(w, u, t, d), "due_at": "2030-01-01T23:59:00.000Z", "text": "Call back"})],
    )

# What the issue says outright, checked as well as agreement (so agreeing on "refused
# everywhere" cannot pass): (action, role, whose, state) -> answer.
MUST = {
    ("set a family field", "supervisor", "colleague", "active"): "applied",
    ("set a family field", "practitioner", "own", "active"): "refused",
    ("create a person", "practitioner", "own", "active"): "refused",
    ("create a person", "admin", "other team", "active"): "applied",
    ("end an allocation", "supervisor", "own", "active"): "applied",
    ("end an allocation", "supervisor", "other team", "active"): "out of reach",
    ("complete a follow-up", "practitioner", "own", "open"): "applied",
    ("complete a follow-up", "practitioner", "colleague here", "open"): "refused",
    ("complete a follow-up", "practitioner", "colleague", "open"): "out of reach",
    ("complete a follow-up", "supervisor", "colleague", "done"): "refused",
    ("reassign a follow-up", "practitioner", "own", "open"): "refused",
    ("reassign a follow-up", "supervisor", "colleague here", "open"): "applied",
    ("reassign a follow-up", "admin", "other team", "open"): "applied",
    ("create a follow-up for themselves", "practitioner", "own", "active"): "applied",
    ("create a follow-up for a colleague", "practitioner", "own", "active"): "refused",
    ("acknowledge a flag", "practitioner", "own", "open"): "refused",
    ("acknowledge a flag", "supervisor", "own", "open"): "applied",
    ("decide on a flag", "supervisor", "own", "open"): "applied",
    ("decide on a flag", "supervisor", "own", "closed"): "refused",
    ("decide on a flag", "practitioner", "own", "open"): "refused",
    ("close a flag", "supervisor", "own", "open"): "refused",  # no decision yet
    ("close a flag", "supervisor", "colleague", "decided"): "applied",
    ("close a flag", "admin", "other team", "decided"): "applied",
}


def rest_answer(r) -> str:
    if r.status_code in (200, 201):
        return "applied"
    if r.status_code == 404:
        return "out of reach"
    assert r.status_code in (403, 409, 422), (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    return "refused"


def sync_answer(results: list[dict[str, Any]]) -> str:
    statuses = {r["status"] for r in results}
    if "held" in statuses:
        return "out of reach"
    if "rejected" in statuses:
        return "refused"
    assert statuses == {"applied"}, results
    return "applied"


@pytest.fixture
def world(store):
    return build_world(store)


@pytest.mark.parametrize("action", ACTIONS)
def test_every_write_gets_the_same_answer_through_rest_and_through_sync(client, store, world, action):
    targets, rest, ops = ACTIONS[action]
    seen, disagree, broken = set(), [], []
    rejected = 0
    for role, user in ROLES.items():
        phone = Phone(client, user)  # its session also signs the REST calls
        for make in targets(store, world):
            by_rest, by_sync = make(), make()
            r = rest(client, phone.headers, world, user, by_rest, store)
            sent = [phone.model._queue(op) for op in ops(world, user, by_sync, store)]
            results = phone.push(sent)["results"]
            rejected += sum(x["status"] == "rejected" for x in results)
            answers = (rest_answer(r), sync_answer(results))
            key = (action, role, by_rest.whose, by_rest.state)
            seen.add(answers[0])
            if answers[0] != answers[1]:
                disagree.append(f"{key}: REST {answers[0]} ({r.status_code}), sync {answers[1]}")
            if key in MUST and MUST[key] != answers[0]:
                broken.append(f"{key}: expected {MUST[key]}, REST {answers[0]} ({r.status_code})")
    assert disagree == [], "\n".join(disagree)
    assert broken == [], "\n".join(broken)
    assert "applied" in seen and len(seen) > 1, seen  # the matrix is never all one answer
    with store.read() as db:  # a REST refusal is answered, never quarantined: only the phones' are
        assert db.execute("SELECT COUNT(*) FROM sync_quarantine").fetchone()[0] == rejected


# -- the bypasses ---------------------------------------------------------------------------


def family_records(store, family_id: str) -> dict[str, list[dict[str, Any]]]:
    with store.read() as db:
        return {e: records.find(db, store.keyring, e, "family_id = ?", [family_id], include_deleted=True)
                for e in records.ENTITIES}


def refused(phone: Phone, ops: list[dict[str, Any]]) -> list[str]:
    results = phone.push([phone.model._queue(op) for op in ops])["results"]
    assert [r["status"] for r in results] == ["rejected"] * len(ops), results
    return [r["reason"] for r in results]


def test_a_practitioner_cannot_delete_or_rewrite_a_flag_raised_on_a_signed_visit(client, store, world):
    t = fresh_flag(store, world, "own", "open")
    before = family_records(store, t.family_id)
    phone = Phone(client, "prac_a1")
    refused(phone, [
        {"type": "delete", "entity": "flag", "entity_id": t.record["id"], "family_id": t.family_id},
        set_op("flag", t.record, "severity", "routine"),
        set_op("flag", t.record, "reason", "Nothing to see"),
        set_op("flag", t.record, "status", "closed"),
    ])
    assert family_records(store, t.family_id) == before
    sup = Phone(client, "sup_a1")
    listed = client.get("/api/v1/flags", headers=sup.headers).json()
    assert any(f["id"] == t.record["id"] and f["severity"] == "urgent" for f in listed)


def test_a_practitioner_cannot_take_over_or_finish_a_colleagues_follow_up(client, store, world):
    t = fresh_follow_up(store, world, "colleague here", "open")  # in prac_a1's family, for prac_a1b
    before = family_records(store, t.family_id)
    refused(Phone(client, "prac_a1"), [
        set_op("follow_up", t.record, "assignee_id", world.users["prac_a1"]),
        set_op("follow_up", t.record, "due_at", "2031-01-01T23:59:00.000Z"),
        set_op("follow_up", t.record, "status", "done"),
        set_op("follow_up", t.record, "status", "cancelled"),
        create_op("follow_up", t.family_id, {"assignee_id": world.users["prac_a1b"], "text": "Yours now",
                                             "due_at": "2030-01-01T23:59:00.000Z"}),
    ])
    assert family_records(store, t.family_id) == before


def test_a_practitioner_cannot_create_or_delete_people_or_set_a_childs_nhs_number(client, store, world):
    fid, child = world.families["own"], world.persons["own"]
    before = family_records(store, fid)
    with store.read() as db:
        index = db.execute("SELECT nhs_number_index FROM persons WHERE id = ?", [child]).fetchone()[0]
    refused(Phone(client, "prac_a1"), [
        create_op("person", fid, {"role": "child", "given_name": "Invented"}),
        create_op("person", fid, {"role": "male-carer", "given_name": "Invented"}),
        {"type": "delete", "entity": "person", "entity_id": child, "family_id": fid},
        set_op("person", get(store, "person", child), "nhs_number", "9990000018"),
        set_op("person", get(store, "person", child), "protection_plan", True),
    ])
    assert family_records(store, fid) == before
    with store.read() as db:
        assert db.execute("SELECT nhs_number_index FROM persons WHERE id = ?", [child]).fetchone()[0] == index


def test_a_practitioner_cannot_resolve_a_conflict_on_a_family_field(client, store, world):
    fid = world.families["own"]
    sup, admin = Phone(client, "sup_a1"), Phone(client, "admin_a")
    assert client.patch(f"/api/v1/families/{fid}", json={"notes": "Supervisor's"},
                        headers={**sup.headers, "If-Match": '"1"'}).status_code == 200
    stale = client.patch(f"/api/v1/families/{fid}", json={"notes": "Admin's"},
                         headers={**admin.headers, "If-Match": '"1"'})
    assert stale.status_code == 409
    conflict_id = stale.json()["conflicts"][0]["conflict_id"]
    before = family_records(store, fid)
    refused(Phone(client, "prac_a1"), [{"type": "resolve", "conflict_id": conflict_id, "value": "Mine"}])
    assert family_records(store, fid) == before
    with store.read() as db:
        assert records.get(db, store.keyring, "conflict", conflict_id)["status"] == "open"


def test_a_visit_is_never_created_signed_in_someone_elses_name_nor_signed_by_the_phone(client, store, world):
    fid = world.families["own"]
    backdated = {"type": "targeted", "status": "completed", "completed_at": "2020-01-01T10:00:00.000Z",
                 "signed_by": world.users["sup_a1"], "present": []}
    phone = Phone(client, "prac_a1")
    before = family_records(store, fid)
    refused(phone, [create_op("visit", fid, {**backdated, "practitioner_id": world.users["prac_a1b"]})])
    assert family_records(store, fid) == before
    # In one's own name the visit is kept, but who signed it and when are the server's to say.
    op = phone.model._queue(create_op("visit", fid, {**backdated, "practitioner_id": world.users["prac_a1"]}))
    sent_at = now_iso()
    assert phone.push([op])["results"][0]["status"] == "applied"
    visit = get(store, "visit", op["entity_id"])
    assert visit["signed_by"] == world.users["prac_a1"] and visit["completed_at"] >= sent_at
