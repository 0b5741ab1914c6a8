"""Storage's errors as the merge answers them: a rule of the database the model did not
foresee refuses that op (never a 5xx) and the batch goes on; a database that cannot take
the write fails the whole batch, so nothing of it is half-kept. The refusals are real
ones, raised by SQLite triggers that the model knows nothing of."""

from __future__ import annotations

import pytest

from server.ids import new_id
from server.storage import records
from server.storage.tx import Busy
from server.storage.records import Actor
from sync import merge
from sync import push as push_mod
from tests.factories import auth, build_world, login
from tests.sync.device import Phone

STORED_NOT = "the record could not be stored"


@pytest.fixture
def world(store):
    return build_world(store)


def _trigger(store, sql: str) -> None:
    with store.write() as db:
        db.execute(sql)


def test_a_database_rule_the_model_did_not_foresee_refuses_that_op_and_the_batch_goes_on(client, store, world):
    _trigger(store, "CREATE TRIGGER no_addenda BEFORE INSERT ON addenda BEGIN SELECT RAISE(ABORT, 'test'); END")
    phone = Phone(client, "prac_a1")
    fam, child = world.families["own"], world.persons["own"]
    visit = phone.model.create("visit", fam, {"type": "targeted", "status": "in-progress"})["entity_id"]
    addendum = phone.model.create("addendum", fam, {"visit_id": visit, "text": "Seen in the garden"})["entity_id"]
    phone.model.set("person", child, fam, "language", "Welsh")
    results = phone.push()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["reason"] == STORED_NOT
    with store.read() as db:
        assert records.get(db, store.keyring, "addendum", addendum, include_deleted=True) is None
        assert records.get(db, store.keyring, "visit", visit) is not None
        assert records.get(db, store.keyring, "person", child)["language"] == "Welsh"
    quarantined = client.get("/api/v1/sync/quarantine", headers=auth(login(client, "admin_a"))).json()
    assert [(q["entity_id"], q["reason"]) for q in quarantined] == [(addendum, STORED_NOT)]


def test_a_rest_write_the_database_refuses_is_answered_as_a_refusal_and_changes_nothing(client, store, world):
    fam = world.families["own"]
    sup = auth(login(client, "sup_a1"))
    etag = client.get(f"/api/v1/families/{fam}", headers=sup).headers["etag"]
    _trigger(store, "CREATE TRIGGER no_family_edits BEFORE UPDATE ON families BEGIN SELECT RAISE(ABORT, 'test'); END")
    r = client.patch(f"/api/v1/families/{fam}", json={"notes": "Moved in with grandmother"},
                     headers={**sup, "If-Match": etag})
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    with store.read() as db:
        assert records.get(db, store.keyring, "family", fam)["notes"] is None


def test_a_database_that_cannot_take_the_write_fails_the_whole_batch(client, store, world):
    phone = Phone(client, "prac_a1")
    fam, child = world.families["own"], world.persons["own"]
    with store.read() as db:
        seq_before = db.execute("SELECT COALESCE(MAX(seq), 0) FROM change_log").fetchone()[0]
    # Not a rule but a failure of the database itself (SQLite reports it as operational,
    # as it does a lock or a full disk).
    _trigger(store, "CREATE TRIGGER broken BEFORE INSERT ON addenda BEGIN INSERT INTO gone VALUES (1); END")
    phone.model.set("person", child, fam, "language", "Welsh")
    visit = phone.model.create("visit", fam, {"type": "targeted", "status": "in-progress"})["entity_id"]
    phone.model.create("addendum", fam, {"visit_id": visit, "text": "Seen in the garden"})
    r = client.post("/api/v1/sync/push", json={"ops": phone.model.outbox}, headers=phone.headers)
    assert r.status_code == 500
    with store.read() as db:
        assert db.execute("SELECT COALESCE(MAX(seq), 0) FROM change_log").fetchone()[0] == seq_before
        assert records.get(db, store.keyring, "person", child)["language"] is None
        assert records.get(db, store.keyring, "visit", visit) is None
        assert push_mod.sync_log.last_client_seq(db, phone.model.device_id) == 0
        assert db.execute("SELECT COUNT(*) FROM sync_ops").fetchone()[0] == 0


def test_the_merge_raises_storages_busy_and_the_transaction_keeps_nothing(store, world):
    _trigger(store, "CREATE TRIGGER broken BEFORE UPDATE ON persons BEGIN INSERT INTO gone VALUES (1); END")
    fam, child, seen = world.families["own"], world.persons["own"], new_id()
    with pytest.raises(Busy), store.write() as db:
        merge.apply_ops(db, store.keyring, Actor(user_id=world.users["prac_a1"]), [
            merge.make_create("observation", seen, fam, {"kind": "fact", "text": "Slept well", "about_person_id": child}),
            merge.make_set("person", child, fam, "language", "Welsh", 0)])
    with store.read() as db:
        assert records.get(db, store.keyring, "observation", seen) is None
        assert records.get(db, store.keyring, "person", child)["language"] is None
