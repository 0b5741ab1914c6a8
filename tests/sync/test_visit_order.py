"""A visit cannot be completed before it started, on the one write path every writer takes
(a phone's sync push here: visits are written by phones only)."""

from __future__ import annotations

import pytest

from server.storage import records
from tests.factories import build_world
from tests.sync.device import Phone


@pytest.fixture
def world(store):
    return build_world(store)


def test_a_visit_that_would_complete_before_it_started_is_refused_and_nothing_changes(client, store, world):
    fam = world.families["own"]
    phone = Phone(client, "prac_a1")
    visit = phone.model.create("visit", fam, {"type": "targeted", "status": "in-progress",
                                              "started_at": "2099-01-01T10:00:00Z"})["entity_id"]
    assert [r["status"] for r in phone.push()["results"]] == ["applied"]
    phone.model.set("visit", visit, fam, "status", "completed")
    result = phone.push()["results"][0]
    assert result["status"] == "rejected" and "cannot complete before it starts" in result["reason"]
    with store.read() as db:
        row = records.get(db, store.keyring, "visit", visit)
    assert row["status"] == "in-progress" and row["completed_at"] is None

    # Started in the past (any zone notation), it completes.
    phone.model.set("visit", visit, fam, "started_at", "2026-03-02T10:05:00+01:00")
    phone.model.set("visit", visit, fam, "status", "completed")
    assert [r["status"] for r in phone.push()["results"]] == ["applied", "applied"]
