"""Fixtures for the screens' browser tests: a signed-in, enrolled, unlocked app on a real
server, in real headless Chromium."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, LiveServer

PIN = "482916"
# axe-core comes from npm, installed for the tests only (never shipped in pwa/):
#   npm install --prefix tests axe-core
AXE_CANDIDATES = [
    Path(os.environ["HEARTHSIDE_AXE"]) if os.environ.get("HEARTHSIDE_AXE") else None,
    REPO / "tests" / "node_modules" / "axe-core" / "axe.min.js",
    Path("/tmp/node_modules/axe-core/axe.min.js"),
]


@pytest.fixture
def screens_server(tmp_path: Path):
    server = LiveServer(tmp_path / "data").start()
    yield server
    server.stop()


def enrol(page, server, username: str = "practitioner1", pin: str = PIN) -> None:
    """Sign in online, choose a PIN, and wait for the first sync to land the caseload."""
    page.goto(server.url + "/?test#/today")
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill("demo-password")
    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("new-pin").fill(pin)
    page.get_by_test_id("confirm-pin").fill(pin)
    page.get_by_test_id("set-pin").click()
    page.wait_for_function("() => document.documentElement.dataset.session === 'unlocked'", timeout=60_000)
    page.evaluate("() => localStorage.setItem('hearthside.test', '1')")
    wait_families(page)
    install_content(page, server)


def wait_in_page(page, js: str, arg=None, timeout_ms: int = 60_000, interval_ms: int = 250):
    """Poll a condition that may be async (reads IndexedDB) until it is truthy.

    Not page.wait_for_function: it does not await a promise between polls, and a promise
    is truthy, so an async condition "holds" at the first poll whatever it resolves to.
    page.evaluate awaits it."""
    deadline = time.monotonic() + timeout_ms / 1000
    last = None
    while True:
        try:
            last = page.evaluate(js, arg)
        except Exception as exc:  # the page navigating: its context is being replaced
            last = exc
        if last and not isinstance(last, Exception):
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"not true within {timeout_ms} ms: {js} (last: {last!r})")
        page.wait_for_timeout(interval_ms)


def wait_families(page) -> None:
    wait_in_page(
        page,
        # A whole first sync (every page of the caseload), not just its first families.
        "async () => !!window.__hearthside && !!window.__hearthside.sync.status().last_success_at"
        " && (await window.__hearthside.model.list('family')).length > 0",
    )


def install_content(page, server) -> None:
    """Wait for the first sync to have stored the checklists on the phone."""
    wait_in_page(page, "async () => !!(await window.__hearthside.model.content())")


def unlock(page, pin: str = PIN) -> None:
    page.get_by_test_id("pin").fill(pin)
    page.get_by_test_id("unlock").click()
    page.wait_for_function("() => document.documentElement.dataset.session === 'unlocked'", timeout=60_000)


def go(page, hash_: str) -> None:
    """Navigate inside the app and wait until the screen has rendered."""
    page.evaluate(
        """h => new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('screen ' + h + ' did not render within 30 s: '
                + (document.getElementById('app') || document.body).innerText.slice(0, 300))), 30000);
            const done = (ev) => {
                if (ev.detail && ev.detail.hash !== h) return;  // an earlier screen finishing
                document.removeEventListener('hearthside:rendered', done);
                clearTimeout(timer);
                resolve();
            };
            document.addEventListener('hearthside:rendered', done);
            if (location.hash === h) window.__hearthside.router.rerender(); else location.hash = h;
        })""",
        hash_,
    )
    page.locator("#app h1").first.wait_for()


def axe_path() -> Path:
    for p in AXE_CANDIDATES:
        if p and p.exists():
            return p
    pytest.fail("axe-core is not installed: run `npm install --prefix tests axe-core` (see scripts/test)")


def no_horizontal_scroll(page) -> tuple[int, int]:
    return page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")


def wait_outbox_settled(page, timeout_ms: int = 60_000) -> list[dict]:
    """Sync until nothing is waiting or in flight; returns what is left (rejected ops)."""
    wait_in_page(
        page,
        """async () => { await window.__hearthside.sync.now();
            return window.__hearthside.sync.outbox().every((o) => o.status !== 'waiting' && o.status !== 'sent'); }""",
        timeout_ms=timeout_ms, interval_ms=500,
    )
    return page.evaluate("() => window.__hearthside.sync.outbox()")


def server_rows(server, sql: str, params: list | tuple = ()) -> list[tuple]:
    """Read the real server's SQLite file (non-personal columns only are plain text)."""
    conn = sqlite3.connect(server.data_dir / "hearthside.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
