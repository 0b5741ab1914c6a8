"""The practitioner reads the supervisor's decision in real Chromium: a visit's urgent flag
closed by the supervisor with a decision, its rationale and a follow-up for the supervisor
is shown on the family (under decisions on closed flags), on the signed visit and on the
flag, each naming who decided and when; the follow-up names its real assignee, never
"You" for someone else; the flag's answers are in words."""

from __future__ import annotations

import re

import httpx
import pytest

from server.demo import _sid
from server.followups.from_visit import flag_id
from server.ids import stable_id
from tests.factories import auth
from tests.conftest import launch_phone
from tests.pwa_screens.conftest import enrol, go, server_rows
from tests.pwa.platform_helpers import wait_until
from tests.sync.device import Phone

pytestmark = pytest.mark.browser

FAMILY, CHILD = _sid("family", "delaney"), _sid("person", "delaney", "c1")
DECISION = "Joint visit with the social worker by Friday"
RATIONALE = "Mason was kept from being seen alone twice; his history of no access weighs in"
FOLLOW_UP = "Supervisor to call the social worker and agree the joint visit"


def signed_visit_with_an_urgent_flag(server) -> tuple[str, str]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        phone = Phone(http, "practitioner1", "demo-password")
        me = phone.session["user"]["id"]
        visit = phone.model.create("visit", FAMILY, {"practitioner_id": me, "type": "targeted",
                                                     "status": "in-progress", "present": [CHILD]})["entity_id"]
        for item, answer in (("child-seen", "yes"), ("seen-alone", "no"), ("spoken-to-alone", "no"),
                             ("not-alone-reason", "prevented")):
            phone.model.create("checklist_response", FAMILY, {
                "visit_id": visit, "checklist_id": "child-seen-alone", "checklist_version": 1,
                "subject_id": CHILD, "item_id": item, "answer": answer},
                entity_id=stable_id(visit, "child-seen-alone", CHILD, item))
        phone.push()
        phone.model.set("visit", visit, FAMILY, "status", "completed")
        assert phone.push()["results"][0]["status"] == "applied"
    return visit, flag_id(visit, "prevented-from-seeing-child-alone", CHILD)


def test_a_closed_flags_decision_is_read_by_the_practitioner_on_the_family_the_visit_and_the_flag(
        screens_server, browser_context, playwright_instance, tmp_path):
    visit, flag = signed_visit_with_an_urgent_flag(screens_server)
    supervisor = server_rows(screens_server, "SELECT id FROM users WHERE username = 'supervisor1'")[0][0]
    with httpx.Client(base_url=screens_server.url, timeout=30) as http:
        headers = auth(screens_server.login("supervisor1"))
        got = http.get(f"/api/v1/flags/{flag}", headers=headers)
        assert got.status_code == 200, got.text
        r = http.post(f"/api/v1/flags/{flag}/decision", headers={**headers, "If-Match": got.headers["etag"]}, json={
            "decision": DECISION, "rationale": RATIONALE, "close": True,
            "follow_ups": [{"text": FOLLOW_UP, "due_date": "2030-01-04", "assignee_id": supervisor}]})
        assert r.status_code == 200, r.text

    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    enrol(page, screens_server, "practitioner1")
    wait_until(page, f"async () => ((await window.__hearthside.model.get('flag', '{flag}')) || {{}}).status === 'closed'")

    go(page, f"#/family/{FAMILY}")
    closed = page.locator(f'[data-testid="family-decisions"] [data-flag-id="{flag}"]')
    text = closed.inner_text()
    assert DECISION in text and RATIONALE in text and "Jo Supervisor" in text and "Closed" in text
    assert "Raised ." not in page.locator("#app").inner_text()  # a flag without a date says nothing of one

    go(page, f"#/visit/{visit}")
    on_visit = page.locator(f'[data-testid="visit-outcome"] [data-flag-id="{flag}"]').inner_text()
    assert DECISION in on_visit and "Decided by" in on_visit and "Jo Supervisor" in on_visit
    hints = [li.inner_text() for li in page.get_by_test_id("outcome-followup").all()]
    assert any(FOLLOW_UP in t and "Jo Supervisor" in t for t in hints), hints  # the supervisor's, by name
    assert any("You" in t for t in hints if FOLLOW_UP not in t), hints          # the rule's, the practitioner's

    go(page, f"#/flags/{flag}")
    detail = page.get_by_test_id("flag-detail")
    assert detail.get_attribute("data-status") == "closed"
    decision = page.get_by_test_id("flag-decision").inner_text()
    assert DECISION in decision and RATIONALE in decision and "Jo Supervisor" in decision
    answers = detail.inner_text()
    assert "not-alone-reason" not in answers and "prevented" not in answers.split("Answers that raised it")[-1].split("\n")[0]
    assert re.search(r"Decided by\s+Jo Supervisor", decision)
    assert page.get_by_test_id("decision-form").count() == 0  # a practitioner reads, never decides

    # The supervisor reading the same signed visit sees the practitioner's follow-up by name.
    sup_ctx = launch_phone(playwright_instance, tmp_path / "profile-supervisor")
    try:
        sup = sup_ctx.pages[0] if sup_ctx.pages else sup_ctx.new_page()
        enrol(sup, screens_server, "supervisor1")
        wait_until(sup, f"async () => !!(await window.__hearthside.model.get('visit', '{visit}'))")
        go(sup, f"#/visit/{visit}")
        theirs = [li.inner_text() for li in sup.get_by_test_id("outcome-followup").all()]
        assert any("Sam Practitioner" in t for t in theirs if FOLLOW_UP not in t), theirs
        assert any("You" in t for t in theirs if FOLLOW_UP in t), theirs  # the one for the supervisor
        assert not any("You" in t for t in theirs if FOLLOW_UP not in t), theirs
    finally:
        sup_ctx.close()
