"""The sync client against the real server (POST /api/v1/sync/push, GET /api/v1/sync/pull)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import launch_phone
from platform_helpers import (
    enrol, open_app, unlock, wait_sw_controls, wait_synced, wait_until,
)

pytestmark = pytest.mark.browser

WORDS = "Sentinel-words-the-red-kite-5521"


@pytest.fixture
def sync_server(pwa_server):
    return pwa_server


def server_family(server, family_id: str) -> dict:
    token = server.login("practitioner1")["access_token"]
    r = httpx.get(f"{server.url}/api/v1/families/{family_id}", headers={"Authorization": f"Bearer {token}"})
    r.raise_for_status()
    return r.json()


def test_the_initial_sync_pulls_the_caseload_through_the_sync_api(browser_context, sync_server):
    page = open_app(browser_context, sync_server)
    enrol(page)
    wait_synced(page)
    meta = page.evaluate("() => window.__hearthside.sync.metaSnapshot()")
    assert meta["source"] == "sync" and meta["cursor"] > 0
    names = page.evaluate("async () => (await window.__hearthside.model.list('family')).map(f => f.family_name)")
    assert "Ashworth" in names


def test_offline_work_survives_a_restart_and_is_pushed_exactly_once_after_reconnect(
    playwright_instance, browser_context, sync_server, tmp_path
):
    page = open_app(browser_context, sync_server)
    enrol(page)
    wait_sw_controls(page)
    wait_synced(page)
    browser_context.set_offline(True)
    ids = page.evaluate(
        """async (words) => {
          const { model } = window.__hearthside;
          const fam = (await model.list('family')).find(f => f.family_name === 'Ashworth');
          const person = (await model.list('person', { family_id: fam.id }))[0];
          const visit = await model.create('visit', { type: 'targeted', status: 'in-progress' }, { family_id: fam.id });
          await model.update('visit', visit.id, { summary: 'Seen at home' });  // folded into the create
          const obs = await model.create('observation', { visit_id: visit.id, kind: 'fact', text: words }, { family_id: fam.id });
          await model.update('person', person.id, { language: 'Welsh' });
          return { family: fam.id, visit: visit.id, observation: obs.id, person: person.id };
        }""",
        WORDS,
    )
    url = page.url
    browser_context.close()
    context = launch_phone(playwright_instance, tmp_path / "profile", offline=True)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        unlock(page)
        waiting = page.evaluate("() => window.__hearthside.sync.outbox().map(e => [e.type, e.status])")
        # 'sent' once an attempt was made offline: sent, not confirmed, so it goes again.
        assert [t for t, _ in waiting] == ["create", "create", "set"]
        assert {s for _, s in waiting} <= {"waiting", "sent"}
        context.set_offline(False)  # the page gets its `online` event and syncs by itself
        wait_synced(page)
        assert page.evaluate("() => window.__hearthside.sync.outbox()") == []
        assert page.evaluate("async (id) => window.__hearthside.sync.recordStatus('visit', id)", ids["visit"]) == "confirmed"
        # Sync again: nothing is sent twice.
        again = page.evaluate("() => window.__hearthside.sync.now()")
        assert again["ok"] is True and again["pending"] == 0
        badge = page.get_by_test_id("sync-badge")
        wait_until(page, "() => document.querySelector('[data-testid=sync-badge]').dataset.state === 'idle'")
        assert badge.inner_text().startswith("Synced")
    finally:
        context.close()
    fam = server_family(sync_server, ids["family"])
    assert [o["text"] for o in fam["observations"]].count(WORDS) == 1
    visits = [v for v in fam["visits"] if v["id"] == ids["visit"]]
    assert len(visits) == 1 and visits[0]["status"] == "in-progress"
    person = next(p for p in fam["persons"] if p["id"] == ids["person"])
    assert person["language"] == "Welsh"  # applied on its base version, not a conflict
