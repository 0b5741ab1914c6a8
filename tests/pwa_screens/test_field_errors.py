"""Errors in the NHS.UK pattern, in real Chromium: a form that cannot be saved shows the
error summary (a link to each field) and, at each field in error, the message under its
label and a red border, read out with the field; a field put right loses its error at the
next try while the others keep theirs; a group of radios carries its error at the legend."""

from __future__ import annotations

import pytest

from server.demo import _sid
from tests.pwa_screens.conftest import enrol, go

pytestmark = pytest.mark.browser

RED = "rgb(213, 40, 27)"
FIELD = """(id) => { const el = document.getElementById(id); const s = getComputedStyle(el);
    const err = (el.getAttribute('aria-describedby') || '').split(' ').map((x) => document.getElementById(x))
        .filter((x) => x && x.dataset.fieldError !== undefined).map((x) => x.textContent);
    return {invalid: el.getAttribute('aria-invalid'), border: s.borderTopColor, width: s.borderTopWidth,
            group: el.closest('.hs-form-group').classList.contains('hs-form-group--error'), errors: err}; }"""


def test_a_form_in_error_shows_the_summary_and_the_message_and_border_at_each_field(screens_server, browser_context):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    enrol(page, screens_server, "supervisor1")
    go(page, f"#/flags/{_sid('flag', 'delaney')}")
    page.get_by_test_id("save-decision").click()
    summary = page.get_by_test_id("error-summary")
    assert summary.is_visible()
    assert [a.inner_text() for a in summary.locator("a").all()] == [
        "Enter the decision", "Enter the rationale for the decision"]
    decision_id = page.get_by_test_id("decision").get_attribute("id")
    rationale_id = page.get_by_test_id("rationale").get_attribute("id")
    for field_id, message in ((decision_id, "Enter the decision"), (rationale_id, "Enter the rationale for the decision")):
        shown = page.evaluate(FIELD, field_id)
        assert shown["invalid"] == "true" and shown["group"] and shown["border"] == RED and shown["width"] == "4px"
        assert shown["errors"] == [f"Error: {message}"]
    summary.locator("a").nth(1).click()
    assert page.evaluate("() => document.activeElement.id") == rationale_id  # the link takes you to the field

    page.get_by_test_id("decision").fill("Joint visit with the social worker")
    page.get_by_test_id("save-decision").click()
    assert [a.inner_text() for a in page.get_by_test_id("error-summary").locator("a").all()] == [
        "Enter the rationale for the decision"]
    fixed = page.evaluate(FIELD, decision_id)
    assert fixed["invalid"] is None and not fixed["group"] and fixed["border"] != RED and fixed["errors"] == []
    assert page.evaluate(FIELD, rationale_id)["errors"] == ["Error: Enter the rationale for the decision"]
    assert page.get_by_test_id("field-error").count() == 1


def test_who_is_present_unanswered_shows_its_error_at_each_persons_question(screens_server, browser_context):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    enrol(page, screens_server)
    go(page, f"#/visit/{_sid('visit', 'delaney', 'next')}")
    page.get_by_test_id("start").click()
    page.get_by_test_id("presence-continue").click()
    people = page.get_by_test_id("presence-person").count()
    assert people >= 2
    errors = page.get_by_test_id("field-error")
    assert errors.count() == people and page.get_by_test_id("error-summary").locator("a").count() == people
    first = errors.first.text_content()
    assert first.startswith("Error: Say whether you saw ")
    # At the legend of the person's own question, and read out with it.
    assert page.evaluate("""() => { const e = document.querySelector('[data-field-error]');
        const fs = e.closest('fieldset'); return !!fs && fs.getAttribute('aria-describedby').includes(e.id); }""")
    page.locator('[data-testid="presence-person"]').first.locator('input[data-value="seen"]').check()
    page.get_by_test_id("presence-continue").click()
    assert page.get_by_test_id("field-error").count() == people - 1


def test_choosing_a_pin_that_does_not_match_shows_the_error_at_the_second_entry(screens_server, browser_context):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    page.goto(screens_server.url + "/?test#/today")
    page.get_by_test_id("username").fill("practitioner1")
    page.get_by_test_id("password").fill("demo-password")
    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("new-pin").fill("482916")
    page.get_by_test_id("confirm-pin").fill("482917")
    page.get_by_test_id("set-pin").click()
    page.get_by_test_id("field-error").wait_for()
    shown = page.evaluate(FIELD, "confirm-pin")
    assert shown["invalid"] == "true" and shown["group"] and shown["border"] == RED
    assert shown["errors"] == ["Error: The two entries do not match."]
    assert page.locator(".hs-error-summary a").inner_text() == "The two entries do not match."
    page.get_by_test_id("confirm-pin").fill("482916")
    page.get_by_test_id("set-pin").click()
    page.wait_for_function("() => document.documentElement.dataset.session === 'unlocked'", timeout=60_000)
