"""What an answer means, shown while the practitioner is still at the question: the
bruising protocol for a child who is not independently mobile appears the moment the mark
is recorded, and the mobility confirmed at the visit goes onto the child's record."""

from __future__ import annotations

import pytest

from server.demo import _sid
from tests.pwa.platform_helpers import wait_until
from tests.pwa_screens.conftest import enrol, go

pytestmark = pytest.mark.browser


def _start(page, family: str, people: tuple[str, ...], absent: tuple[str, ...] = ()) -> str:
    visit = _sid("visit", family, "next")
    go(page, f"#/visit/{visit}")
    page.get_by_test_id("start").click()
    for key, seen in [(k, "seen") for k in people] + [(k, "not-seen") for k in absent]:
        page.locator(f'#presence-{_sid("person", family, key)} input[data-value="{seen}"]').check()
    page.get_by_test_id("presence-continue").click()
    page.get_by_test_id("checklist-tasks").wait_for()
    return visit


def test_answering_that_a_non_mobile_child_has_a_mark_shows_the_bruising_instruction_at_once(screens_server, browser_context):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    enrol(page, screens_server)
    visit = _start(page, "brennan", ("mum", "partner", "baby"))
    baby = _sid("person", "brennan", "baby")
    go(page, f"#/visit/{visit}/checklist/injury-non-mobile/{baby}")
    page.locator('[data-item="mobility"] input[data-value="rolling"]').check()
    page.get_by_test_id("save-status").filter(has_text="Saved on this phone").wait_for()
    assert page.get_by_test_id("answer-now-callout").count() == 0

    page.locator('[data-item="injury"] input[data-value="yes"]').first.check()
    callout = page.locator('[data-testid="answer-now-callout"][data-rule="injury-in-non-mobile-baby"]')
    callout.wait_for()
    assert callout.get_attribute("data-severity") == "urgent"
    text = callout.inner_text()
    assert "bruising protocol" in text and "before leaving" in text
    # Shown beside the answer, not only at "Check your answers".
    assert page.url.endswith(f"/checklist/injury-non-mobile/{baby}")

    # The stage confirmed at the visit is now on the baby's record for the next visit.
    wait_until(page, f"async () => (await window.__hearthside.model.get('person', '{baby}')).mobility === 'rolling'")

    # Changing the answer to "no mark" takes the instruction away again.
    page.locator('[data-item="injury"] input[data-value="no"]').first.check()
    wait_until(page, "() => document.querySelectorAll('[data-testid=answer-now-callout]').length === 0")


def test_a_cruising_child_with_a_knee_bruise_is_asked_the_pattern_and_raises_no_protocol(screens_server, browser_context):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    enrol(page, screens_server)
    visit = _start(page, "castellano", ("mum", "c5"), absent=("dad", "c1", "c2", "c3", "c4"))
    teo = _sid("person", "castellano", "c5")
    go(page, f"#/visit/{visit}/checklist/injury-non-mobile/{teo}")
    page.locator('[data-item="mobility"] input[data-value="cruising"]').check()
    page.locator('[data-item="injury"] input[data-value="yes"]').first.check()
    pattern = page.locator('[data-item="injury-pattern"]')
    pattern.wait_for()
    pattern.locator('input[data-value="bony-front"]').check()
    page.get_by_test_id("save-status").filter(has_text="Saved on this phone").wait_for()
    assert page.get_by_test_id("answer-now-callout").count() == 0
    pattern.locator('input[data-value="patterned"]').check()
    page.locator('[data-testid="answer-now-callout"][data-rule="mark-on-mobile-child-of-concern"]').wait_for()


def test_ticking_a_nice_suspect_feature_shows_the_referral_discussion_before_leaving(screens_server, browser_context):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    enrol(page, screens_server)
    visit = _start(page, "delaney", ("mum", "c1"))
    mason = _sid("person", "delaney", "c1")
    go(page, f"#/visit/{visit}/checklist/alerting-features/{mason}")
    page.locator('[data-item="consider-features"] input[data-value="language-delay"]').check()
    consider = page.locator('[data-testid="answer-now-callout"][data-rule="ng76-consider-feature"]')
    consider.wait_for()
    assert "safeguarding lead" in consider.inner_text()
    page.locator('[data-item="suspect-features"] input[data-value="food-seeking"]').check()
    suspect = page.locator('[data-testid="answer-now-callout"][data-rule="ng76-suspect-feature"]')
    suspect.wait_for()
    assert "children's social care" in suspect.inner_text()


def test_weight_is_recorded_as_a_number_and_an_impossible_one_is_refused(screens_server, browser_context):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    enrol(page, screens_server)
    visit = _start(page, "delaney", ("mum", "c1"))
    mason = _sid("person", "delaney", "c1")
    go(page, f"#/visit/{visit}/checklist/growth-and-health/{mason}")
    page.locator('[data-item="appears-thin-or-hungry"] input[data-value="yes"]').first.check()
    assert page.get_by_test_id("answer-now-callout").count() == 0  # weighing is due in days, not today
    weight = page.get_by_test_id("number-weight")
    weight.fill("900")
    weight.blur()
    page.locator('[data-item="weight"] .hs-error-message').filter(has_text="between").wait_for()
    weight.fill("12,4")
    weight.blur()
    page.get_by_test_id("save-status").filter(has_text="Saved on this phone").wait_for()
    wait_until(page, """async (v) => (await window.__hearthside.model.list('checklist_response'))
        .some((r) => r.visit_id === v && r.item_id === 'weight' && r.answer === 12.4)""", visit)
    assert page.locator('[data-item="plotted"]').is_visible()  # asked once a weight is recorded
