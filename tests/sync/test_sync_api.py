"""Push, pull and quarantine through the HTTP API (app in-process, real SQLite file)."""

from __future__ import annotations

import hashlib

import pytest

from server.clock import now_iso
from server.ids import new_id, stable_id
from server.storage import records
from server.storage.records import Actor
from sync import hooks, merge
from tests.factories import auth, build_world, login

from tests.sync.device import Phone

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"


@pytest.fixture
def world(store):
    return build_world(store)


def snapshot_db(store) -> str:
    db = store.connect()
    h = hashlib.sha256()
    for table in ("persons", "families", "visits", "observations", "conflicts", "change_log", "follow_ups"):
        for row in db.query(f"SELECT * FROM {table} ORDER BY rowid"):
            h.update(repr(sorted(row.items())).encode())
    return h.hexdigest()


def test_push_applies_then_a_replay_changes_nothing(client, store, world):
    phone = Phone(client, "prac_a1")
    phone.pull_all()
    fam, child = world.families["own"], world.persons["own"]
    phone.model.set("person", child, fam, "language", "Welsh")
    phone.model.create("observation", fam, {"kind": "fact", "text": "Slept well", "about_person_id": child})
    sent = list(phone.model.outbox)
    first = phone.push()
    assert [r["status"] for r in first["results"]] == ["applied", "applied"]
    assert first["last_client_seq"] == 2
    before = snapshot_db(store)
    again = phone.push(sent)
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert [r["version"] for r in again["results"]] == [r["version"] for r in first["results"]]
    assert snapshot_db(store) == before
    with store.read() as db:
        assert records.get(db, store.keyring, "person", child)["language"] == "Welsh"
        device = next(db.query("SELECT last_sync_at FROM devices WHERE id = ?", [phone.model.device_id]))
        assert device["last_sync_at"] is not None


def test_a_gap_in_client_seq_is_refused_and_nothing_is_applied(client, store, world):
    phone = Phone(client, "prac_a1")
    fam, child = world.families["own"], world.persons["own"]
    phone.model.set("person", child, fam, "language", "Welsh")
    phone.model.set("person", child, fam, "sex", "female")
    ops = phone.model.outbox
    r = client.post(PUSH, json={"ops": [ops[1]]}, headers=phone.headers)
    assert r.status_code == 409
    problem = r.json()
    assert problem["type"] == "urn:hearthside:problem:client-seq-gap"
    assert problem["expected"] == 1
    with store.read() as db:
        assert records.get(db, store.keyring, "person", child)["sex"] is None
    assert [x["status"] for x in phone.push()["results"]] == ["applied", "applied"]


def test_two_different_writes_to_one_field_keep_both_and_show_the_newest(client, store, world):
    a, b = Phone(client, "prac_a1"), Phone(client, "prac_a1")
    fam, child = world.families["own"], world.persons["own"]
    a.pull_all()
    b.pull_all()
    a.model.set("person", child, fam, "language", "Welsh")
    b.model.set("person", child, fam, "language", "Polish")  # later clock: the provisional value
    assert a.push()["results"][0]["status"] == "applied"
    result = b.push()["results"][0]
    assert result["status"] == "conflict" and result["conflict_id"]
    b.pull_all()
    (conflict,) = b.model.conflicts
    assert conflict["field"] == "language" and conflict["provisional"] == "Polish"
    assert {c["value"] for c in conflict["candidates"]} == {"Welsh", "Polish"}
    assert {c["device_id"] for c in conflict["candidates"]} == {a.model.device_id, b.model.device_id}
    assert {c["user_name"] for c in conflict["candidates"]} == {"prac_a1"}  # who, by name, for the decider
    with store.read() as db:
        assert records.get(db, store.keyring, "person", child)["language"] == "Polish"
    # A person decides; the resolution syncs like any other change.
    a.model.resolve(conflict["id"], "Welsh")
    assert a.push()["results"][0]["status"] == "applied"
    b.pull_all()
    assert b.model.conflicts == []
    assert b.model.values("person", child)["language"] == "Welsh"


def test_when_a_visit_started_is_settled_by_rule_the_earliest_and_asks_nobody(client, store, world):
    fam = world.families["own"]
    a, b = Phone(client, "prac_a1"), Phone(client, "prac_a1")
    visit = a.model.create("visit", fam, {"type": "targeted", "status": "planned"})["entity_id"]
    a.push()
    b.pull_all()
    a.model.set("visit", visit, fam, "started_at", "2026-03-02T10:05:00Z")
    b.model.set("visit", visit, fam, "started_at", "2026-03-02T10:01:30.500+00:00")  # earlier, other notation
    assert a.push()["results"][0]["status"] == "applied"
    result = b.push()["results"][0]
    assert result["status"] == "applied" and "earliest" in result["reason"]
    a.model.set("visit", visit, fam, "started_at", "2026-03-02T10:09:00Z")  # a stale later one loses again
    assert "earliest" in a.push()["results"][0]["reason"]
    for p in (a, b):
        p.pull_all()
        assert p.model.conflicts == []
        assert p.model.values("visit", visit)["started_at"] == "2026-03-02T10:01:30.500+00:00"
    with store.read() as db:
        assert records.find(db, store.keyring, "conflict", "entity_id = ?", [visit]) == []


def test_edits_to_different_fields_never_conflict(client, world):
    a, b = Phone(client, "prac_a1"), Phone(client, "prac_a1")
    fam, child = world.families["own"], world.persons["own"]
    a.pull_all()
    b.pull_all()
    a.model.set("person", child, fam, "language", "Welsh")
    b.model.set("person", child, fam, "ethnicity", "Any other")
    assert a.push()["results"][0]["status"] == "applied"
    assert b.push()["results"][0]["status"] == "applied"


def test_the_same_value_twice_is_a_no_op(client, world):
    a, b = Phone(client, "prac_a1"), Phone(client, "prac_a1")
    fam, child = world.families["own"], world.persons["own"]
    a.model.set("person", child, fam, "language", "Welsh")
    b.model.set("person", child, fam, "language", "Welsh")
    first = a.push()["results"][0]
    second = b.push()["results"][0]
    assert second["status"] == "applied" and second["version"] == first["version"]


def _follow_up(store, world) -> str:
    fid = new_id()
    with store.write() as db:
        records.insert(db, store.keyring, "follow_up", {
            "id": fid, "agency_id": world.agencies["A"], "family_id": world.families["own"],
            "due_at": now_iso(), "text": "Weigh baby", "status": "open", "assignee_id": world.users["prac_a1"]})
    return fid


def test_follow_up_status_only_moves_forward(client, store, world):
    fu = _follow_up(store, world)
    fam = world.families["own"]
    a, b = Phone(client, "prac_a1"), Phone(client, "prac_a1")
    a.pull_all()
    b.pull_all()
    a.model.set("follow_up", fu, fam, "status", "done")
    assert a.push()["results"][0]["status"] == "applied"
    b.model.set("follow_up", fu, fam, "status", "open")
    result = b.push()["results"][0]
    assert result["status"] == "applied" and result["reason"] == "superseded" and result["value"] == "done"
    b.model.set("follow_up", fu, fam, "status", "cancelled")
    assert b.push()["results"][0]["status"] == "conflict"


def test_a_signed_visit_is_never_edited_and_the_edit_is_quarantined(client, store, world):
    fam = world.families["own"]
    phone = Phone(client, "prac_a1")
    visit = phone.model.create("visit", fam, {"type": "targeted", "status": "in-progress"})["entity_id"]
    phone.model.set("visit", visit, fam, "status", "completed")
    phone.model.set("visit", visit, fam, "completed_at", now_iso())  # signing fields may follow
    phone.model.set("visit", visit, fam, "signed_by", world.users["prac_a1"])
    phone.model.set("visit", visit, fam, "summary", "changed after signing")
    phone.model.create("addendum", fam, {"visit_id": visit, "text": "Correction: weight was 4.2 kg"})
    statuses = [r["status"] for r in phone.push()["results"]]
    assert statuses == ["applied", "applied", "applied", "applied", "rejected", "applied"]
    with store.read() as db:
        assert records.get(db, store.keyring, "visit", visit)["summary"] is None
    admin = auth(login(client, "admin_a"))
    quarantined = client.get("/api/v1/sync/quarantine", headers=admin).json()
    assert [q["reason"] for q in quarantined] == ["the visit is signed: add an addendum instead"]
    assert quarantined[0]["op"]["value"] == "changed after signing"
    assert client.get("/api/v1/sync/quarantine", headers=phone.headers).status_code == 403
    other_admin = auth(login(client, "admin_b"))
    assert client.get("/api/v1/sync/quarantine", headers=other_admin).json() == []


def test_refused_ops_are_listed_newest_first(client, store, world):
    phone = Phone(client, "prac_a1")
    fam, child = world.families["own"], world.persons["own"]
    for name in ("first", "second", "third"):
        phone.model.set("person", child, fam, name, "x")
    assert [r["status"] for r in phone.push()["results"]] == ["rejected"] * 3
    phone.model.set("person", child, fam, "fourth", "x")
    phone.push()
    quarantined = client.get("/api/v1/sync/quarantine", headers=auth(login(client, "admin_a"))).json()
    assert [q["op"]["field"] for q in quarantined] == ["fourth", "third", "second", "first"]


def test_ops_on_families_out_of_reach_are_held_or_refused_never_errors_and_do_not_block_later_ops(client, store, world):
    phone = Phone(client, "prac_a1")
    own, child = world.families["own"], world.persons["own"]
    for key in ("other_prac", "other_team", "other_agency"):
        phone.model.set("person", world.persons[key], world.families[key], "language", "Welsh")
    phone.model.create("observation", world.families["other_agency"], {"kind": "fact", "text": "x"})
    phone.model.set("person", child, own, "language", "Welsh")
    results = phone.push()["results"]
    # Same agency, not allocated now: held (applied if access returns). Another agency's
    # family does not exist for this writer: refused, quarantined.
    assert [r["status"] for r in results] == ["held", "held", "rejected", "rejected", "applied"]
    with store.read() as db:
        for key in ("other_prac", "other_team", "other_agency"):
            assert records.get(db, store.keyring, "person", world.persons[key])["language"] is None
        assert db.execute("SELECT count(*) FROM sync_quarantine").fetchone()[0] == 2
        assert db.execute("SELECT count(*) FROM sync_held WHERE status = 'held'").fetchone()[0] == 2


def test_a_malformed_op_is_quarantined_and_the_ops_behind_it_apply(client, world):
    phone = Phone(client, "prac_a1")
    fam, child = world.families["own"], world.persons["own"]
    bad = {"type": "set", "op_id": new_id(), "client_seq": 1, "entity": "person", "hlc": "nonsense"}
    phone.model.seq = 1
    phone.model.set("person", child, fam, "language", "Welsh")
    r = client.post(PUSH, json={"ops": [bad, *phone.model.outbox]}, headers=phone.headers)
    assert r.status_code == 200
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "applied"]
    unreadable = client.post(PUSH, json={"ops": [{"type": "set"}]}, headers=phone.headers)
    assert unreadable.status_code == 422
    assert unreadable.json()["errors"][0]["field"] == "body.ops[0]"


def test_pull_shows_only_the_users_families_and_pages_exactly_once(client, store, world):
    writer = Phone(client, "sup_a1")
    for key in ("own", "other_prac"):
        for i in range(7):
            writer.model.set("family", world.families[key], world.families[key], "notes", f"note {i}")
    writer.push()
    phone = Phone(client, "prac_a1")
    everything = [c for p in phone.pull_all(limit=1000) for c in p["changes"]]
    assert {c["family_id"] for c in everything} == {world.families["own"]}
    for limit in (1, 2, 5):
        pager = Phone(client, "prac_a1")
        # A backfill (when a page passes the user's allocation) may repeat records; the
        # log's own changes come exactly once.
        paged = [c["seq"] for p in pager.pull_all(limit=limit) for c in p["changes"] if not c["backfill"]]
        assert paged == [c["seq"] for c in everything]
    assert phone.model.values("family", world.families["own"])["notes"] == "note 6"


def test_a_family_leaving_the_caseload_is_purged_and_one_joining_is_backfilled(client, world):
    phone = Phone(client, "prac_a1")
    phone.pull_all()
    sup = auth(login(client, "sup_a1"))
    own, other = world.families["own"], world.families["other_prac"]
    r = client.post(f"/api/v1/families/{own}/allocations/{world.users['prac_a1']}/end",
                    headers={**sup, "If-Match": '"1"'})
    assert r.status_code == 200
    r = client.post(f"/api/v1/families/{other}/allocations", json={"practitioner_id": world.users["prac_a1"]},
                    headers=sup)
    assert r.status_code == 201, r.text
    pages = phone.pull_all()
    instructions = [i for p in pages for i in p["instructions"]]
    assert {"type": "purge", "family_id": own} in instructions
    assert {"type": "backfill", "family_id": other} in instructions
    assert phone.model.values("person", world.persons["other_prac"])["given_name"] == "Childother_prac"
    assert ("person", world.persons["own"]) not in phone.model.confirmed
    # Later changes to the purged family no longer reach the phone.
    writer = Phone(client, "sup_a1")
    writer.model.set("family", own, own, "notes", "after the end")
    writer.push()
    assert all(c["family_id"] != own for p in phone.pull_all() for c in p["changes"])


def test_a_revoked_device_uploads_what_it_holds_for_review_before_it_is_told_to_wipe(client, store, world):
    phone = Phone(client, "prac_a1")
    fam = world.families["own"]
    phone.model.create("observation", fam, {"kind": "fact", "text": "Recorded offline"})
    # As main's revoke_device does: the device is marked revoked and its tokens stay, so
    # only the sync handlers (allow_revoked_device) still answer it.
    with store.write() as db:
        db.execute("UPDATE devices SET revoked_at = ? WHERE id = ?", [now_iso(), phone.model.device_id])
    assert client.get("/api/v1/families", headers=phone.headers).status_code == 401
    first = client.get(PULL, params={"cursor": 0, "holding_seq": 1}, headers=phone.headers).json()
    assert first["instructions"] == [{"type": "upload", "last_client_seq": 0}]
    assert first["changes"] == []
    pushed = phone.push()
    assert pushed["device_revoked"] is True and pushed["results"][0]["status"] == "held"
    no_claim = client.get(PULL, params={"cursor": 0}, headers=phone.headers).json()
    assert no_claim["instructions"][0]["type"] == "upload"
    wipe = client.get(PULL, params={"cursor": 0, "holding_seq": 1}, headers=phone.headers)
    assert wipe.json()["instructions"] == [{"type": "wipe"}] and wipe.json()["changes"] == []
    with store.read() as db:
        assert records.find(db, store.keyring, "observation", "family_id = ?", [fam]) == []


def _integration_client(store, world) -> str:
    cid = new_id()
    with store.write() as db:
        db["integration_clients"].insert({"id": cid, "agency_id": world.agencies["A"], "name": "RiO",
                                          "token_hash": new_id(), "scopes": "[]", "created_at": now_iso()})
    return cid


def test_agency_write_back_goes_through_the_same_merge(client, store, world):
    cid = _integration_client(store, world)
    fam, child = world.families["own"], world.persons["own"]
    actor = Actor(client_id=cid)
    with store.write() as db:
        fv = records.get(db, store.keyring, "person", child)["field_meta"]["given_name"]["v"]
        (ok,) = merge.apply_ops(db, store.keyring, actor, [merge.make_set("person", child, fam, "given_name", "Ada", fv)])
        (stale,) = merge.apply_ops(db, store.keyring, actor,
                                   [merge.make_set("person", child, fam, "nhs_number", "9990000018", 0)])
        (outside,) = merge.apply_ops(db, store.keyring, actor, [merge.make_set(
            "person", world.persons["other_agency"], world.families["other_agency"], "given_name", "X", 1)])
    assert ok.status == "applied" and stale.status == "applied"  # never-set field: base 0 matches
    assert outside.status == "rejected"
    phone = Phone(client, "prac_a1")
    phone.pull_all()
    phone.model.set("person", child, fam, "given_name", "Adah")
    with store.write() as db:
        (late,) = merge.apply_ops(db, store.keyring, actor, [merge.make_set("person", child, fam, "given_name", "Ada", 1)])
    assert late.status == "applied"  # same value: no-op
    assert phone.push()["results"][0]["status"] == "applied"
    with store.write() as db:
        (conflicting,) = merge.apply_ops(db, store.keyring, actor,
                                         [merge.make_set("person", child, fam, "given_name", "Ava", ok.version)])
    assert conflicting.status == "conflict"


def test_hooks_see_a_completed_visit_and_a_failing_hook_does_not_lose_the_push(client, store, world):
    seen: list[hooks.AppliedChange] = []

    def record_completion(db, keyring, actor, changes):
        seen.extend(c for c in changes if c.entity == "visit" and c.values.get("status") == "completed")

    def broken(db, keyring, actor, changes):
        db.execute("UPDATE visits SET summary = 'hook wrote this'")
        raise RuntimeError("boom")

    hooks.register_after_apply(broken)
    hooks.register_after_apply(record_completion)
    try:
        phone = Phone(client, "prac_a1")
        fam = world.families["own"]
        visit = phone.model.create("visit", fam, {"type": "targeted", "status": "in-progress"})["entity_id"]
        phone.model.set("visit", visit, fam, "status", "completed")
        assert [r["status"] for r in phone.push()["results"]] == ["applied", "applied"]
    finally:
        hooks.after_apply.remove(broken)
        hooks.after_apply.remove(record_completion)
    assert [c.entity_id for c in seen] == [visit]
    with store.read() as db:
        assert records.get(db, store.keyring, "visit", visit)["summary"] is None
        assert db.execute("SELECT count(*) FROM audit_events WHERE action = 'sync-hook-failed'").fetchone()[0] == 1


def test_creating_an_existing_id_merges_instead_of_overwriting(client, store, world):
    fam, child = world.families["own"], world.persons["own"]
    a, b = Phone(client, "prac_a1"), Phone(client, "prac_a1")
    visit = a.model.create("visit", fam, {"type": "targeted", "status": "in-progress"})["entity_id"]
    a.push()
    rid = stable_id(visit, "safe-sleep", child, "sleep-place-night")
    base = {"visit_id": visit, "checklist_id": "safe-sleep", "checklist_version": 1, "subject_id": child,
            "item_id": "sleep-place-night"}
    a.model.create("checklist_response", fam, {**base, "answer": "yes"}, entity_id=rid)
    b.model.create("checklist_response", fam, {**base, "answer": "no"}, entity_id=rid)
    assert a.push()["results"][0]["status"] == "applied"
    assert b.push()["results"][0]["status"] == "conflict"
    obs = a.model.create("observation", fam, {"kind": "fact", "text": "first"})
    a.push()
    b.model.create("observation", fam, {"kind": "fact", "text": "other"}, entity_id=obs["entity_id"])
    assert b.push()["results"][0]["status"] == "rejected"
    with store.read() as db:
        assert records.get(db, store.keyring, "observation", obs["entity_id"])["text"] == "first"


def test_a_deleted_record_never_comes_back(client, store, world):
    fam, child = world.families["own"], world.persons["own"]
    cid = _integration_client(store, world)
    phone = Phone(client, "prac_a1")
    phone.pull_all()
    with store.write() as db:
        (r,) = merge.apply_ops(db, store.keyring, Actor(client_id=cid), [merge.make_delete("person", child, fam)])
    assert r.status == "applied"
    phone.model.set("person", child, fam, "language", "Welsh")
    phone.model.create("person", fam, {"role": "child", "given_name": "Again"}, entity_id=child)
    assert [x["status"] for x in phone.push()["results"]] == ["rejected", "rejected"]
    phone.pull_all()
    assert ("person", child) in phone.model.deleted
    with store.read() as db:
        assert records.get(db, store.keyring, "person", child, include_deleted=True)["deleted"] is True


def test_bad_pull_parameters_get_a_clear_problem(client, world):
    phone = Phone(client, "prac_a1")
    for params in ({"cursor": -1}, {"limit": 0}, {"limit": 5000}, {"cursor": "x"}):
        r = client.get(PULL, params=params, headers=phone.headers)
        assert r.status_code == 400, params
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"][0]["field"].endswith("." + next(iter(params)))


def test_a_flag_is_closed_by_sync_only_by_a_supervisor_and_only_with_a_decision(client, store, world):
    fam, flag = world.families["own"], new_id()
    with store.write() as db:
        records.insert(db, store.keyring, "flag", {
            "id": flag, "agency_id": world.agencies["A"], "family_id": fam, "severity": "urgent",
            "reason": "Child not seen alone", "status": "open"})
    practitioner, supervisor = Phone(client, "prac_a1"), Phone(client, "sup_a1")
    practitioner.pull_all()
    supervisor.pull_all()
    practitioner.model.set("flag", flag, fam, "decision", "No further action")
    practitioner.model.set("flag", flag, fam, "status", "closed")
    assert [r["status"] for r in practitioner.push()["results"]] == ["rejected", "rejected"]

    supervisor.model.set("flag", flag, fam, "status", "closed")  # no decision recorded yet
    (refused,) = supervisor.push()["results"]
    assert refused["status"] == "rejected" and "decision" in refused["reason"]
    supervisor.model.set("flag", flag, fam, "decision", "Joint visit within 48 hours")
    supervisor.model.set("flag", flag, fam, "status", "closed")
    assert [r["status"] for r in supervisor.push()["results"]] == ["applied", "applied"]
    with store.read() as db:
        saved = records.get(db, store.keyring, "flag", flag)
    assert saved["status"] == "closed" and saved["decision"] == "Joint visit within 48 hours"
