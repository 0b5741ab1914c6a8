"""The supervisor's view in real Chromium: the team's open flags, overdue follow-ups by
practitioner and how fresh each practitioner's sync is; reassigning a follow-up reaches the
server; what the server kept for a decision (a revoked phone's upload, an entry whose visit
was deleted, a refused change) is shown, and accepting the upload applies it."""

from __future__ import annotations

import httpx
import pytest

from server.demo import _sid
from tests.factories import auth
from tests.pwa_screens.conftest import (enrol, go, no_horizontal_scroll, run_axe, server_records, server_rows,
                                        wait_outbox_settled)
from tests.sync.device import Phone

pytestmark = pytest.mark.browser


def test_the_team_overview_shows_flags_overdue_follow_ups_and_sync_freshness_and_reassigns(
        screens_server, browser_context):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    enrol(page, screens_server, "supervisor1")
    go(page, "#/supervisor")
    flag = page.get_by_test_id("flag")
    assert flag.count() == 1 and flag.get_attribute("data-severity") == "high"
    assert "Delaney" in flag.inner_text()  # the demo's open flag, by severity
    overdue_by = page.get_by_test_id("overdue-by-practitioner").inner_text()
    assert "Sam Practitioner" in overdue_by and "Alex Practitioner" in overdue_by  # Delaney, Hollis
    last_sync = page.get_by_test_id("last-sync").inner_text()
    assert "Sam Practitioner" in last_sync and "Never synced" in last_sync  # nobody else has a phone yet
    overdue = _sid("follow_up", "delaney")
    page.locator(f'a[href="#/follow-ups/{overdue}"]').first.click()
    page.get_by_test_id("followup-detail").wait_for()
    practitioner2 = server_rows(screens_server, "SELECT id FROM users WHERE username = 'practitioner2'")[0][0]
    page.get_by_test_id("reassign-to").select_option(practitioner2)
    page.get_by_test_id("reassign").click()
    assert wait_outbox_settled(page) == []
    assert server_rows(screens_server, "SELECT assignee_id FROM follow_ups WHERE id = ?", [overdue]) == [(practitioner2,)]


def test_what_the_server_kept_for_a_decision_is_shown_and_accepting_a_held_upload_applies_it(
        screens_server, browser_context):
    family, visit = _sid("family", "brennan"), _sid("visit", "brennan", "next")
    held_text = "Sentinel-Kestrel: cot seen, clear of toys"
    kept_text = "Sentinel-Plover: recorded on a visit deleted meanwhile"
    with httpx.Client(base_url=screens_server.url, timeout=30) as http:
        # An entry whose visit another writer deleted meanwhile: kept, needs a look.
        phone, other = Phone(http, "practitioner1", "demo-password"), Phone(http, "supervisor1", "demo-password")
        gone = phone.model.create("visit", family, {"type": "targeted", "status": "in-progress"})["entity_id"]
        phone.push()
        other.model._queue({"type": "delete", "entity": "visit", "entity_id": gone, "family_id": family})
        assert other.push()["results"][0]["status"] == "applied"
        phone.model.create("observation", family, {"visit_id": gone, "kind": "fact", "text": kept_text})
        assert phone.push()["results"][0]["status"] == "applied"
        # A change the server refuses (an observation kind it does not have).
        bad = phone.model.create("observation", family, {"visit_id": visit, "kind": "judgement", "text": "an old kind"})
        assert phone.push()["results"][0]["status"] == "rejected"
        # A revoked phone's last upload: held for the supervisor.
        held = phone.model.create("observation", family, {"visit_id": visit, "kind": "fact", "text": held_text})
        admin = auth(screens_server.login("admin1"))
        assert http.post(f"/api/v1/devices/{phone.model.device_id}/revoke", headers=admin).status_code == 200
        assert [r["status"] for r in phone.push()["results"]] == ["held"]

    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    enrol(page, screens_server, "supervisor1")
    go(page, "#/supervisor")
    page.get_by_test_id("review-link").click()
    page.get_by_test_id("held-list").wait_for()
    card = page.get_by_test_id("held")
    assert card.count() == 1 and card.get_attribute("data-kind") == "device-revoked"
    assert held_text in card.inner_text() and "Brennan" in card.inner_text()
    attention = page.get_by_test_id("attention")
    assert attention.count() == 1 and kept_text in attention.inner_text()
    assert "Its visit is not on the server" in attention.inner_text()
    refused = page.locator(f'[data-testid="quarantined"][data-op-id="{bad["op_id"]}"]')
    assert refused.count() == 1 and "an old kind" in refused.inner_text()
    page.set_viewport_size({"width": 320, "height": 640})
    scroll, client = no_horizontal_scroll(page)
    assert scroll <= client and run_axe(page) == []

    card.get_by_test_id("held-accept").click()
    page.get_by_test_id("held-status").filter(has_text="Applied").wait_for()
    stored = server_records(screens_server, "observation", "id = ?", [held["entity_id"]])
    assert [o["text"] for o in stored] == [held_text]
    page.get_by_text("Nothing is held.").wait_for()  # the list is fetched again
