"""Nothing a practitioner records is refused for something that is not their fault: a
visit deleted meanwhile, a family briefly de-allocated. Entries are kept (and shown as
needing attention) or held and applied when access returns."""

from __future__ import annotations

import pytest

from server.storage import records
from tests.factories import auth, build_world, login
from tests.sync.device import Phone


@pytest.fixture
def world(store):
    return build_world(store)


def _end_allocation(client, world, practitioner: str, family: str) -> None:
    sup = auth(login(client, "sup_a1"))
    r = client.post(f"/api/v1/families/{family}/allocations/{world.users[practitioner]}/end", headers=sup)
    assert r.status_code in (200, 428), r.text
    if r.status_code == 428:  # the write path asks for the version the supervisor saw
        allocation = next(a for a in client.get(f"/api/v1/families/{family}", headers=sup).json()["allocations"]
                          if a["practitioner_id"] == world.users[practitioner])
        r = client.post(f"/api/v1/families/{family}/allocations/{world.users[practitioner]}/end",
                        headers={**sup, "If-Match": f'"{allocation["version"]}"'})
        assert r.status_code == 200, r.text


def _allocate(client, world, practitioner: str, family: str) -> None:
    sup = auth(login(client, "sup_a1"))
    r = client.post(f"/api/v1/families/{family}/allocations", json={"practitioner_id": world.users[practitioner]},
                    headers=sup)
    assert r.status_code in (200, 201), r.text


def test_an_observation_on_a_visit_deleted_meanwhile_is_kept_and_shown_as_needing_attention(client, store, world):
    fam = world.families["own"]
    phone, supervisor = Phone(client, "prac_a1"), Phone(client, "sup_a1")
    visit = phone.model.create("visit", fam, {"type": "targeted", "status": "in-progress"})["entity_id"]
    phone.push()
    supervisor.model._queue({"type": "delete", "entity": "visit", "entity_id": visit, "family_id": fam})
    assert supervisor.push()["results"][0]["status"] == "applied"
    obs = phone.model.create("observation", fam, {"visit_id": visit, "kind": "child-words", "text": "I like my cot"})
    result = phone.push()["results"][0]
    assert result["status"] == "applied" and "visit-deleted" in result["reason"]
    with store.read() as db:
        kept = records.get(db, store.keyring, "observation", obs["entity_id"])
    assert kept["text"] == "I like my cot" and kept["attention"] == "visit-deleted"
    for who in (phone, supervisor):
        listed = client.get("/api/v1/sync/attention", headers=who.headers).json()
        assert [(a["id"], a["attention"]) for a in listed] == [(obs["entity_id"], "visit-deleted")]
    assert client.get("/api/v1/sync/attention", headers=Phone(client, "sup_a2").headers).json() == []


def test_an_observation_recorded_before_a_deallocation_is_kept_and_other_ops_wait_for_access(client, store, world):
    fam, child = world.families["own"], world.persons["own"]
    phone = Phone(client, "prac_a1")
    phone.pull_all()
    obs = phone.model.create("observation", fam, {"kind": "fact", "text": "Recorded in the home"})
    phone.model.set("person", child, fam, "language", "Welsh")
    _end_allocation(client, world, "prac_a1", fam)
    statuses = [r["status"] for r in phone.push()["results"]]
    assert statuses == ["applied", "held"]
    with store.read() as db:
        assert records.get(db, store.keyring, "observation", obs["entity_id"])["attention"] == "recorded-out-of-reach"
        assert records.get(db, store.keyring, "person", child)["language"] is None
    _allocate(client, world, "prac_a1", fam)
    with store.read() as db:
        assert records.get(db, store.keyring, "person", child)["language"] == "Welsh"
    # A phone that lost the reply learns what became of the held op.
    again = phone.push([phone.model.sent[1]])["results"][0]
    assert again["status"] == "duplicate" and again["first_status"] == "applied"


def test_a_held_op_stays_held_until_access_returns_and_is_not_in_the_quarantine(client, store, world):
    fam, child = world.families["other_prac"], world.persons["other_prac"]
    phone = Phone(client, "prac_a1")
    phone.model.set("person", child, fam, "language", "Cymraeg")
    assert phone.push()["results"][0]["status"] == "held"
    sup = auth(login(client, "sup_a1"))
    assert client.get("/api/v1/sync/quarantine", headers=sup).json() == []
    held = client.get("/api/v1/sync/held", headers=sup).json()
    assert [(h["kind"], h["entity"], h["status"]) for h in held] == [("out-of-reach", "person", "held")]
    assert client.get("/api/v1/sync/held", headers=auth(login(client, "sup_a2"))).json() == []
    _allocate(client, world, "prac_a1", fam)
    with store.read() as db:
        assert records.get(db, store.keyring, "person", child)["language"] == "Cymraeg"
    assert client.get("/api/v1/sync/held", headers=sup).json() == []
