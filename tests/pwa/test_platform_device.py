"""The device side in a real Chromium: offline start, encryption at rest, locks, wrong PINs,
and the outbox surviving a browser restart."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import launch_phone
from platform_helpers import PIN, SCAN_JS, choose_pin, sign_in, unlock, wait_state, wait_until

pytestmark = pytest.mark.browser

NOTE = "Sentinel-note-Quillfeather-4471"
WORDS = "Sentinel-words-I-like-the-blue-swing-9902"


def write_records(page) -> dict:
    """Records a practitioner makes in a visit, through the model (visit, observation, draft)."""
    return page.evaluate(
        """async ([note, words]) => {
          const { model } = window.__hearthside;
          const fams = await model.list('family');
          const fam = fams.find(f => f.family_name === 'Ashworth') || fams[0];
          const visit = await model.create('visit', { type: 'targeted', status: 'in-progress', summary: note }, { family_id: fam.id });
          const obs = await model.create('observation', { visit_id: visit.id, kind: 'child-words', text: words }, { family_id: fam.id });
          await model.saveDraft('visit-note-' + visit.id, { note });
          return { family: fam.id, visit: visit.id, observation: obs.id };
        }""",
        [NOTE, WORDS],
    )


def test_offline_reload_opens_the_app_and_the_pin_unlocks_it(browser_context, app_page):
    page = app_page
    browser_context.set_offline(True)
    page.reload()
    wait_state(page, "locked")
    unlock(page)
    assert page.get_by_test_id("lock").is_visible()
    assert page.locator("#nav").is_visible()
    # The caseload loaded before going offline is readable from the vault, offline.
    names = page.evaluate("async () => (await window.__hearthside.model.list('family')).map(f => f.family_name)")
    assert "Ashworth" in names
    status = page.evaluate("() => window.__hearthside.sync.now()")
    assert status["ok"] is False and status["state"] == "offline"
    assert page.get_by_test_id("sync-badge").get_attribute("data-state") == "offline"


def test_nothing_personal_is_in_clear_in_indexeddb_or_the_caches(app_page):
    page = app_page
    ids = write_records(page)
    got = page.evaluate(
        "async (id) => (await window.__hearthside.model.get('observation', id)).text", ids["observation"]
    )
    assert got == WORDS  # readable through the app while unlocked
    scan = page.evaluate(SCAN_JS)
    assert scan["stores"]["hearthside/families"] >= 1 and scan["stores"]["hearthside/outbox"] >= 2
    assert scan["cached"] >= 10
    for sentinel in ["Ashworth", "Megan", "Larch Row", NOTE, WORDS, "demo-password", PIN]:
        assert sentinel not in scan["text"], f"{sentinel!r} found in clear at rest"
    # And the refresh token is not in clear either (it opens the account).
    token = page.evaluate("async () => (await window.__hearthside.vault.get('meta', 'auth')).refresh_token")
    assert len(token) > 10 and token not in scan["text"]
    # The data key is not extractable.
    with pytest.raises(Exception):
        page.evaluate(
            """async () => { const { idb } = await import('/js/idb.js').then(m => ({ idb: m }));
              const k = await idb.get('keys', 'device'); await crypto.subtle.exportKey('raw', k); }"""
        )


def draft_form(page, values: dict | None = None) -> None:
    """A form bound to the drafts store, as a screen builds one (re-run after unlock)."""
    page.evaluate(
        """async () => {
          const { ui } = window.__hearthside;
          const root = document.querySelector('#app .screen') || document.querySelector('#app');
          const form = ui.h('form', { id: 'draft-form' },
            ui.h('input', { id: 'd-text', name: 'note', class: 'hs-input' }),
            ui.h('input', { id: 'd-yes', type: 'radio', name: 'sleep', value: 'yes' }),
            ui.h('input', { id: 'd-no', type: 'radio', name: 'sleep', value: 'no' }),
            ui.h('textarea', { id: 'd-area', name: 'words' }));
          root.replaceChildren(form);
          await ui.bindDraft(form, 'test-draft');
        }"""
    )


def fill_half(page) -> None:
    draft_form(page)
    page.locator("#d-text").fill("Half typed: Pellingworth")
    page.locator("#d-no").check()
    page.locator("#d-area").press_sequentially("She said it")


def assert_restored(page) -> None:
    draft_form(page)
    wait_until(page, "() => document.querySelector('#d-text').value !== ''")
    assert page.locator("#d-text").input_value() == "Half typed: Pellingworth"
    assert page.locator("#d-no").is_checked() and not page.locator("#d-yes").is_checked()
    assert page.locator("#d-area").input_value() == "She said it"


def assert_locked_and_blank(page) -> None:
    wait_state(page, "locked")
    assert "Pellingworth" not in page.locator("body").inner_text()
    assert page.evaluate("() => window.__hearthside.vault.isOpen()") is False
    assert not page.get_by_test_id("lock").is_visible()


def test_lock_button_locks_blanks_and_keeps_the_half_filled_draft(app_page):
    page = app_page
    fill_half(page)
    page.get_by_test_id("lock").click()
    assert_locked_and_blank(page)
    unlock(page)
    assert_restored(page)


def test_hiding_the_page_locks_after_the_grace(app_page):
    # Headless Chromium keeps every tab "visible" (another tab in front, CDP
    # Page.setWebLifecycleState frozen: no visibilitychange or freeze event), so the test
    # overrides document.visibilityState and dispatches the event the browser would send.
    page = app_page
    page.evaluate("localStorage.setItem('hearthside.lock', JSON.stringify({graceMs: 300}))")
    page.reload()
    unlock(page)
    fill_half(page)
    page.evaluate(
        """() => { Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
                   Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
                   document.dispatchEvent(new Event('visibilitychange')); }"""
    )
    assert_locked_and_blank(page)
    page.evaluate(
        """() => { delete document.visibilityState; delete document.hidden;
                   document.dispatchEvent(new Event('visibilitychange')); }"""
    )
    unlock(page)
    assert_restored(page)


def test_inactivity_warns_then_locks_and_keeps_the_draft(app_page):
    page = app_page
    page.evaluate("localStorage.setItem('hearthside.lock', JSON.stringify({idleMs: 4000, warnMs: 2500}))")
    page.reload()
    unlock(page)
    fill_half(page)
    wait_until(page, "() => !!document.querySelector('[data-testid=stay-unlocked]')")
    assert "will lock" in page.locator("#idle-banner").inner_text()
    assert_locked_and_blank(page)
    assert page.evaluate("document.documentElement.dataset.lockReason") == "inactivity"
    unlock(page)
    assert_restored(page)


def test_ten_wrong_pins_make_data_unreadable_and_online_sign_in_recovers_it(browser_context, app_page, pwa_server):
    page = app_page
    browser_context.set_offline(True)  # the visit's work is not synced yet
    ids = write_records(page)
    page.get_by_test_id("lock").click()
    wait_state(page, "locked")
    for i in range(10):
        page.get_by_test_id("pin").fill(f"99999{i}")
        page.get_by_test_id("unlock").click()
        if i < 9:
            wait_until(page, "n => document.body.innerText.includes(n + (n === 1 ? ' try' : ' tries') + ' left')", 9 - i)
    wait_state(page, "recover")
    keys = page.evaluate(
        "async () => { const m = await import('/js/idb.js'); const k = await m.get('keys', 'device');"
        " return { pin: k.wrapped, failures: k.failures, escrow: !!k.escrow_wrapped }; }"
    )
    assert keys["pin"] is None and keys["escrow"]
    # The right PIN no longer opens anything: the PIN-wrapped key is gone.
    err = page.evaluate(
        "async (pin) => { try { await window.__hearthside.session.unlock(pin); return 'opened'; }"
        " catch (e) { return e.message; } }", PIN,
    )
    assert err != "opened" and "sign in" in err.lower()
    # Online again: sign in, choose a new PIN, and everything is still there.
    browser_context.set_offline(False)
    sign_in(page)
    wait_state(page, "enrol")
    choose_pin(page, "13572468")
    obs = page.evaluate("async (id) => (await window.__hearthside.model.get('observation', id)).text", ids["observation"])
    assert obs == WORDS
    draft = page.evaluate("async (id) => await window.__hearthside.model.loadDraft('visit-note-' + id)", ids["visit"])
    assert draft == {"note": NOTE}
    # Its ops were kept too: still queued, or (where the server has sync) already sent.
    outbox = page.evaluate("() => window.__hearthside.sync.outbox().map(e => e.entity_id)")
    if ids["observation"] not in outbox:
        token = pwa_server.login("practitioner1")["access_token"]
        fam = httpx.get(f"{pwa_server.url}/api/v1/families/{ids['family']}",
                        headers={"Authorization": f"Bearer {token}"}).json()
        assert [o["text"] for o in fam["observations"]].count(WORDS) == 1
    else:
        assert ids["visit"] in outbox
    page.get_by_test_id("lock").click()
    unlock(page, "13572468")


def test_outbox_survives_a_browser_restart(playwright_instance, browser_context, app_page, tmp_path):
    page = app_page
    browser_context.set_offline(True)
    ids = write_records(page)
    before = page.evaluate("() => window.__hearthside.sync.outbox()")
    assert [e["status"] for e in before] == ["waiting", "waiting"]
    url = page.url
    browser_context.close()
    context = launch_phone(playwright_instance, tmp_path / "profile", offline=True)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(url)
        unlock(page)
        after = page.evaluate("() => window.__hearthside.sync.outbox()")
        assert [(e["op_id"], e["client_seq"], e["entity_id"]) for e in after] == [
            (e["op_id"], e["client_seq"], e["entity_id"]) for e in before
        ]
        assert {e["entity_id"] for e in after} == {ids["visit"], ids["observation"]}
        assert page.get_by_test_id("sync-badge").inner_text().startswith("Offline")
    finally:
        context.close()
