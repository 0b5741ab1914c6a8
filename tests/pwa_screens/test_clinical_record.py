"""The record a review looks for, on one enrolled phone against a real server, in real
Chromium: the chronology and the genogram open offline from the encrypted store for a demo
family, with their events and relationships; before signing, the visit asks for the
practitioner's decisions and rationale, information shared, the interpreter (and warns at
once when a family member interpreted) and each person's ethnicity, signing is refused
until they are recorded, and what was entered offline reaches the server's database."""

from __future__ import annotations

import pytest

from server.demo import _sid
from tests.pwa_screens.conftest import enrol, go, server_records, start_visit, unlock, wait_outbox_settled

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


@pytest.fixture(scope="module")
def phone(module_phone):
    return module_phone


def test_a_childs_chronology_and_the_family_genogram_open_offline(phone):
    ctx, page = phone
    ctx.set_offline(True)
    try:
        page.reload()
        page.get_by_test_id("pin").wait_for()
        unlock(page)
        delaney, mason = _sid("family", "delaney"), _sid("person", "delaney", "c1")
        go(page, f"#/family/{delaney}")
        page.locator(f'[data-testid="open-chronology"][data-child-id="{mason}"]').click()
        page.get_by_test_id("chronology-events").wait_for()
        events = page.get_by_test_id("chronology-event")
        kinds = [e.get_attribute("data-kind") for e in events.all()]
        assert kinds.count("no-access") == 2 and kinds[0] == "born"
        first_visit = page.locator(f'[data-testid="chronology-event"][data-id="{_sid("visit", "delaney", "0")}"]')
        assert first_visit.get_attribute("data-kind") == "visit" and "seen" in first_visit.inner_text()
        assert "Two no-access visits within 28 days." in page.locator('[data-kind="flag"]').inner_text()
        assert "second no-access visit" in page.locator('[data-kind="follow-up"]').inner_text()

        brennan = _sid("family", "brennan")
        go(page, f"#/family/{brennan}/genogram")
        names = page.get_by_test_id("genogram-name").evaluate_all("els => els.map(e => e.textContent)")
        assert sorted(names) == ["Chloe Brennan", "Ivy Brennan", "Jordan Pike"]
        shapes = page.get_by_test_id("genogram-person").evaluate_all("els => els.map(e => e.dataset.shape)")
        assert "square" in shapes  # Jordan, recorded as male
        links = page.get_by_test_id("genogram-link")
        assert links.count() == 2
        # The mother's partner has no parental responsibility: a dashed line, and said in words.
        dashed = links.evaluate_all("els => els.filter(e => e.getAttribute('stroke-dasharray')).map(e => e.textContent)")
        assert dashed == ["Jordan Pike: mother's partner of Ivy Brennan"]
        rels = page.get_by_test_id("genogram-relationships").inner_text()
        assert "mother's partner of Ivy Brennan; parental responsibility: no" in rels
    finally:
        ctx.set_offline(False)


DECISIONS = "Sentinel-Halberd: continue universal offer; review weight in two weeks"
RATIONALE = "Sentinel-Oriel: weight gain is slow but steady; parents engaged"
SHARED_WHAT, SHARED_WITH, SHARED_WHY = "Weight chart", "GP, Dr Ansel (synthetic)", "Review of slow weight gain"


def test_decisions_sharing_interpreter_and_ethnicity_entered_offline_reach_the_servers_database(server, phone):
    ctx, page = phone
    visit = _sid("visit", "ellery", "next")
    mum, arlo = _sid("person", "ellery", "mum"), _sid("person", "ellery", "baby")
    ctx.set_offline(True)
    try:
        # Her record says she needs an interpreter (a change any practitioner may make).
        page.evaluate("""id => window.__hearthside.model.update('person', id, {interpreter_needed: true, language: 'Portuguese'})""", mum)
        start_visit(page, visit)
        assert "Not started" in page.get_by_test_id("task-record").locator("xpath=ancestor::li[1]").inner_text()
        go(page, f"#/visit/{visit}/check")
        page.get_by_test_id("sign").click()
        summary = page.get_by_test_id("error-summary")
        summary.wait_for()
        text = summary.inner_text()
        assert "Record what you decided at this visit" in text and "Record why you made those decisions" in text
        assert "Say whether you shared information" in text and "an interpreter is needed" in text
        assert "Ethnicity: Hannah Ellery" in page.get_by_test_id("recording-warnings").inner_text()

        go(page, f"#/visit/{visit}/record")
        page.get_by_test_id("record-decisions").fill(DECISIONS)
        page.get_by_test_id("record-rationale").fill(RATIONALE)
        page.get_by_test_id("record-information_shared").locator('input[data-value="shared"]').check()
        page.get_by_test_id("record-shared_what").fill(SHARED_WHAT)
        page.get_by_test_id("record-shared_with").fill(SHARED_WITH)
        page.get_by_test_id("record-shared_why").fill(SHARED_WHY)
        # A family member interpreting is recorded honestly, and warned against at once.
        page.get_by_test_id("record-interpreter").locator('input[data-value="family-or-child"]').check()
        assert page.get_by_test_id("interpreter-warning").is_visible()
        page.get_by_test_id("record-interpreter").locator('input[data-value="professional"]').check()
        assert page.get_by_test_id("interpreter-warning").count() == 0
        page.get_by_test_id("record-interpreter_language").fill("Portuguese")
        page.get_by_test_id("record-interpreter_language").press("Tab")
        for pid, value in ((mum, "White British"), (arlo, "Not stated")):
            field = page.locator(f'[data-testid="record-ethnicity"][data-person-id="{pid}"]')
            field.fill(value)
            field.press("Tab")
        page.get_by_test_id("record-done").click()
        page.get_by_test_id("checklist-tasks").wait_for()
        assert "Completed" in page.get_by_test_id("task-record").locator("xpath=ancestor::li[1]").inner_text()

        go(page, f"#/visit/{visit}/check")
        record = page.get_by_test_id("summary-record").inner_text()
        assert DECISIONS in record and SHARED_WITH in record and "A professional interpreter (Portuguese)" in record
        page.get_by_test_id("sign").click()
        page.get_by_test_id("error-summary").wait_for()
        left = page.get_by_test_id("error-summary").inner_text()
        assert "decided" not in left and "interpreter" not in left and "shared" not in left
    finally:
        ctx.set_offline(False)
    assert wait_outbox_settled(page) == []
    [row] = server_records(server, "visit", "id = ?", [visit])
    assert (row["decisions"], row["rationale"], row["information_shared"]) == (DECISIONS, RATIONALE, "shared")
    assert (row["shared_what"], row["shared_with"], row["shared_why"]) == (SHARED_WHAT, SHARED_WITH, SHARED_WHY)
    assert (row["interpreter"], row["interpreter_language"]) == ("professional", "Portuguese")
    people = {p["id"]: p for p in server_records(server, "person", "family_id = ?", [_sid("family", "ellery")])}
    assert people[mum]["ethnicity"] == "White British" and people[arlo]["ethnicity"] == "Not stated"
