"""The way out of a forgotten PIN and the way to sign out, in real Chromium: "Forgotten your
PIN?" on the locked screen leads to signing in with the password, keeps the work recorded
offline on the phone, and a new PIN is chosen; signing out of the phone waits while a
change has not reached the server, then removes Hearthside's data from the phone."""

from __future__ import annotations

import pytest

from server.demo import _sid
from tests.pwa_screens.conftest import enrol, go, wait_outbox_settled

pytestmark = pytest.mark.browser

FAMILY, VISIT = _sid("family", "delaney"), _sid("visit", "delaney", "next")
NOTE = "Sentinel-Wren: recorded before the PIN was forgotten"
ADD = """async ([visit, family, text]) => (await window.__hearthside.model.create('observation',
    { visit_id: visit, kind: 'fact', text }, { family_id: family })).id"""
SESSION = "() => document.documentElement.dataset.session"


def test_a_forgotten_pin_is_replaced_by_signing_in_and_the_phones_work_is_kept(screens_server, browser_context):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    enrol(page, screens_server)
    page.context.set_offline(True)
    obs = page.evaluate(ADD, [VISIT, FAMILY, NOTE])
    page.get_by_test_id("lock").click()
    page.get_by_test_id("forgot-pin").click()
    page.get_by_test_id("forgot-confirm").click()  # offline: it says a connection is needed, and keeps the PIN
    assert "You need a connection" in page.locator(".hs-error-summary").inner_text()
    assert page.evaluate(SESSION) == "locked"
    page.context.set_offline(False)
    page.get_by_test_id("forgot-confirm").click()
    page.wait_for_function(f"() => document.documentElement.dataset.session === 'recover'")
    assert "Your work on this phone is kept" in page.locator("#app").inner_text()
    page.get_by_test_id("username").fill("practitioner1")
    page.get_by_test_id("password").fill("demo-password")
    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("new-pin").fill("730519")
    page.get_by_test_id("confirm-pin").fill("730519")
    page.get_by_test_id("set-pin").click()
    page.wait_for_function("() => document.documentElement.dataset.session === 'unlocked'", timeout=60_000)
    kept = page.evaluate("async (id) => (await window.__hearthside.model.get('observation', id) || {}).text", obs)
    assert kept == NOTE


def test_signing_out_waits_for_unsent_work_then_removes_the_phones_data(screens_server, browser_context):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    enrol(page, screens_server)
    page.context.set_offline(True)
    page.evaluate(ADD, [VISIT, FAMILY, "Sentinel-Lark: not yet sent"])
    go(page, "#/account")
    page.get_by_test_id("sign-out").click()
    assert "1 change has not reached the server yet" in page.get_by_test_id("error-summary").inner_text()
    assert page.get_by_test_id("confirm-sign-out").is_hidden()
    page.context.set_offline(False)
    assert wait_outbox_settled(page) == []
    page.get_by_test_id("sign-out").click()
    page.get_by_test_id("confirm-sign-out").click()
    page.wait_for_function("() => document.documentElement.dataset.session === 'signed-out'")
    assert page.get_by_test_id("username").is_visible()
    assert page.evaluate("() => typeof window.__hearthside === 'undefined' || window.__hearthside.session.user() === null")
    left = page.evaluate("""async () => { const out = [];
        for (const d of await indexedDB.databases()) {
          const db = await new Promise((ok, no) => { const r = indexedDB.open(d.name); r.onsuccess = () => ok(r.result); r.onerror = no; });
          for (const s of db.objectStoreNames) {
            const n = await new Promise((ok) => { const q = db.transaction(s).objectStore(s).count(); q.onsuccess = () => ok(q.result); });
            if (n) out.push(`${d.name}/${s}: ${n}`);
          }
          db.close();
        }
        return out; }""")
    assert left == []
