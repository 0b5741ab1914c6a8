"""The phone's unlock secret in a real Chromium: the agency's rule from the server decides
what may be chosen, the stored record never says which kind of secret it is, and an old
phone's record still unlocks and is rewritten."""

from __future__ import annotations

import httpx
import pytest

from platform_helpers import PASSWORD, PIN, sign_in, unlock, wait_state, wait_until

pytestmark = pytest.mark.browser

PASSPHRASE = "larch kettle moorland swing"
# Every name the stored unlock record may carry, whichever kind of secret wraps the key.
RECORD_FIELDS = {"id", "device_id", "user_id", "salt", "iterations", "wrapped", "escrow_wrapped", "failures",
                 "enrolled_at"}

RECORD_JS = """async () => {
  const idb = await import('/js/idb.js');
  const c = await import('/js/crypto.js');
  const k = await idb.get('keys', 'device');
  return { fields: Object.keys(k), iterations: k.iterations, current: c.PBKDF2_ITERATIONS,
           wrapped: k.wrapped ? k.wrapped.length : null, salt: Array.from(k.salt || []) };
}"""

# What the phone's code before this change wrote when a PIN was chosen: the kind in clear,
# `pin_wrapped`, 600,000 iterations. The data key comes from the escrow copy.
OLD_RECORD_JS = """async ([pin, escrowB64]) => {
  const idb = await import('/js/idb.js');
  const k = await idb.get('keys', 'device');
  const s = crypto.subtle;
  const raw = Uint8Array.from(atob(escrowB64.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((escrowB64.length + 3) % 4)), (ch) => ch.charCodeAt(0));
  const escrow = await s.importKey('raw', raw, { name: 'AES-KW' }, false, ['wrapKey', 'unwrapKey']);
  const dataKey = await s.unwrapKey('raw', k.escrow_wrapped, escrow, 'AES-KW', { name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const base = await s.importKey('raw', new TextEncoder().encode(pin.normalize('NFKC')), 'PBKDF2', false, ['deriveKey']);
  const wrapping = await s.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 600000 }, base,
    { name: 'AES-KW', length: 256 }, false, ['wrapKey', 'unwrapKey']);
  const old = { id: 'device', device_id: k.device_id, user_id: k.user_id, kind: 'pin', salt, iterations: 600000,
    pin_wrapped: new Uint8Array(await s.wrapKey('raw', dataKey, wrapping, 'AES-KW')),
    escrow_wrapped: k.escrow_wrapped, failures: 0, enrolled_at: k.enrolled_at };
  await idb.put('keys', old);
  return Array.from(salt);
}"""

FAMILIES_JS = "async () => (await window.__hearthside.model.list('family')).map(f => f.family_name)"


def set_policy(server, **policy) -> dict:
    admin = server.login("admin1", PASSWORD)
    r = httpx.patch(f"{server.url}/api/v1/unlock-policy", json=policy,
                    headers={"Authorization": f"Bearer {admin['access_token']}"})
    r.raise_for_status()
    return r.json()


def try_secret(page, secret: str) -> str:
    """Submit a secret on the choose screen and return the error it shows."""
    page.get_by_test_id("new-pin").fill(secret)
    page.get_by_test_id("confirm-pin").fill(secret)
    page.get_by_test_id("set-pin").click()
    return wait_until(page, "() => { const e = document.querySelector('.hs-error-summary, [role=alert]');"
                            " return e && e.innerText; }")


def choose(page, secret: str) -> None:
    page.get_by_test_id("new-pin").fill(secret)
    page.get_by_test_id("confirm-pin").fill(secret)
    page.get_by_test_id("set-pin").click()
    wait_state(page, "unlocked")


def lock(page) -> None:
    page.get_by_test_id("lock").click()
    wait_state(page, "locked")


def assert_record_says_nothing_of_its_kind(page) -> dict:
    rec = page.evaluate(RECORD_JS)
    assert set(rec["fields"]) == RECORD_FIELDS
    assert rec["iterations"] == rec["current"] and rec["wrapped"] == 40  # AES-KW of 32 bytes, whatever the secret
    return rec


def test_an_agency_that_requires_a_passphrase_refuses_a_pin_on_the_phone_and_takes_a_passphrase(
        browser_context, pwa_server):
    assert set_policy(pwa_server, allow_pin=False, min_passphrase_chars=18)["min_passphrase_chars"] == 18
    page = browser_context.new_page()
    page.goto(pwa_server.url + "/?test")
    wait_state(page, "signed-out")
    sign_in(page)
    wait_state(page, "enrol")
    # The limit on the screen is the one the admin set on the server.
    assert "passphrase of 18 or more characters" in page.locator("#app").inner_text()
    assert "passphrase" in try_secret(page, "2468135790").lower()
    assert "at least 18 characters" in try_secret(page, "larch kettle")
    assert session_state(page) == "enrol"
    choose(page, PASSPHRASE)
    assert_record_says_nothing_of_its_kind(page)
    # The one unlock field takes the passphrase as it takes a PIN.
    lock(page)
    unlock(page, PASSPHRASE)
    assert "Ashworth" in page.evaluate(FAMILIES_JS)


def test_a_longer_pin_required_later_makes_the_phone_choose_a_new_one_at_its_next_unlock(app_page, pwa_server):
    page = app_page
    first = assert_record_says_nothing_of_its_kind(page)
    set_policy(pwa_server, min_pin_digits=10)
    # The phone learns the rule online, after an unlock; the secret it knows is checked next time.
    lock(page)
    unlock(page)
    wait_until(page, "async () => { const p = await window.__hearthside.vault.get('meta', 'unlock-policy');"
                     " return p && p.min_pin_digits === 10; }")
    lock(page)
    page.get_by_test_id("pin").fill(PIN)
    page.get_by_test_id("unlock").click()
    wait_state(page, "change-secret")
    assert "PIN of 10 or more digits" in page.locator("#app").inner_text()
    assert "at least 10 digits" in try_secret(page, "24681357")
    # Put away mid-change: it locks (the key's copy goes too) and the old PIN leads back here.
    page.evaluate("() => window.__hearthside.lock.lockNow('hidden')")
    wait_state(page, "locked")
    page.get_by_test_id("pin").fill(PIN)
    page.get_by_test_id("unlock").click()
    wait_state(page, "change-secret")
    choose(page, "2468135790")
    assert "Ashworth" in page.evaluate(FAMILIES_JS)
    second = assert_record_says_nothing_of_its_kind(page)
    assert second["salt"] != first["salt"]
    lock(page)
    page.get_by_test_id("pin").fill(PIN)
    page.get_by_test_id("unlock").click()
    wait_until(page, "() => document.body.innerText.includes('9 tries left')")
    unlock(page, "2468135790")


def test_an_old_phones_pin_record_still_unlocks_and_is_rewritten_without_its_kind(app_page, pwa_server):
    page = app_page
    device_id = page.evaluate("async () => (await (await import('/js/idb.js')).get('keys', 'device')).device_id")
    escrow = pwa_server.login("practitioner1", device_id=device_id)["escrow_key"]
    old_salt = page.evaluate(OLD_RECORD_JS, [PIN, escrow])
    page.reload()
    unlock(page)
    assert "Ashworth" in page.evaluate(FAMILIES_JS)
    rec = assert_record_says_nothing_of_its_kind(page)
    assert rec["salt"] != old_salt and rec["iterations"] > 600000
    lock(page)
    unlock(page)
    assert "Ashworth" in page.evaluate(FAMILIES_JS)


def session_state(page) -> str:
    return page.evaluate("document.documentElement.dataset.session || ''")
