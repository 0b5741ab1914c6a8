"""The phone's list of conflicts is built from `conflict` changes in pull: a conflict made
by others appears, a decision the server refuses puts it back on the list, and one
resolved elsewhere leaves the list on the next pull."""

from __future__ import annotations

import time

import httpx
import pytest

from server.demo import _sid
from server.ids import new_id
from platform_helpers import enrol, open_app, wait_sw_controls, wait_synced, wait_until

pytestmark = pytest.mark.browser

FAMILY = _sid("family", "ashworth")
OPEN = """async (family) => (await window.__hearthside.model.list('conflict'))
    .filter((c) => c.family_id === family && c.status === 'open').map((c) => [c.id, c.field, c.provisional])"""


class Writer:
    """A supervisor's device talking to the sync API."""

    def __init__(self, server) -> None:
        token = server.login("supervisor1")["access_token"]
        self.http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        self.seq = 0

    def op(self, **fields) -> dict:
        self.seq += 1
        wall = time.time_ns() // 1_000_000
        r = self.http.post("/api/v1/sync/push", json={"ops": [{
            "op_id": new_id(), "client_seq": self.seq, "hlc": f"{wall:015d}-{self.seq:05d}-w{id(self)}", **fields}]})
        assert r.status_code == 200, r.text
        return r.json()["results"][0]

    def notes_version(self) -> int:
        cursor, version = 0, 0
        while True:
            page = self.http.get("/api/v1/sync/pull", params={"cursor": cursor, "limit": 1000}).json()
            for c in page["changes"]:
                if c["entity"] == "family" and c["entity_id"] == FAMILY and "notes" in c["field_versions"]:
                    version = max(version, c["field_versions"]["notes"])
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return version


def sync(page) -> None:
    page.evaluate("() => window.__hearthside.sync.now()")
    wait_until(page, "() => window.__hearthside.sync.status().state !== 'syncing'")


def test_conflicts_come_as_changes_a_refused_decision_returns_and_one_resolved_elsewhere_leaves(
    browser_context, pwa_server
):
    page = open_app(browser_context, pwa_server)
    enrol(page)
    wait_sw_controls(page)
    wait_synced(page)
    assert page.evaluate(OPEN, FAMILY) == []

    a, b = Writer(pwa_server), Writer(pwa_server)
    base = a.notes_version()
    note = {"type": "set", "entity": "family", "entity_id": FAMILY, "family_id": FAMILY, "field": "notes",
            "base_version": base}
    assert a.op(**note, value="Father works away Monday to Friday")["status"] == "applied"
    conflict = b.op(**note, value="Father home at weekends only")
    assert conflict["status"] == "conflict"

    sync(page)
    assert page.evaluate(OPEN, FAMILY) == [[conflict["conflict_id"], "notes", "Father home at weekends only"]]

    # A practitioner may not set a family's notes, so the server refuses their decision:
    # the conflict still needs one, and comes back on the list.
    page.evaluate("([id, v]) => window.__hearthside.model.resolve(id, v)", [conflict["conflict_id"], "Mine"])
    assert page.evaluate(OPEN, FAMILY) == []  # shown as decided while the op waits
    sync(page)
    entries = page.evaluate("() => window.__hearthside.sync.outbox()")
    assert [(e["type"], e["status"]) for e in entries] == [("resolve", "rejected")]
    wait_until(page, f"async () => ({OPEN})('{FAMILY}').then((l) => l.length === 1)")
    family = page.evaluate("(id) => window.__hearthside.model.get('family', id)", FAMILY)
    assert family["notes"] == "Father home at weekends only"  # the provisional value again, not ours

    # Resolved by the supervisor: it leaves the phone's list on its next pull.
    assert a.op(type="resolve", conflict_id=conflict["conflict_id"],
                value="Father works away Monday to Friday")["status"] == "applied"
    sync(page)
    assert page.evaluate(OPEN, FAMILY) == []
    family = page.evaluate("(id) => window.__hearthside.model.get('family', id)", FAMILY)
    assert family["notes"] == "Father works away Monday to Friday"
