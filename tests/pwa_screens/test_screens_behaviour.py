"""What each screen does for the person using it, in real Chromium on the demo caseload:
caseload search, fathers and male carers on the family page, flags as warning callouts,
follow-ups (overdue first, completed with a note), the no-access path with what it raises,
addenda on a signed visit, conflicts resolved as an op, and a half-filled checklist that
is exactly as it was after a lock, and screens opened during the first sync that show the
caseload once it lands."""

from __future__ import annotations

import httpx
import pytest

from server.demo import _sid
from tests.sync.device import Phone
from tests.pwa_screens.conftest import PIN, enrol, go, server_rows, sign_in_and_choose_pin, unlock, wait_outbox_settled

pytestmark = pytest.mark.browser


def first_page(context):
    return context.pages[0] if context.pages else context.new_page()


def test_caseload_search_and_family_show_fathers_and_male_carers_fully(screens_server, browser_context):
    page = first_page(browser_context)
    enrol(page, screens_server)

    go(page, "#/caseload")
    families = page.get_by_test_id("caseload-family")
    assert families.count() == 7  # practitioner1's caseload
    # Who the visits are for, at a glance: the children by first name and age, and a plan.
    greaves = families.filter(has_text="Greaves")
    assert "Kayden (4 years)" in greaves.get_by_test_id("caseload-children").inner_text()
    assert greaves.get_by_test_id("caseload-plan").count() == 1
    brennan = families.filter(has_text="Brennan")
    assert "Ivy (11 days)" in brennan.get_by_test_id("caseload-children").inner_text()
    assert brennan.get_by_test_id("caseload-plan").count() == 0
    assert "Baby (due " in families.filter(has_text="Ashworth").get_by_test_id("caseload-children").inner_text()
    page.get_by_test_id("caseload-search").fill("tomasz")  # the Ashworth baby's father
    page.wait_for_function("() => document.querySelectorAll('[data-testid=caseload-family]:not([hidden])').length === 1")
    visible = page.locator("[data-testid=caseload-family]:not([hidden])")
    assert "Ashworth" in visible.inner_text()
    assert "1 of 7 families match" in page.get_by_test_id("caseload-count").inner_text()
    visible.locator("a").click()
    page.get_by_role("heading", name="Ashworth family").wait_for()

    father = page.locator(f'[data-person-id="{_sid("person", "ashworth", "dad")}"]')
    text = father.inner_text()
    assert "Tomasz Rudd" in text and "Father" in text
    assert "Lives in household" in text and "No" in text
    assert "parental responsibility: yes" in text
    assert "To Baby Ashworth" in text

    go(page, f"#/family/{_sid('family', 'greaves')}")
    carer = page.locator(f'[data-person-id="{_sid("person", "greaves", "carer")}"]')
    text = carer.inner_text()
    assert "Craig Holt" in text and "Male carer" in text
    assert "Mother's partner; parental responsibility: no" in text
    assert carer.get_by_test_id("not-yet-seen").is_visible()
    assert "Child protection plan" in page.locator(f'[data-person-id="{_sid("person", "greaves", "c1")}"]').inner_text()

    go(page, f"#/family/{_sid('family', 'delaney')}")
    flag = page.get_by_test_id("family-flag")
    assert flag.count() == 1 and flag.get_attribute("data-severity") == "high"
    assert "Two no-access visits within 28 days" in flag.inner_text()
    assert page.get_by_test_id("chronology").locator("li").count() == 3


def test_follow_ups_overdue_first_and_completing_needs_a_note(screens_server, browser_context):
    page = first_page(browser_context)
    enrol(page, screens_server)
    go(page, "#/followups")
    cards = page.get_by_test_id("followup")
    assert cards.count() == 3
    assert cards.nth(0).get_attribute("data-overdue") == "true"
    assert "Overdue by 2 days" in cards.nth(0).inner_text()
    assert cards.nth(1).get_attribute("data-overdue") == "false"

    reminders = page.get_by_test_id("push-settings").get_by_test_id("push-enable")
    assert reminders.inner_text() == "Turn on notifications for follow-up reminders"

    first = cards.nth(0)
    done_id = first.get_attribute("data-followup-id")
    first.locator("summary").click()
    first.get_by_test_id("followup-complete").click()
    assert "Enter a note" in page.get_by_test_id("error-summary").inner_text()
    first.get_by_test_id("followup-note").fill("Phoned; visit agreed for Thursday morning.")
    first.get_by_test_id("followup-complete").click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=followup]').length === 2")
    assert "Phoned; visit agreed" in page.get_by_test_id("followup-done").first.inner_text()
    assert wait_outbox_settled(page) == []
    assert server_rows(screens_server, "SELECT status FROM follow_ups WHERE id = ?", [done_id]) == [("done",)]


def test_no_access_visit_shows_repeated_no_access_before_signing_then_takes_addenda(screens_server, browser_context):
    page = first_page(browser_context)
    enrol(page, screens_server)
    visit = _sid("visit", "delaney", "next")
    go(page, f"#/visit/{visit}")
    page.get_by_test_id("no-access").click()
    page.get_by_test_id("no-access-form").wait_for()
    page.locator('[data-item="what-happened"] input[data-value="no-reply"]').check()
    page.locator('[data-item="card-left"] input[data-value="yes"]').check()
    page.locator('[data-testid="outcome-flag"][data-rule="repeated-no-access"]').wait_for()
    page.get_by_test_id("sign").click()
    assert "Sign this no-access visit?" in page.get_by_test_id("sign-confirmation").inner_text()
    page.get_by_test_id("confirm-sign").click()
    page.get_by_test_id("signed-panel").wait_for()
    assert page.get_by_role("heading", name="No-access visit").is_visible()
    assert page.locator("#app input[type=radio]").count() == 0
    # The answers about the visit as a whole and the signature reach the server; none refused.
    assert wait_outbox_settled(page) == []
    assert server_rows(screens_server, "SELECT status FROM visits WHERE id = ?", [visit]) == [("completed",)]
    answered = server_rows(screens_server, "SELECT item_id, subject_id FROM checklist_responses WHERE visit_id = ?"
                           " ORDER BY item_id", [visit])
    assert answered == [("card-left", visit), ("what-happened", visit)]

    page.get_by_test_id("addendum-add").click()
    assert page.get_by_test_id("error-summary").is_visible()
    page.get_by_test_id("addendum-text").fill("Neighbour said the family are staying with relatives this week.")
    page.get_by_test_id("addendum-add").click()
    page.get_by_test_id("addendum").filter(has_text="staying with relatives").wait_for()
    assert wait_outbox_settled(page) == []
    assert server_rows(screens_server, "SELECT count(*) FROM addenda WHERE visit_id = ?", [visit]) == [(1,)]


def test_a_conflict_shows_every_value_with_who_and_when_and_is_resolved_by_combining(screens_server, browser_context):
    page = first_page(browser_context)
    enrol(page, screens_server)
    family, dad = _sid("family", "ashworth"), _sid("person", "ashworth", "dad")
    # Two other phones of the same practitioner change one field from the same version: the
    # server keeps both values as a real conflict, and this phone hears of it on its next pull.
    with httpx.Client(base_url=screens_server.url, timeout=30) as http:
        a, b = (Phone(http, "practitioner1", "demo-password") for _ in range(2))
        a.pull_all()
        b.pull_all()
        for phone, value in ((a, "Polish"), (b, "Polish; English at work")):
            phone.model.set("person", dad, family, "language", value)
        assert a.push()["results"][0]["status"] == "applied"
        assert b.push()["results"][0]["status"] == "conflict"
    wait_outbox_settled(page)
    go(page, "#/today")
    page.get_by_test_id("conflicts-link").click()
    page.get_by_role("heading", name="Conflicts").wait_for()
    card = page.get_by_test_id("conflict")
    assert card.count() == 1
    text = card.inner_text()
    assert "Person details: language" in text and "Tomasz Rudd" in text
    assert "Polish" in text and "Polish; English at work" in text
    assert text.count("You, on another device") == 2 and "newest" in text  # who wrote each value, when

    card.get_by_test_id("conflict-resolve").click()
    assert page.get_by_test_id("error-summary").is_visible()
    card.get_by_test_id("conflict-choice").locator('input[data-value="combine"]').check()
    card.get_by_test_id("conflict-combined").fill("Polish at home; English at work")
    card.get_by_test_id("conflict-resolve").click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=conflict]').length === 0")
    language = page.evaluate(f"async () => (await window.__hearthside.model.get('person', '{dad}')).language")
    assert language == "Polish at home; English at work"
    assert wait_outbox_settled(page) == []
    assert server_rows(screens_server, "SELECT status FROM conflicts WHERE entity_id = ?", [dad]) == [("resolved",)]


def test_a_half_filled_checklist_is_exactly_as_it_was_after_a_lock(screens_server, browser_context):
    page = first_page(browser_context)
    enrol(page, screens_server)
    visit = _sid("visit", "brennan", "next")
    baby = _sid("person", "brennan", "baby")
    go(page, f"#/visit/{visit}")
    page.get_by_test_id("start").click()
    for key in ("mum", "partner", "baby"):
        page.locator(f'#presence-{_sid("person", "brennan", key)} input[data-value="seen"]').check()
    page.get_by_test_id("presence-continue").click()
    page.get_by_test_id("checklist-tasks").wait_for()
    go(page, f"#/visit/{visit}/checklist/child-seen-alone/{baby}")
    page.locator('[data-item="child-seen"] input[data-value="yes"]').first.check()
    page.locator('[data-item="how-gathered"] input[data-value="observation"]').check()
    words = "Ivy gurgled and grabbed my finger"
    page.locator('[data-item="baby-observed"] textarea').fill(words)  # no blur: still in its debounce

    page.get_by_test_id("lock").click()
    page.get_by_test_id("pin").wait_for()
    assert words not in page.content()
    unlock(page, PIN)
    form = page.get_by_test_id("checklist-form")
    form.wait_for()
    assert page.locator('[data-item="child-seen"] input[data-value="yes"]').first.is_checked()
    assert page.locator('[data-item="how-gathered"] input[data-value="observation"]').is_checked()
    assert page.locator('[data-item="baby-observed"] textarea').input_value() == words
    assert page.locator('[data-item="seen-alone"]').is_visible()  # follows from "seen: yes"


def test_graded_answers_child_words_and_recording_prompts_show_before_signing(screens_server, browser_context):
    page = first_page(browser_context)
    enrol(page, screens_server)
    visit = _sid("visit", "greaves", "next")
    child = _sid("person", "greaves", "c1")
    carer = _sid("person", "greaves", "carer")
    go(page, f"#/visit/{visit}")
    page.get_by_test_id("start").click()
    for key, seen in (("mum", "seen"), ("carer", "not-seen"), ("c1", "seen")):
        page.locator(f'#presence-{_sid("person", "greaves", key)} input[data-value="{seen}"]').check()
    page.get_by_test_id("presence-continue").click()
    page.get_by_test_id("checklist-tasks").wait_for()
    hint = page.get_by_test_id(f"task-father-male-carer-{carer}").locator("xpath=..").inner_text()
    assert "not seen at this visit" in hint

    # A graded item shows every grade with its descriptor.
    go(page, f"#/visit/{visit}/checklist/home-conditions/{child}")
    food = page.locator('[data-item="food"]')
    assert "regularly hungry, underweight" in food.inner_text()
    food.locator('input[data-value="4"]').check()
    page.get_by_test_id("checklist-done").click()
    page.get_by_test_id("checklist-tasks").wait_for()  # "done" saves, then returns to the visit

    words = "I had cereal. Mummy was asleep."
    go(page, f"#/visit/{visit}/checklist/child-seen-alone/{child}")
    page.locator('[data-item="child-words"] textarea').fill(words)
    # A tap on "Save and return" while the words are still in the field: pressing blurs the
    # field, which saves and shows "Saved on this phone" for the first time on this page.
    # The button must stay under the finger until release, or the tap is lost.
    done = page.get_by_test_id("checklist-done")
    done.scroll_into_view_if_needed()
    box = done.bounding_box()
    pointer = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
    page.mouse.move(*pointer)
    page.mouse.down()
    page.get_by_test_id("save-status").filter(has_text="Saved on this phone").wait_for()
    under = "([x, y]) => document.elementFromPoint(x, y).closest('[data-testid=checklist-done]') !== null"
    assert page.evaluate(under, pointer)
    page.mouse.up()
    page.get_by_test_id("checklist-tasks").wait_for()  # "done" saves, then returns to the visit

    go(page, f"#/visit/{visit}/checklist/child-seen-alone/{child}")
    assert page.locator('[data-item="child-words"] textarea').input_value() == words
    page.locator('[data-item="child-seen"] input[data-value="yes"]').first.check()
    page.locator('[data-item="spoken-to-alone"] input[data-value="yes"]').first.check()
    page.get_by_test_id("checklist-done").click()
    page.get_by_test_id("checklist-tasks").wait_for()

    go(page, f"#/visit/{visit}/observations")
    page.get_by_test_id("obs-kind").locator('input[data-value="fact"]').check()
    page.get_by_test_id("obs-text").fill("Kayden is doing well at nursery.")
    page.get_by_test_id("obs-add").click()
    page.locator('[data-testid="recording-warning"][data-code="doing-well"]').wait_for()

    go(page, f"#/visit/{visit}/check")
    flags = {el.get_attribute("data-rule") for el in page.get_by_test_id("outcome-flag").all()}
    assert "neglect-grade-serious" in flags
    follow_ups = {el.get_attribute("data-rule") for el in page.get_by_test_id("outcome-followup").all()}
    assert "neglect-grade-serious" in follow_ups
    assert page.locator('[data-testid="recording-warning"][data-code="doing-well"]').count() == 1
    summary = page.locator('[data-testid="summary-checklist"][data-checklist="child-seen-alone"]').inner_text()
    assert f"“{words}”" in summary
    grades = page.locator('[data-testid="summary-checklist"][data-checklist="home-conditions"]').inner_text()
    assert "4 – The child is regularly hungry" in grades


def test_screens_opened_during_the_first_sync_show_the_caseload_when_it_lands(screens_server, browser_context):
    page = first_page(browser_context)
    held = []  # the first pull, kept waiting until the screens have drawn an empty phone
    page.route("**/api/v1/sync/pull*", lambda route: held.append(route) if not held else route.continue_())
    sign_in_and_choose_pin(page, screens_server)
    page.get_by_role("heading", name="Today").wait_for()
    assert page.get_by_test_id("visit-card").count() == 0
    visit = _sid("visit", "delaney", "next")
    page.evaluate("h => { location.hash = h; }", f"#/visit/{visit}")
    page.get_by_role("heading", name="Visit not found").wait_for()
    for _ in range(600):  # the pull is sent by now, or soon on a busy machine
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the first pull was not sent"
    held[0].continue_()
    # Nothing is tapped: the visit appears once the first sync has stored it.
    page.get_by_test_id("no-access").wait_for(timeout=60_000)
