"""Each main screen fits a 320 px phone without sideways scrolling and passes an automated
accessibility check (axe-core: no serious or critical violations), in real Chromium."""

from __future__ import annotations

import pytest

from server.demo import _sid
from tests.pwa_screens.conftest import enrol, go, no_horizontal_scroll, run_axe

pytestmark = pytest.mark.browser

FAMILY = _sid("family", "greaves")  # father-figure not seen, flags, child on a plan
VISIT = _sid("visit", "brennan", "next")
BABY = _sid("person", "brennan", "baby")
PARTNER = _sid("person", "brennan", "partner")

SCREENS = [
    ("#/today", "Today"),
    ("#/caseload", "Caseload"),
    (f"#/family/{FAMILY}", "Greaves family"),
    (f"#/family/{FAMILY}/chronology/{_sid('person', 'greaves', 'c1')}", "Chronology"),
    (f"#/family/{_sid('family', 'castellano')}/genogram", "Genogram"),
    ("#/followups", "My follow-ups"),
    ("#/sync", "Sync"),
    ("#/conflicts", "Conflicts"),
    ("#/account", "Your account"),
    (f"#/visit/{VISIT}", "New birth"),
]


def test_main_screens_fit_320px_and_have_no_serious_accessibility_violations(screens_server, browser_context):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    page.set_viewport_size({"width": 320, "height": 640})
    enrol(page, screens_server)
    problems = []

    def check(where: str) -> None:
        scroll, client = no_horizontal_scroll(page)
        if scroll > client:
            problems.append(f"{where}: page is {scroll}px wide in a {client}px viewport")
        for v in run_axe(page):
            problems.append(f"{where}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}")

    for hash_, heading in SCREENS:
        go(page, hash_)
        assert heading in page.locator("#app h1").first.inner_text()
        check(hash_)

    # The visit's own steps, as far as the check-your-answers page with an error summary.
    page.get_by_test_id("start").click()
    page.get_by_test_id("presence-continue").click()
    page.get_by_test_id("error-summary").wait_for()
    check("presence with errors")
    for key in ("mum", "partner", "baby"):
        page.locator(f'#presence-{_sid("person", "brennan", key)} input[data-value="seen"]').check()
    page.get_by_test_id("presence-continue").click()
    page.get_by_test_id("checklist-tasks").wait_for()
    check("visit hub")
    for step in (f"checklist/safe-sleep/{BABY}", f"checklist/icon/{PARTNER}", f"checklist/home-conditions/{BABY}",
                 "observations", "record", "check"):
        go(page, f"#/visit/{VISIT}/{step}")
        check(step)
    page.get_by_test_id("sign").click()
    page.get_by_test_id("error-summary").wait_for()
    check("check with errors")
    assert problems == []
