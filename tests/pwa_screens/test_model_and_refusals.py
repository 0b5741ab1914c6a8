"""What the phone records is what the server takes, and what it does not take is never
invisible. In real Chromium, on one enrolled phone against a real server (each test on
its own family's visit): an observation of every kind the PWA offers reaches the server's
database; one over the server's limit cannot be saved (and one at the limit is applied);
an answer the server refused (its visit was signed on another device meanwhile) shows on
its visit with the reason and goes to the server as an addendum; an observation an earlier
version of the app queued with a kind the server no longer knows is corrected and sent
again; a change held while the family was briefly out of the practitioner's caseload waits
"on the server" (neither synced nor refused) and lands when the family comes back."""

from __future__ import annotations

import httpx
import pytest

from server.demo import _sid
from sync.model import ENTITIES
from tests.pwa_screens.conftest import enrol, go, server_records, start_visit, wait_outbox_settled
from tests.sync.device import Phone

pytestmark = pytest.mark.browser

KINDS = list(ENTITIES["observation"].field("kind").values)
TEXT_LIMIT = ENTITIES["observation"].field("text").max_length


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


@pytest.fixture(scope="module")
def phone(module_phone):
    return module_phone


def test_an_observation_of_every_kind_the_pwa_offers_reaches_the_servers_database(server, phone):
    _, page = phone
    visit = _sid("visit", "castellano", "next")
    start_visit(page, visit)
    page.get_by_test_id("task-observations").click()
    page.get_by_test_id("obs-text").wait_for()
    offered = [el.get_attribute("data-value") for el in page.get_by_test_id("obs-kind").locator("input").all()]
    assert offered == KINDS  # every kind of the server's model, in its order, and no other
    for kind in offered:
        text = f"Sentinel-{kind}: recorded as {kind}"
        page.get_by_test_id("obs-kind").locator(f'input[data-value="{kind}"]').check()
        page.get_by_test_id("obs-text").fill(text)
        page.get_by_test_id("obs-add").click()
        page.get_by_test_id("observation").filter(has_text=text).wait_for()
    assert wait_outbox_settled(page) == []  # none refused, none held
    stored = server_records(server, "observation", "visit_id = ?", [visit])
    assert sorted((o["kind"], o["text"]) for o in stored) == sorted(
        (k, f"Sentinel-{k}: recorded as {k}") for k in KINDS)


def test_an_observation_over_the_servers_limit_cannot_be_saved_and_one_at_the_limit_is_applied(server, phone):
    _, page = phone
    visit = _sid("visit", "delaney", "next")
    family = _sid("family", "delaney")
    start_visit(page, visit)
    page.get_by_test_id("task-observations").click()
    area = page.get_by_test_id("obs-text")
    area.wait_for()
    count = page.locator("#obs-text-count")
    assert area.get_attribute("maxlength") == str(TEXT_LIMIT)  # the server's limit, shown while typing
    assert count.inner_text() == f"You have {TEXT_LIMIT} characters left"

    page.get_by_test_id("obs-kind").locator('input[data-value="fact"]').check()
    area.fill("x" * (TEXT_LIMIT + 5))
    assert len(area.input_value()) == TEXT_LIMIT  # typing stops at the limit
    # Text that arrives past the maxlength (a draft kept from before, some pastes) is counted
    # and refused at saving, not cut off unseen.
    area.evaluate("(el, n) => { el.value = 'x'.repeat(n); el.dispatchEvent(new Event('input')); }", TEXT_LIMIT + 1)
    assert count.inner_text() == "You have 1 character too many"
    page.get_by_test_id("obs-add").click()
    assert "too long" in page.get_by_test_id("error-summary").inner_text()
    assert "too long" in page.get_by_test_id("field-error").inner_text()  # at the field itself
    mine = f"async () => (await window.__hearthside.model.list('observation')).filter((o) => o.visit_id === '{visit}').length"
    assert page.evaluate(mine) == 0
    assert not [o for o in page.evaluate("() => window.__hearthside.sync.outbox()") if o["entity"] == "observation"]

    # The model layer refuses too, whatever screen asks: nothing the server would refuse is queued.
    for values, reason in (({"kind": "fact", "text": "x" * (TEXT_LIMIT + 1)}, f"longer than {TEXT_LIMIT} characters"),
                           ({"kind": "judgement", "text": "an old kind"}, "not one of the allowed values")):
        with pytest.raises(Exception, match=reason):
            page.evaluate("""async ([visit, family, values]) => window.__hearthside.model.create('observation',
                { visit_id: visit, ...values }, { family_id: family })""", [visit, family, values])

    area.fill("y" * TEXT_LIMIT)
    assert count.inner_text() == "You have 0 characters left"
    page.get_by_test_id("obs-add").click()
    page.get_by_test_id("observation").first.wait_for()
    assert wait_outbox_settled(page) == []
    stored = server_records(server, "observation", "visit_id = ?", [visit])
    assert [len(o["text"]) for o in stored] == [TEXT_LIMIT]


def test_an_answer_refused_because_the_visit_was_signed_elsewhere_shows_on_the_visit_and_goes_in_an_addendum(
        server, phone):
    ctx, page = phone
    visit, baby = _sid("visit", "brennan", "next"), _sid("person", "brennan", "baby")
    family = _sid("family", "brennan")
    words = "Sentinel-Pell: Ivy babbled at her mum"
    start_visit(page, visit)
    assert wait_outbox_settled(page) == []  # the visit is started on the server too

    ctx.set_offline(True)
    try:
        page.get_by_test_id(f"task-child-seen-alone-{baby}").click()
        page.locator('[data-item="baby-observed"] textarea').fill(words)
        page.get_by_test_id("checklist-done").click()
        page.get_by_test_id("checklist-tasks").wait_for()
        # Meanwhile the practitioner signs the visit on their other device.
        with httpx.Client(base_url=server.url, timeout=30) as http:
            other = Phone(http, "practitioner1", "demo-password")
            other.pull_all()
            other.model.set("visit", visit, family, "status", "completed")
            assert other.push()["results"][0]["status"] == "applied"
    finally:
        ctx.set_offline(False)

    left = wait_outbox_settled(page)
    assert [(o["entity"], o["status"]) for o in left] == [("checklist_response", "rejected")]
    go(page, f"#/visit/{visit}")
    page.get_by_test_id("visit-signed").wait_for()
    assert page.get_by_test_id("visit-sync").inner_text() == "Not all accepted by the server"  # never "Synced"
    entry = page.get_by_test_id("refused-entry")
    assert entry.count() == 1
    assert words in entry.get_by_test_id("refused-text").inner_text()
    assert "signed" in entry.get_by_test_id("refused-reason").inner_text() and "addendum" in entry.inner_text()
    assert entry.get_by_test_id("refused-correct").count() == 0  # sending it again would be refused again
    assert page.get_by_test_id("answer-refused").count() == 1  # marked in the visit's answers too

    entry.get_by_test_id("refused-to-addendum").click()
    addendum = page.get_by_test_id("addendum-text")
    assert words in addendum.input_value()
    addendum.fill(addendum.input_value() + " (recorded at the visit, after it was signed elsewhere)")
    page.get_by_test_id("addendum-add").click()
    page.get_by_test_id("addendum").first.wait_for()
    assert wait_outbox_settled(page) == []
    go(page, f"#/visit/{visit}")
    assert page.get_by_test_id("refused-entry").count() == 0
    assert page.get_by_test_id("visit-sync").inner_text() == "Synced"
    stored = server_records(server, "addendum", "visit_id = ?", [visit])
    assert len(stored) == 1 and words in stored[0]["text"]


# An op as an earlier version of the app queued it (the lost observation): a kind
# the server's model does not have, written past today's model check.
QUEUE_OLD_OP = """async ([visit, family, text]) => {
    const { sync } = window.__hearthside;
    const id = sync.uuidv7();
    const values = { visit_id: visit, kind: 'judgement', text };
    await sync.exclusive(() => sync.commit({
        records: [{ store: 'observations', id, fid: family,
                    obj: { id, family_id: family, ...values, version: 0, field_versions: {}, deleted: false } }],
        newOps: [{ type: 'create', entity: 'observation', entity_id: id, family_id: family, values }] }));
    return id;
}"""


def test_an_observation_refused_for_an_old_kind_is_corrected_and_sent_again(server, phone):
    _, page = phone
    visit, family = _sid("visit", "greaves", "next"), _sid("family", "greaves")
    text = "Sentinel-Rook: the home was calmer than at the last visit"
    obs_id = page.evaluate(QUEUE_OLD_OP, [visit, family, text])
    left = wait_outbox_settled(page)
    assert [(o["entity"], o["entity_id"], o["status"]) for o in left] == [("observation", obs_id, "rejected")]

    go(page, f"#/visit/{visit}/observations")
    listed = page.get_by_test_id("observation").filter(has_text=text)
    assert "Not accepted by the server" in listed.get_by_test_id("refused-note").inner_text()
    entry = page.get_by_test_id("refused-entry")
    assert "option the server does not offer" in entry.get_by_test_id("refused-reason").inner_text()
    entry.get_by_test_id("refused-correct").click()
    entry.get_by_test_id("refused-kind").locator('input[data-value="professional-judgement"]').check()
    entry.get_by_test_id("refused-send").click()
    assert wait_outbox_settled(page) == []
    go(page, f"#/visit/{visit}/observations")
    assert page.get_by_test_id("refused-entry").count() == 0
    stored = server_records(server, "observation", "id = ?", [obs_id])
    assert [(o["kind"], o["text"]) for o in stored] == [("professional-judgement", text)]


def set_allocation(server, family: str, active: bool) -> None:
    """The admin changes the family's allocation through the one write path (a sync writer)."""
    allocation = server_records(server, "allocation", "family_id = ?", [family])[0]
    with httpx.Client(base_url=server.url, timeout=30) as http:
        admin = Phone(http, "admin1", "demo-password")
        op = admin.model.set("allocation", allocation["id"], family, "active", active)
        op["base_version"] = allocation["field_meta"]["active"]["v"]
        assert admin.push([op])["results"][0]["status"] == "applied"


def test_a_change_held_while_the_family_was_briefly_deallocated_waits_on_the_server_then_lands(server, phone):
    ctx, page = phone
    family = _sid("family", "fairbairn")
    person = server_records(server, "person", "family_id = ?", [family])[0]["id"]
    ctx.set_offline(True)
    try:
        page.evaluate("([p]) => window.__hearthside.model.update('person', p, { language: 'Welsh' })", [person])
        set_allocation(server, family, False)
    finally:
        ctx.set_offline(False)

    left = wait_outbox_settled(page)
    assert [(o["entity_id"], o["status"]) for o in left] == [(person, "held")]
    assert page.evaluate("() => window.__hearthside.sync.status()")["held"] == 1
    go(page, "#/sync")
    row = page.get_by_test_id("sync-record").filter(has_text="Person")
    assert row.get_attribute("data-status") == "held"
    assert "Waiting on the server" in row.inner_text() and "Not accepted" not in row.inner_text()
    assert server_records(server, "person", "id = ?", [person])[0]["language"] != "Welsh"  # kept, not applied

    set_allocation(server, family, True)
    assert server_records(server, "person", "id = ?", [person])[0]["language"] == "Welsh"
    assert wait_outbox_settled(page) == []  # the phone asked again and heard it was applied
    assert page.evaluate("async ([p]) => (await window.__hearthside.model.get('person', p)).language", [person]) == "Welsh"
