"""Examples the sync state machine found, kept as plain tests (app in-process, real SQLite)."""

from __future__ import annotations

import pytest

from server.access import Principal
from server.storage import records
from server.storage.records import Actor
from sync import merge
from tests.factories import build_world
from tests.sync.device import Phone


@pytest.fixture
def world(store):
    return build_world(store)


def _supervisor(store, world) -> Principal:
    with store.read() as db:
        u = next(db.query("SELECT * FROM users WHERE id = ?", [world.users["sup_a1"]]))
    return Principal(user_id=u["id"], username=u["username"], display_name=u["display_name"], role=u["role"],
                     agency_id=u["agency_id"], team_id=u["team_id"], device_id="")


def _as_supervisor(store, world, op) -> dict:
    sup = _supervisor(store, world)
    with store.write() as db:
        (r,) = merge.apply_ops(db, store.keyring, Actor(user_id=sup.user_id), [op], principal=sup)
    return r


def _answer(store, rid):
    with store.read() as db:
        return records.get(db, store.keyring, "checklist_response", rid)


def test_a_typed_answer_replacing_one_python_calls_equal_is_stored_and_reaches_every_phone(client, store, world):
    fam, child = world.families["own"], world.persons["own"]
    a, b = Phone(client, "prac_a1"), Phone(client, "prac_a1")
    visit = a.model.create("visit", fam, {"type": "targeted", "status": "in-progress"})["entity_id"]
    rid = a.model.create("checklist_response", fam, {
        "visit_id": visit, "checklist_id": "safe-sleep", "checklist_version": 1, "subject_id": child,
        "item_id": "sleep-place-night", "answer": 1})["entity_id"]
    a.push()
    a.model.set("checklist_response", rid, fam, "answer", True)  # the phone's own next edit
    assert [r["status"] for r in a.push()["results"]] == ["applied"]
    stored = _answer(store, rid)
    assert stored["answer"] is True
    r = _as_supervisor(store, world, merge.make_set("checklist_response", rid, fam, "answer", 1.0,
                                                    stored["field_meta"]["answer"]["v"]))
    assert r.status == "applied" and r.field_version == r.version == stored["version"] + 1
    answer = _answer(store, rid)["answer"]
    assert isinstance(answer, float) and answer == 1.0
    b.pull_all()
    a.pull_all()
    for phone in (a, b):
        held = phone.model.values("checklist_response", rid)["answer"]
        assert isinstance(held, float) and held == 1.0


def test_an_entry_on_a_visit_recorded_out_of_reach_is_kept_as_such_and_the_visit_follows_when_access_returns(
        client, store, world):
    fam = world.families["own"]
    phone = Phone(client, "prac_a1")
    phone.pull_all()
    with store.read() as db:
        alloc = records.find(db, store.keyring, "allocation", "family_id = ? AND practitioner_id = ?",
                             [fam, world.users["prac_a1"]])[0]
    version = alloc["field_meta"]["active"]["v"]
    ended = _as_supervisor(store, world, merge.make_set("allocation", alloc["id"], fam, "active", False, version))
    assert ended.status == "applied"
    # Offline meanwhile, the practitioner starts a visit and records on it.
    visit = phone.model.create("visit", fam, {"type": "targeted", "status": "in-progress"})["entity_id"]
    obs = phone.model.create("observation", fam, {"kind": "child-words", "text": "“I like it here”",
                                                  "visit_id": visit})["entity_id"]
    results = phone.push()["results"]
    assert [r["status"] for r in results] == ["held", "applied"]
    assert results[1]["reason"] == "kept: recorded-out-of-reach"  # not "visit-deleted": it was never deleted
    with store.read() as db:
        assert records.get(db, store.keyring, "visit", visit) is None
        assert records.get(db, store.keyring, "observation", obs)["attention"] == "recorded-out-of-reach"
    back = _as_supervisor(store, world, merge.make_set("allocation", alloc["id"], fam, "active", True,
                                                       ended.field_version))
    assert back.status == "applied"
    with store.read() as db:
        assert records.get(db, store.keyring, "visit", visit)["practitioner_id"] == world.users["prac_a1"]
        assert records.get(db, store.keyring, "observation", obs)["visit_id"] == visit
