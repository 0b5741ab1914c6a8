"""The supervisor's view in real Chromium: the team's open flags, overdue follow-ups by
practitioner and how fresh each practitioner's sync is; reassigning a follow-up reaches the
server."""

from __future__ import annotations

import pytest

from server.demo import _sid
from tests.pwa_screens.conftest import enrol, go, server_rows, wait_outbox_settled

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
