"""The agency feed's cursor names its change log: every page carries the log's epoch, and
a cursor sent with another epoch (the server was restored from a backup) or past the
log's end is refused with a clear problem instead of silently skipping changes."""

from __future__ import annotations

import json
import sqlite3

import pytest

from server.agency.connector import Connector
from server.backup import new_log_epoch
from tests.agency.helpers import bearer, feed_all, make_client, visit

FEED = "/api/agency/v1/feed"
STALE = "urn:hearthside:problem:feed-cursor-stale"


def epoch_of(store) -> str:
    with store.read() as db:
        return next(db.query("SELECT value FROM sync_meta WHERE key = 'log_epoch'"))["value"]


def restore_epoch(store) -> None:
    """What a restore does to the log's identity (``server.backup.restore``)."""
    conn = sqlite3.connect(store.path)
    try:
        new_log_epoch(conn)
    finally:
        conn.close()


def test_every_feed_page_carries_the_logs_epoch_in_json_and_fhir(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    visit(store, world)
    for page in feed_all(client, token, limit=1):
        assert page["epoch"] == epoch_of(store)
    r = client.get(FEED, params={"format": "fhir"}, headers=bearer(token))
    assert r.status_code == 200 and r.headers["Hearthside-Log-Epoch"] == epoch_of(store)


@pytest.mark.parametrize("case", ["other epoch", "past the end"])
def test_a_cursor_from_another_log_or_past_its_end_gets_409_feed_cursor_stale(client, store, world, case):
    _, token = make_client(store, world.agencies["A"])
    visit(store, world)
    last = feed_all(client, token)[-1]
    cursor, epoch = last["next_cursor"], last["epoch"]
    if case == "other epoch":
        restore_epoch(store)
    else:
        cursor += 1000
    r = client.get(FEED, params={"cursor": cursor, "epoch": epoch}, headers=bearer(token))
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"] == STALE and problem["epoch"] == epoch_of(store)
    assert "items" not in problem
    # From the start, with no epoch to compare, the feed answers as usual.
    assert client.get(FEED, params={"cursor": 0}, headers=bearer(token)).status_code == 200


def test_the_connector_keeps_the_epoch_with_its_cursor_and_stops_when_the_server_was_restored(
    client, store, world, tmp_path
):
    _, token = make_client(store, world.agencies["A"])
    visit(store, world)
    out = tmp_path / "out"
    connector = Connector("", token, out, "json", client=client)
    connector.http.headers["Authorization"] = f"Bearer {token}"
    assert connector.run()["written"] > 0
    state = json.loads((out / ".hearthside" / "state.json").read_text())
    assert state["epoch"] == epoch_of(store) and state["cursor"] > 0
    restore_epoch(store)
    filed = sorted(p.name for p in (out / "batches").iterdir())
    with pytest.raises(SystemExit, match="restored from a backup"):
        Connector("", token, out, "json", client=client).run()
    assert sorted(p.name for p in (out / "batches").iterdir()) == filed
    assert json.loads((out / ".hearthside" / "state.json").read_text()) == state
