"""What a phone is told about its ops: a replay repeats the first answer whole, and a
conflict closes by itself when every writer comes to agree (app in-process, real SQLite)."""

from __future__ import annotations

import pytest

from server.access import Principal
from server.clock import now_iso
from server.ids import new_id
from server.storage import records
from server.storage.records import Actor
from sync import merge
from tests.factories import build_world
from tests.sync.device import Phone

ANSWER = ("status", "version", "field_version", "conflict_id", "reason", "value")


@pytest.fixture
def world(store):
    return build_world(store)


def _follow_up(store, world) -> str:
    fid = new_id()
    with store.write() as db:
        records.insert(db, store.keyring, "follow_up", {
            "id": fid, "agency_id": world.agencies["A"], "family_id": world.families["own"],
            "due_at": now_iso(), "text": "Weigh baby", "status": "open", "assignee_id": world.users["prac_a1"]})
    return fid


def _principal(store, world, username: str) -> Principal:
    with store.read() as db:
        u = next(db.query("SELECT * FROM users WHERE id = ?", [world.users[username]]))
    return Principal(user_id=u["id"], username=u["username"], display_name=u["display_name"], role=u["role"],
                     agency_id=u["agency_id"], team_id=u["team_id"], device_id="")


def _conflict(store, conflict_id: str) -> dict:
    with store.read() as db:
        return records.get(db, store.keyring, "conflict", conflict_id)


def test_a_duplicate_repeats_the_first_answer_whole(client, store, world):
    fam, child, fu = world.families["own"], world.persons["own"], _follow_up(store, world)
    other, other_child = world.families["other_prac"], world.persons["other_prac"]
    a, b = Phone(client, "prac_a1"), Phone(client, "prac_a1")
    a.pull_all()
    b.pull_all()
    a.model.set("person", child, fam, "language", "Welsh")
    a.model.set("follow_up", fu, fam, "status", "done")
    a.push()
    ops = [
        b.model.set("person", child, fam, "given_name", "Cai"),             # applied
        b.model.set("person", child, fam, "language", "Polish"),            # conflict: provisional is b's
        b.model.set("follow_up", fu, fam, "status", "open"),                # superseded: told the value
        b.model.set("person", child, fam, "sex", "sometimes"),              # rejected: not a choice
        b.model.set("person", other_child, other, "language", "Welsh"),     # held: not allocated now
    ]
    first = {r["op_id"]: r for r in b.push()["results"]}
    assert [first[o["op_id"]]["status"] for o in ops] == ["applied", "conflict", "applied", "rejected", "held"]
    assert first[ops[2]["op_id"]]["value"] == "done" and first[ops[2]["op_id"]]["reason"] == "superseded"
    assert "sex" in first[ops[3]["op_id"]]["reason"]
    assert first[ops[1]["op_id"]]["conflict_id"]

    # The reply was lost: the phone sends the same ops again and learns everything it missed.
    again = {r["op_id"]: r for r in b.push(ops)["results"]}
    for op in ops:
        r, f = again[op["op_id"]], first[op["op_id"]]
        assert r["status"] == "duplicate" and r["first_status"] == f["status"]
        for key in ANSWER[1:]:
            assert r.get(key) == f.get(key), (f["status"], key)

    # The held op is applied once access returns; a later replay says so.
    sup = Phone(client, "sup_a1")
    sup.model.create("allocation", other, {"practitioner_id": world.users["prac_a1"]})
    assert sup.push()["results"][0]["status"] == "applied"
    (late,) = b.push([ops[4]])["results"]
    assert late["status"] == "duplicate" and late["first_status"] == "applied"
    with store.read() as db:
        assert records.get(db, store.keyring, "person", other_child)["language"] == "Welsh"


def test_a_conflict_closes_when_the_first_writer_comes_round_to_the_other_value(client, store, world):
    fam, child = world.families["own"], world.persons["own"]
    a, b = Phone(client, "prac_a1"), Phone(client, "prac_a1")
    a.pull_all()
    b.pull_all()
    a.model.set("person", child, fam, "language", "Welsh")
    assert a.push()["results"][0]["status"] == "applied"  # stored: a's candidate has no op of b's
    b.model.set("person", child, fam, "language", "Polish")
    opened = b.push()["results"][0]
    assert opened["status"] == "conflict"
    assert [c["value"] for c in _conflict(store, opened["conflict_id"])["candidates"]] == ["Welsh", "Polish"]
    # a's later value replaces the candidate stored from its first write.
    a.model.set("person", child, fam, "language", "Polish")
    closed = a.push()["results"][0]
    assert closed["status"] == "applied" and closed["conflict_id"] == opened["conflict_id"]
    assert closed["reason"] == "the competing writers now agree"
    conflict = _conflict(store, opened["conflict_id"])
    assert conflict["status"] == "resolved" and conflict["resolution"]["agreed"] is True
    assert conflict["resolution"]["value"] == "Polish"
    with store.read() as db:
        assert records.get(db, store.keyring, "person", child)["language"] == "Polish"
    for phone in (a, b):
        phone.pull_all()
        assert phone.model.conflicts == []
        assert phone.model.values("person", child)["language"] == "Polish"


def test_a_conflict_of_three_writers_across_channels_closes_only_when_all_agree(client, store, world):
    fam, child = world.families["own"], world.persons["own"]
    a, b = Phone(client, "prac_a1"), Phone(client, "prac_a1")
    sup = _principal(store, world, "sup_a1")
    a.pull_all()
    b.pull_all()
    a.model.set("person", child, fam, "language", "Welsh")
    b.model.set("person", child, fam, "language", "Polish")
    a.push()
    conflict_id = b.push()["results"][0]["conflict_id"]
    assert conflict_id

    def supervisor_sets(value: str) -> merge.OpResult:
        with store.write() as db:
            fv = records.get(db, store.keyring, "person", child)["field_meta"]["language"]["v"]
            (r,) = merge.apply_ops(db, store.keyring, Actor(user_id=sup.user_id),
                                   [merge.make_set("person", child, fam, "language", value, fv)], principal=sup)
        return r

    # A REST writer joins the open conflict (even on the current version), it does not end it.
    joined = supervisor_sets("Urdu")
    assert joined.status == "conflict" and joined.conflict_id == conflict_id
    assert sorted(c["value"] for c in _conflict(store, conflict_id)["candidates"]) == ["Polish", "Urdu", "Welsh"]
    a.model.set("person", child, fam, "language", "Urdu")
    assert a.push()["results"][0]["status"] == "conflict"  # b still says Polish
    assert _conflict(store, conflict_id)["status"] == "open"
    b.model.set("person", child, fam, "language", "Urdu")
    closed = b.push()["results"][0]
    assert closed["status"] == "applied" and closed["reason"] == "the competing writers now agree"
    conflict = _conflict(store, conflict_id)
    assert conflict["status"] == "resolved" and conflict["resolution"]["value"] == "Urdu"
    assert len(conflict["candidates"]) == 3  # one per writer: each later value replaced its own
    with store.read() as db:
        assert records.get(db, store.keyring, "person", child)["language"] == "Urdu"
    # Agreed is settled: the same value again is a no-op, not a new conflict.
    again = supervisor_sets("Urdu")
    assert again.status == "applied" and again.conflict_id is None
