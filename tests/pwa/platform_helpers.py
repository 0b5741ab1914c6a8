"""Helpers for the platform's browser tests: enrol, unlock, wait for sync, scan storage."""

from __future__ import annotations

import time

PIN = "246813"
PASSWORD = "demo-password"
WAIT = 60_000  # generous: two cores shared by several engineers


def wait_until(page, js: str, arg=None, timeout_ms: int = WAIT):
    """Poll a condition in the page. (Playwright's wait_for_function evaluates a string with
    eval, which the app's CSP rightly refuses; page.evaluate goes through CDP instead.)"""
    deadline = time.monotonic() + timeout_ms / 1000
    last = None
    while time.monotonic() < deadline:
        try:
            last = page.evaluate(js, arg)
        except Exception as e:  # navigation in progress: the context is being replaced
            last = e
        if last and not isinstance(last, Exception):
            return last
        page.wait_for_timeout(100)
    raise AssertionError(f"condition not met within {timeout_ms} ms: {js} (last: {last!r})")


def open_app(context, server, path: str = "/?test"):
    page = context.pages[0] if context.pages and context.pages[0].url == "about:blank" else context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(server.url + path)
    return page


def session_state(page) -> str:
    return page.evaluate("document.documentElement.dataset.session || ''")


def wait_state(page, state: str) -> None:
    wait_until(page, "s => document.documentElement.dataset.session === s", state)


def sign_in(page, username: str = "practitioner1", password: str = PASSWORD) -> None:
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("sign-in").click()


def enrol(page, username: str = "practitioner1", pin: str = PIN) -> None:
    wait_state(page, "signed-out")
    sign_in(page, username)
    wait_state(page, "enrol")
    choose_pin(page, pin)


def choose_pin(page, pin: str = PIN) -> None:
    page.get_by_test_id("new-pin").fill(pin)
    page.get_by_test_id("confirm-pin").fill(pin)
    page.get_by_test_id("set-pin").click()
    wait_state(page, "unlocked")


def unlock(page, pin: str = PIN) -> None:
    wait_state(page, "locked")
    page.get_by_test_id("pin").fill(pin)
    page.get_by_test_id("unlock").click()
    wait_state(page, "unlocked")


def wait_sw_controls(page) -> None:
    wait_until(page, "() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)")


def wait_synced(page) -> None:
    """Until a sync attempt has finished successfully (the pill never says so on failure)."""
    wait_until(
        page,
        "() => { const h = window.__hearthside; if (!h) return false; const s = h.sync.status();"
        " return s.state === 'idle' && !!s.last_success_at && s.pending === 0; }",
    )


# Reads every IndexedDB database / store and every Cache Storage entry as raw text, so a
# test can look for a sentinel string anywhere at rest. Binary values (ciphertext, IVs) are
# turned into Latin-1 text byte for byte, so plain UTF-8 inside them would still be found.
SCAN_JS = """
async () => {
  const parts = [];
  const bytes = (b) => { let s = ''; for (const x of b) s += String.fromCharCode(x); return s; };
  const walk = (v) => {
    if (v === null || v === undefined) return '';
    if (v instanceof ArrayBuffer) return bytes(new Uint8Array(v));
    if (ArrayBuffer.isView(v)) return bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    if (v instanceof CryptoKey) return '[CryptoKey]';
    if (v instanceof Blob) return '[Blob]';
    if (Array.isArray(v)) return v.map(walk).join('|');
    if (typeof v === 'object') return Object.entries(v).map(([k, x]) => k + '=' + walk(x)).join('|');
    return String(v);
  };
  const stores = {};
  for (const info of await indexedDB.databases()) {
    const db = await new Promise((res, rej) => { const r = indexedDB.open(info.name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    for (const name of db.objectStoreNames) {
      const rows = await new Promise((res, rej) => { const r = db.transaction(name).objectStore(name).getAll(); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      stores[info.name + '/' + name] = rows.length;
      parts.push(rows.map(walk).join('\\n'));
    }
    db.close();
  }
  let cached = 0;
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const req of await cache.keys()) {
      const res = await cache.match(req);
      parts.push(req.url);
      parts.push(bytes(new Uint8Array(await res.arrayBuffer())));
      cached += 1;
    }
  }
  for (let i = 0; i < localStorage.length; i++) { const k = localStorage.key(i); parts.push(k + '=' + localStorage.getItem(k)); }
  return { text: parts.join('\\n'), stores, cached };
}
"""


