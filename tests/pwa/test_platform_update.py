"""A new version of the app is offered, never forced during a visit, and replaces the old
cache once the person reloads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from platform_helpers import enrol, open_app, wait_sw_controls, wait_synced, wait_until

pytestmark = pytest.mark.browser

PWA = Path(__file__).resolve().parents[2] / "pwa"


@pytest.fixture
def server_with_own_pwa(tmp_path):
    """A live server serving a copy of pwa/, so the test can publish a new version."""
    from tests.conftest import LiveServer

    copy = tmp_path / "pwa"
    shutil.copytree(PWA, copy)
    server = LiveServer(tmp_path / "data", env={"HEARTHSIDE_PWA_DIR": str(copy)}).start()
    yield server, copy
    server.stop()


def test_update_is_offered_but_never_applied_during_a_visit(browser_context, server_with_own_pwa):
    server, copy = server_with_own_pwa
    page = open_app(browser_context, server)
    enrol(page)
    wait_sw_controls(page)
    wait_synced(page)
    old_cache = page.evaluate("caches.keys()")
    page.evaluate("() => { window.__sameDocument = true; window.__hearthside.ui.setVisitInProgress(true); }")

    worker = copy / "sw.js"
    worker.write_text(worker.read_text().replace('const SHELL_VERSION = "', 'const SHELL_VERSION = "new-'))
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    wait_until(page, "() => !!document.getElementById('update-banner')")
    banner = page.locator("#update-banner")
    assert "Update available — reload when you finish this visit" in banner.inner_text()
    assert page.get_by_test_id("reload-update").count() == 0  # no reload offered mid-visit
    assert page.evaluate("window.__sameDocument") is True
    # The new version waits, its cache beside the old one, which the page still uses.
    assert sorted(page.evaluate("caches.keys()")) == sorted([old_cache[0], old_cache[0].replace("shell-", "shell-new-")])

    # The visit is signed: now the person may reload.
    page.evaluate("() => window.__hearthside.ui.setVisitInProgress(false)")
    page.get_by_test_id("reload-update").click()
    wait_until(page, "() => window.__sameDocument === undefined && document.documentElement.dataset.session === 'locked'")
    names = page.evaluate("caches.keys()")
    assert len(names) == 1 and names[0].startswith("hearthside-shell-new-")  # old cache deleted on activate
