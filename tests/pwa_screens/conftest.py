"""Fixtures for the screens' browser tests: a signed-in, enrolled, unlocked app on a real
server, in real headless Chromium."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from server.app import open_store
from server.settings import Settings
from server.storage import records
from tests.conftest import REPO, LiveServer, launch_phone
from tests.pwa.platform_helpers import wait_until  # noqa: F401  (used by other test modules too)

PIN = "482916"
# axe-core comes from npm, installed for the tests only (never shipped in pwa/):
#   npm install --prefix tests axe-core
AXE_CANDIDATES = [
    Path(os.environ["HEARTHSIDE_AXE"]) if os.environ.get("HEARTHSIDE_AXE") else None,
    REPO / "tests" / "node_modules" / "axe-core" / "axe.min.js",
]


@pytest.fixture
def screens_server(tmp_path: Path):
    server = LiveServer(tmp_path / "data").start()
    yield server
    server.stop()


def enrol(page, server, username: str = "practitioner1", pin: str = PIN) -> None:
    """Sign in online, choose a PIN, and wait for the first sync to land the caseload."""
    sign_in_and_choose_pin(page, server, username, pin)
    page.evaluate("() => localStorage.setItem('hearthside.test', '1')")
    wait_families(page)
    install_content(page, server)


def sign_in_and_choose_pin(page, server, username: str = "practitioner1", pin: str = PIN) -> None:
    page.goto(server.url + "/?test#/today")
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill("demo-password")
    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("new-pin").fill(pin)
    page.get_by_test_id("confirm-pin").fill(pin)
    page.get_by_test_id("set-pin").click()
    page.wait_for_function("() => document.documentElement.dataset.session === 'unlocked'", timeout=60_000)


def wait_families(page) -> None:
    wait_until(
        page,
        # A whole first sync (every page of the caseload), not just its first families.
        "async () => !!window.__hearthside && !!window.__hearthside.sync.status().last_success_at"
        " && (await window.__hearthside.model.list('family')).length > 0",
    )


def install_content(page, server) -> None:
    """Wait for the first sync to have stored the checklists on the phone."""
    wait_until(page, "async () => !!(await window.__hearthside.model.content())")


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
    wait_until(
        page,
        """async () => { await window.__hearthside.sync.now();
            return window.__hearthside.sync.outbox().every((o) => o.status !== 'waiting' && o.status !== 'sent'); }""",
        timeout_ms=timeout_ms,
    )
    return page.evaluate("() => window.__hearthside.sync.outbox()")


def server_rows(server, sql: str, params: list | tuple = ()) -> list[tuple]:
    """Read the real server's SQLite file (non-personal columns only are plain text)."""
    conn = sqlite3.connect(server.data_dir / "hearthside.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def server_records(server, entity: str, where: str, params: list) -> list[dict]:
    """Records as the server holds them, personal fields decrypted with its keyring."""
    store = open_store(Settings.from_env({}, data_dir=server.data_dir))
    try:
        with store.read() as db:
            return records.find(db, store.keyring, entity, where, params)
    finally:
        store.close()


def start_visit(page, visit_id: str) -> None:
    """Start the visit and record everyone as seen."""
    go(page, f"#/visit/{visit_id}")
    page.get_by_test_id("start").click()
    page.get_by_test_id("presence-continue").wait_for()
    for radio in page.locator('[data-testid="presence-person"] input[data-value="seen"]').all():
        radio.check()
    page.get_by_test_id("presence-continue").click()
    page.get_by_test_id("checklist-tasks").wait_for()


def run_axe(page) -> list[dict]:
    # The app's CSP forbids inline scripts (add_script_tag), so the test evaluates axe's
    # source through DevTools, which CSP does not govern; the app itself never loads it.
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(axe_path().read_text() + "\n;undefined")
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.fixture(scope="module")
def module_phone(module_server, playwright_instance, tmp_path_factory):
    """One phone enrolled once for a whole module (practitioner1's caseload), its service
    worker ready so the app also opens offline."""
    ctx = launch_phone(playwright_instance, tmp_path_factory.mktemp("module-phone") / "profile")
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    enrol(page, module_server)
    page.evaluate("() => navigator.serviceWorker.ready")
    yield ctx, page
    ctx.close()
