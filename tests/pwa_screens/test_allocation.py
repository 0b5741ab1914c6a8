"""A supervisor allocates from the phone, in real Chromium: moving a family to another
practitioner reaches the server (the new allocation active, the old one ended) and the old
practitioner's phone, at its next sync, no longer holds the family; the team's follow-ups
are listed by practitioner, by name; the team overview is in the supervisor's main
navigation and not in a practitioner's."""

from __future__ import annotations

import pytest

from server.demo import _sid
from tests.conftest import launch_phone
from tests.pwa_screens.conftest import enrol, go, server_rows
from tests.pwa.platform_helpers import wait_until

pytestmark = pytest.mark.browser

FAMILY = _sid("family", "delaney")
HOLDS = "async (id) => !!(await window.__hearthside.model.get('family', id))"


def test_a_supervisor_moves_a_family_and_the_old_practitioners_phone_purges_it(
        screens_server, browser_context, playwright_instance, tmp_path):
    old_ctx = launch_phone(playwright_instance, tmp_path / "profile-practitioner1")
    try:
        old = old_ctx.pages[0] if old_ctx.pages else old_ctx.new_page()
        enrol(old, screens_server, "practitioner1")
        assert old.evaluate(HOLDS, FAMILY)
        assert old.locator('[data-nav-role="supervisor"]').is_hidden()

        sup = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
        sup.set_viewport_size({"width": 390, "height": 844})
        enrol(sup, screens_server, "supervisor1")
        sup.get_by_test_id("nav-team").click()
        sup.get_by_test_id("allocate-link").click()
        card = sup.locator(f'[data-testid="allocation"][data-family-id="{FAMILY}"]')
        assert card.get_by_test_id("allocated").inner_text().strip().startswith("Sam Practitioner")
        card.get_by_test_id("move-family").click()  # nobody chosen yet: an error at the field
        assert card.get_by_test_id("field-error").text_content() == "Error: Choose a practitioner"
        card.get_by_test_id("allocate-to").select_option(label="Alex Practitioner")
        card.get_by_test_id("move-family").click()
        sup.locator(f'[data-testid="allocation"][data-family-id="{FAMILY}"] [data-testid="allocated"]',
                    has_text="Alex Practitioner").wait_for()
        assert "Sam Practitioner" not in card.get_by_test_id("allocated").inner_text()
        practitioner2 = server_rows(screens_server, "SELECT id FROM users WHERE username = 'practitioner2'")[0][0]
        assert server_rows(screens_server, "SELECT practitioner_id FROM allocations WHERE family_id = ? AND active = 1",
                           [FAMILY]) == [(practitioner2,)]

        # The old phone's next sync takes the family off it.
        wait_until(old, f"async () => {{ await window.__hearthside.sync.now(); return !(await ({HOLDS})('{FAMILY}')); }}")
        go(old, "#/caseload")
        assert "Delaney" not in old.locator("#app").inner_text()
        go(old, f"#/family/{FAMILY}")
        assert "Family not found" in old.locator("#app h1").inner_text()

        go(sup, "#/team/follow-ups")
        groups = [s.locator("h2").inner_text() for s in sup.get_by_test_id("team-followups").all()]
        assert any(g.startswith("Sam Practitioner") for g in groups) and any(g.startswith("Alex Practitioner") for g in groups)
        assert all(f.get_by_test_id("about-whom").count() == 1 for f in sup.get_by_test_id("team-followup").all())
    finally:
        old_ctx.close()
