"""Two practitioners' phones (two browser profiles) edit the same family offline: on
reconnect the different fields merge, the field both changed is a conflict on both phones,
one of them resolves it, and both converge with every observation; the same for a child's
words both wrote down at one visit (a conflict shown at the answer, never a refusal)."""

from __future__ import annotations

import httpx
import pytest

from server.demo import _sid
from tests.conftest import launch_phone
from tests.pwa_screens.conftest import enrol, go, server_records, server_rows, start_visit, wait_outbox_settled

pytestmark = pytest.mark.browser

FAMILY = _sid("family", "ashworth")
DAD = _sid("person", "ashworth", "dad")
VISIT = _sid("visit", "ashworth", "next")
EDIT = """async ([dad, visit, family, changes, note]) => {
    const { model } = window.__hearthside;
    await model.update('person', dad, changes);
    await model.create('observation', { visit_id: visit, kind: 'fact', text: note }, { family_id: family });
}"""
DAD_NOW = "async (dad) => { const p = await window.__hearthside.model.get('person', dad); return [p.language, p.ethnicity, p.interpreter_needed]; }"
NOTES = """async (family) => (await window.__hearthside.model.list('observation'))
    .filter((o) => o.family_id === family).map((o) => o.text).sort()"""


def test_two_phones_offline_merge_different_fields_and_converge_after_one_resolves_the_conflict(
        screens_server, playwright_instance, tmp_path):
    admin = screens_server.login("admin1")
    practitioner2 = server_rows(screens_server, "SELECT id FROM users WHERE username = 'practitioner2'")[0][0]
    r = httpx.post(f"{screens_server.url}/api/v1/families/{FAMILY}/allocations", json={"practitioner_id": practitioner2},
                   headers={"Authorization": f"Bearer {admin['access_token']}"})
    assert r.status_code in (200, 201), r.text  # the family is now on both caseloads

    phones = {}
    try:
        for name in ("practitioner1", "practitioner2"):
            ctx = launch_phone(playwright_instance, tmp_path / f"profile-{name}")
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            enrol(page, screens_server, name)
            phones[name] = (ctx, page)
        (ctx1, a), (ctx2, b) = phones["practitioner1"], phones["practitioner2"]
        ctx1.set_offline(True)
        ctx2.set_offline(True)
        a.evaluate(EDIT, [DAD, VISIT, FAMILY, {"language": "Polish", "ethnicity": "White Polish"}, "Sentinel-A: cot seen"])
        b.evaluate(EDIT, [DAD, VISIT, FAMILY, {"language": "Polish; English at work", "interpreter_needed": True},
                          "Sentinel-B: father at work"])

        ctx1.set_offline(False)
        assert wait_outbox_settled(a) == []
        ctx2.set_offline(False)
        left = wait_outbox_settled(b)
        assert [(o["entity"], o["field"], o["status"]) for o in left] == [("person", "language", "conflict")]
        wait_outbox_settled(a)  # a hears of the conflict on its next pull

        for page in (a, b):
            go(page, "#/conflicts")
            card = page.get_by_test_id("conflict")
            assert card.count() == 1
            assert "Polish" in card.inner_text() and "Polish; English at work" in card.inner_text()

        card = a.get_by_test_id("conflict")
        card.get_by_test_id("conflict-choice").locator('input[data-value="combine"]').check()
        card.get_by_test_id("conflict-combined").fill("Polish at home; English at work")
        card.get_by_test_id("conflict-resolve").click()
        a.wait_for_function("() => document.querySelectorAll('[data-testid=conflict]').length === 0")
        assert wait_outbox_settled(a) == []
        wait_outbox_settled(b)

        expected = ["Polish at home; English at work", "White Polish", True]
        for page in (a, b):
            assert page.evaluate(DAD_NOW, DAD) == expected  # both fields merged, the conflict resolved
            assert page.evaluate(NOTES, FAMILY)[:2] == ["Sentinel-A: cot seen", "Sentinel-B: father at work"]
            go(page, "#/conflicts")
            assert page.get_by_test_id("conflict").count() == 0
    finally:
        for ctx, _ in phones.values():
            ctx.close()
    assert server_rows(screens_server, "SELECT status FROM conflicts WHERE entity_id = ?", [DAD]) == [("resolved",)]
    assert server_rows(screens_server, "SELECT count(*) FROM observations WHERE family_id = ? AND visit_id = ?",
                       [FAMILY, VISIT]) == [(2,)]


def _answer_words(page, visit: str, child: str, words: str) -> None:
    go(page, f"#/visit/{visit}/checklist/child-seen-alone/{child}")
    page.locator('[data-item="child-words"] textarea').fill(words)
    page.get_by_test_id("checklist-done").click()
    page.get_by_test_id("checklist-tasks").wait_for()


def test_two_practitioners_record_a_childs_words_offline_and_both_reach_the_server_as_one_conflict(
        screens_server, playwright_instance, tmp_path):
    """The issue's case: on a joint child-protection visit both practitioners write down what
    the child said, offline. Neither answer is refused or lost: the second is a conflict that
    both phones show at the answer itself, and one practitioner's decision reaches both."""
    family, visit, child = _sid("family", "greaves"), _sid("visit", "greaves", "next"), _sid("person", "greaves", "c1")
    admin = screens_server.login("admin1")
    practitioner2 = server_rows(screens_server, "SELECT id FROM users WHERE username = 'practitioner2'")[0][0]
    r = httpx.post(f"{screens_server.url}/api/v1/families/{family}/allocations", json={"practitioner_id": practitioner2},
                   headers={"Authorization": f"Bearer {admin['access_token']}"})
    assert r.status_code in (200, 201), r.text
    words_a = "Sentinel-Wren: I like my nursery. Mummy shouts."
    words_b = "Sentinel-Finch: I like nursery. Mummy shouts at Craig."
    decided = "I like my nursery. Mummy shouts at Craig."
    field = '[data-item="child-words"]'
    phones = []
    try:
        for name in ("practitioner1", "practitioner2"):
            ctx = launch_phone(playwright_instance, tmp_path / f"profile-{name}")
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            enrol(page, screens_server, name)
            phones.append((ctx, page))
        (ctx1, a), (ctx2, b) = phones
        start_visit(a, visit)
        assert wait_outbox_settled(a) == []
        wait_outbox_settled(b)  # the second phone has the started visit

        ctx1.set_offline(True)
        ctx2.set_offline(True)
        _answer_words(a, visit, child, words_a)
        _answer_words(b, visit, child, words_b)
        ctx1.set_offline(False)
        assert wait_outbox_settled(a) == []
        ctx2.set_offline(False)
        left = wait_outbox_settled(b)
        assert [(o["entity"], o["status"]) for o in left] == [("checklist_response", "conflict")]  # not refused
        wait_outbox_settled(a)

        for page in (a, b):
            go(page, "#/conflicts")
            card = page.get_by_test_id("conflict")
            assert card.count() == 1
            assert words_a in card.inner_text() and words_b in card.inner_text()
            go(page, f"#/visit/{visit}/checklist/child-seen-alone/{child}")
            assert page.locator(field).get_by_test_id("conflict-note").count() == 1  # marked at the answer
            go(page, f"#/visit/{visit}/check")
            assert page.get_by_test_id("answer-conflict").count() == 1

        go(a, "#/conflicts")  # and left open there
        other = server_rows(screens_server, "SELECT display_name FROM users WHERE username = 'practitioner2'")[0][0]
        assert other in a.get_by_test_id("conflict").inner_text()  # named, not "a colleague"
        assert "You, on this phone" in a.get_by_test_id("conflict").inner_text()

        go(b, "#/conflicts")
        card = b.get_by_test_id("conflict")
        card.get_by_test_id("conflict-choice").locator('input[data-value="combine"]').check()
        card.get_by_test_id("conflict-combined").fill(decided)
        card.get_by_test_id("conflict-resolve").click()
        b.get_by_test_id("conflict").wait_for(state="detached")
        # The decision is sent at once: the server has it without anyone asking for a sync.
        for _ in range(60):
            if server_rows(screens_server, "SELECT status FROM conflicts WHERE family_id = ?", [family]) == [("resolved",)]:
                break
            b.wait_for_timeout(500)
        assert server_rows(screens_server, "SELECT status FROM conflicts WHERE family_id = ?", [family]) == [("resolved",)]
        # The first phone's open conflicts screen follows its next sync, without navigating.
        a.evaluate("() => window.__hearthside.sync.now()")
        a.get_by_test_id("conflict").wait_for(state="detached")
        assert wait_outbox_settled(b) == []
        for page in (a, b):
            go(page, f"#/visit/{visit}/checklist/child-seen-alone/{child}")
            assert page.locator(f"{field} textarea").input_value() == decided
            assert page.locator(field).get_by_test_id("conflict-note").count() == 0
        go(a, f"#/family/{family}")
        assert a.title() == "Family – Hearthside"  # the family's name never in the tab title
    finally:
        for ctx, _ in phones:
            ctx.close()
    answers = [r for r in server_records(screens_server, "checklist_response", "visit_id = ?", [visit])
               if r["item_id"] == "child-words"]
    assert [r["answer"] for r in answers] == [decided]
    assert server_rows(screens_server, "SELECT status FROM conflicts WHERE entity_id = ?", [answers[0]["id"]]) == [("resolved",)]
    assert server_rows(screens_server, "SELECT count(*) FROM sync_ops WHERE status = 'rejected'") == [(0,)]
