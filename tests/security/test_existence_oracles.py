"""Out-of-reach records give the answer a record that does not exist gives, against a real
server: a phone (sync) or a form (REST) cannot learn which ids exist in another family,
team or agency."""

from __future__ import annotations

import httpx
import pytest

from server.ids import new_id
from tests.conftest import LiveServer
from tests.factories import build_world, login
from tests.sync.device import Phone


@pytest.fixture(scope="module")
def world_server(tmp_path_factory):
    from server.app import open_store
    from server.settings import Settings

    data = tmp_path_factory.mktemp("oracles") / "data"
    store = open_store(Settings.from_env({}, data_dir=data))
    world = build_world(store)
    store.close()
    server = LiveServer(data, demo=False).start()
    with httpx.Client(base_url=server.url) as client:
        yield world, client
    server.stop()


def _answers(phone: Phone, ops: list[dict]) -> list[tuple[str, str | None]]:
    # One push per op: each refused op gives its own answer.
    out = []
    for op in ops:
        phone.model.outbox = []
        queued = phone.model._queue(op)
        result = phone.push([queued])["results"][0]
        out.append((result["status"], result.get("reason")))
    return out


def test_a_record_of_another_family_answers_like_no_record_at_all(world_server):
    world, client = world_server
    phone = Phone(client, "prac_a1")
    own = world.families["own"]
    elsewhere = [world.persons["other_prac"], world.persons["other_team"], world.persons["other_agency"]]
    ops = [{"type": "set", "entity": "person", "entity_id": pid, "family_id": own, "field": "given_name",
            "value": "X", "base_version": 1} for pid in [new_id(), *elsewhere]]
    answers = _answers(phone, ops)
    assert answers[0][0] == "rejected"
    assert answers == [answers[0]] * len(answers), answers


def test_a_family_id_taken_anywhere_out_of_reach_gets_one_answer(world_server):
    world, client = world_server
    phone = Phone(client, "prac_a1")
    taken = [world.families["other_team"], world.families["other_prac"], world.families["other_agency"]]
    ops = [{"type": "create", "entity": "family", "entity_id": fid, "family_id": fid,
            "values": {"family_name": "Taken"}} for fid in taken]
    answers = _answers(phone, ops)
    assert answers[0][0] == "rejected" and answers == [answers[0]] * len(answers), answers
    assert "already used" not in (answers[0][1] or "")

    admin = {"Authorization": "Bearer " + login(client, "admin_a", "correct horse battery staple")["access_token"]}
    rest = [client.post("/api/v1/families", headers=admin, json={"id": fid, "family_name": "Taken"})
            for fid in (world.families["own"], world.families["other_agency"])]
    assert [r.status_code for r in rest] == [422, 422]
    assert rest[0].json() == rest[1].json()
