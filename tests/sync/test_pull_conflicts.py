"""Open conflicts come in pull as changes like any other record (entity ``conflict``),
so a page carries only the conflicts changed in it, a phone's list converges through the
pages, and a conflict closed anywhere leaves every phone's list on its next pull."""

from __future__ import annotations

from typing import Any

import pytest

from server.storage import records
from tests.factories import build_world
from tests.sync.device import Phone

PULL = "/api/v1/sync/pull"
MANY = 24


@pytest.fixture
def world(store):
    return build_world(store)


def open_conflicts_in_db(store, family_id: str) -> dict[str, dict[str, Any]]:
    with store.read() as db:
        return {c["id"]: c for c in records.find(db, store.keyring, "conflict", "family_id = ? AND status = 'open'",
                                                [family_id])}


def many_conflicts(client, world, n: int = MANY) -> list[str]:
    """``n`` people in prac_a1's family, each with a conflict on their language."""
    own = world.families["own"]
    sup = Phone(client, "sup_a1")
    people = [sup.model.create("person", own, {"role": "mother", "given_name": f"Mum{i}"})["entity_id"]
              for i in range(n)]
    sup.push()
    a, b = Phone(client, "prac_a1"), Phone(client, "prac_a1")
    a.pull_all()
    b.pull_all()
    for pid in people:
        a.model.set("person", pid, own, "language", "Welsh")
        b.model.set("person", pid, own, "language", "Polish")
    a.push()
    assert {r["status"] for r in b.push()["results"]} == {"conflict"}
    return people


def conflict_entries(page: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in page["changes"] if c["entity"] == "conflict"]


def test_a_limit_1_pull_with_many_open_conflicts_carries_at_most_one_per_page_and_the_list_converges(
    client, store, world
):
    phone = Phone(client, "prac_a1")
    phone.pull_all()
    many_conflicts(client, world)
    pages = phone.pull_all(limit=1)
    assert len(pages) > MANY
    for page in pages:
        assert "conflicts" not in page  # never the whole list: this phone sends its epoch
        assert len(conflict_entries(page)) <= 1
    expected = open_conflicts_in_db(store, world.families["own"])
    assert len(expected) == MANY
    held = {c["id"]: c for c in phone.model.conflicts}
    assert set(held) == set(expected)
    for cid, c in held.items():
        assert c["provisional"] == "Polish"  # the newest candidate, as the field shows it
        assert {x["value"] for x in c["candidates"]} == {"Welsh", "Polish"}
        assert (c["entity"], c["field"]) == ("person", "language")
        assert c["entity_id"] == expected[cid]["entity_id"]


def test_a_new_phone_paging_from_0_gets_each_conflict_change_once_and_holds_the_open_list(client, store, world):
    many_conflicts(client, world)
    phone = Phone(client, "prac_a1")
    pages = phone.pull_all(limit=1)
    for page in pages:
        assert "conflicts" not in page
        # A family's snapshot (backfill, when a page passes its allocation) may hold its
        # conflicts; the log's own entries come one page at a time.
        assert len([c for c in conflict_entries(page) if not c["backfill"]]) <= 1
    assert {c["id"] for c in phone.model.conflicts} == set(open_conflicts_in_db(store, world.families["own"]))


def test_a_page_carries_only_the_conflicts_changed_in_it(client, store, world):
    many_conflicts(client, world)
    phone = Phone(client, "prac_a1")
    phone.pull_all()
    fam, child = world.families["own"], world.persons["own"]
    c, d = Phone(client, "prac_a1"), Phone(client, "prac_a1")
    c.pull_all()
    d.pull_all()
    c.model.set("person", child, fam, "ethnicity", "White British")
    d.model.set("person", child, fam, "ethnicity", "Mixed")
    c.push()
    d.push()
    (page,) = phone.pull_all()
    (entry,) = conflict_entries(page)
    assert entry["op"] == "insert" and entry["values"]["field"] == "ethnicity"
    assert entry["values"]["provisional"] == "Mixed"
    assert entry["field_versions"]["provisional"] == entry["field_versions"]["candidates"]
    assert len(phone.model.conflicts) == MANY + 1


def test_a_conflict_resolved_on_one_phone_leaves_every_phones_list(client, store, world):
    fam, child = world.families["own"], world.persons["own"]
    phones = [Phone(client, "prac_a1") for _ in range(3)]
    for p in phones:
        p.pull_all()
    phones[0].model.set("person", child, fam, "language", "Welsh")
    phones[1].model.set("person", child, fam, "language", "Polish")
    phones[0].push()
    phones[1].push()
    for p in phones:
        p.pull_all()
    lists = [[c["id"] for c in p.model.conflicts] for p in phones]
    assert lists[0] == lists[1] == lists[2] and len(lists[0]) == 1
    phones[2].model.resolve(lists[0][0], "Welsh")
    assert phones[2].push()["results"][0]["status"] == "applied"
    for p in phones:
        p.pull_all()
        assert p.model.conflicts == []
        assert p.model.values("person", child)["language"] == "Welsh"
        assert p.model.values("conflict", lists[0][0])["status"] == "resolved"


def test_a_conflict_closed_by_its_writers_agreeing_leaves_the_list(client, store, world):
    fam, child = world.families["own"], world.persons["own"]
    a, b, watcher = Phone(client, "prac_a1"), Phone(client, "prac_a1"), Phone(client, "prac_a1")
    for p in (a, b, watcher):
        p.pull_all()
    a.model.set("person", child, fam, "language", "Welsh")
    b.model.set("person", child, fam, "language", "Polish")
    a.push()
    b.push()
    watcher.pull_all()
    assert len(watcher.model.conflicts) == 1
    b.model.set("person", child, fam, "language", "Welsh")  # b changes its mind
    b.push()
    watcher.pull_all()
    assert watcher.model.conflicts == []


def test_deleting_a_record_closes_its_open_conflicts_on_every_phone_and_keeps_every_candidate(client, store, world):
    own = world.families["own"]
    sup = Phone(client, "sup_a1")
    person = sup.model.create("person", own, {"role": "other-adult", "given_name": "Visitor"})["entity_id"]
    sup.push()
    a, b = Phone(client, "prac_a1"), Phone(client, "prac_a1")
    for p in (a, b, sup):
        p.pull_all()
    a.model.set("person", person, own, "language", "Welsh")
    b.model.set("person", person, own, "language", "Polish")
    a.push()
    assert b.push()["results"][0]["status"] == "conflict"
    sup.pull_all()
    assert len(sup.model.conflicts) == 1
    sup.model._queue({"type": "delete", "entity": "person", "entity_id": person, "family_id": own})
    assert sup.push()["results"][0]["status"] == "applied"
    for p in (a, b, sup):
        p.pull_all()
        assert p.model.conflicts == []
    with store.read() as db:
        [closed] = records.find(db, store.keyring, "conflict", "entity_id = ?", [person])
    assert closed["status"] == "resolved" and closed["resolution"]["record_deleted"] is True
    assert sorted(c["value"] for c in closed["candidates"]) == ["Polish", "Welsh"]


def test_an_app_that_sends_no_epoch_gets_the_whole_list_once_at_the_end_of_its_pull(client, store, world):
    """Apps from before conflicts came as changes replace their list with `conflicts`
    (and forget their own ops' closed conflicts by it): a page that carries it carries all
    of them, and a page that does not leaves the field out rather than sending it empty."""
    many_conflicts(client, world, 5)
    old = Phone(client, "prac_a1")
    cursor, pages = 0, []
    while True:
        page = client.get(PULL, params={"cursor": cursor, "limit": 1}, headers=old.headers).json()
        pages.append(page)
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert all("conflicts" not in p for p in pages[:-1])
    listed = pages[-1]["conflicts"]
    assert {c["id"] for c in listed} == set(open_conflicts_in_db(store, world.families["own"]))
    assert all(c["provisional"] == "Polish" and len(c["candidates"]) == 2 for c in listed)
