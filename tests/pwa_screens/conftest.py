"""Fixtures for the screens' browser tests: a signed-in, enrolled, unlocked app on a real
server, in real headless Chromium.

Until the content branch is merged this branch has neither ``GET /api/v1/content`` nor
``pwa/js/rules.js`` / ``pwa/js/recording.js``. Then (and only then) these fixtures fill the
gap from the content engineer's worktree (``HEARTHSIDE_CONTENT_SRC``, default
/work/wt-content): the PWA is served from a temporary copy with those two files added, and
the content document is put into the app's encrypted store after unlock. Once merged, the
real endpoint and files are used and nothing here is substituted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, LiveServer

PIN = "482916"
CONTENT_SRC = Path(os.environ.get("HEARTHSIDE_CONTENT_SRC", "/work/wt-content"))
ENGINE_FILES = ("rules.js", "recording.js")
# axe-core comes from npm, installed for the tests only (never shipped in pwa/):
#   npm install --prefix tests axe-core
AXE_CANDIDATES = [
    Path(os.environ["HEARTHSIDE_AXE"]) if os.environ.get("HEARTHSIDE_AXE") else None,
    REPO / "tests" / "node_modules" / "axe-core" / "axe.min.js",
    Path("/tmp/node_modules/axe-core/axe.min.js"),
]


def _pwa_dir(tmp_path: Path) -> Path | None:
    """A PWA folder with the content branch's engines, if this branch lacks them."""
    missing = [f for f in ENGINE_FILES if not (REPO / "pwa" / "js" / f).exists()]
    available = [f for f in missing if (CONTENT_SRC / "pwa" / "js" / f).exists()]
    if not available:
        return None
    target = tmp_path / "pwa"
    shutil.copytree(REPO / "pwa", target)
    for f in available:
        shutil.copy(CONTENT_SRC / "pwa" / "js" / f, target / "js" / f)
    # The service worker precaches from the generated list, so it must name the added files.
    gen = REPO / "tests" / "pwa" / "shell_manifest.py"
    code = gen.read_text().replace(
        'PWA = Path(__file__).resolve().parents[2] / "pwa"', f"PWA = Path({str(target)!r})"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return target


def _content_from_worktree() -> dict | None:
    if not (CONTENT_SRC / "server" / "content" / "loader.py").exists():
        return None
    code = (
        "import msgspec, sys; from pathlib import Path;"
        "from server.content.loader import load_content;"
        "sys.stdout.write(msgspec.json.encode(load_content(Path('content'))).decode())"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=CONTENT_SRC, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(CONTENT_SRC)})
    if out.returncode != 0:
        raise RuntimeError(f"content could not be loaded from {CONTENT_SRC}: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


@pytest.fixture
def screens_server(tmp_path: Path):
    pwa = _pwa_dir(tmp_path)
    env = {"HEARTHSIDE_PWA_DIR": str(pwa)} if pwa else None
    server = LiveServer(tmp_path / "data", env=env).start()
    server.content_shim = None
    if httpx.get(server.url + "/api/v1/content").status_code == 404:
        server.content_shim = _content_from_worktree()
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


def wait_families(page) -> None:
    page.wait_for_function(
        "async () => window.__hearthside && (await window.__hearthside.model.list('family')).length > 0",
        timeout=60_000, polling=250,
    )


def install_content(page, server) -> None:
    """Pre-merge only: put the content document where sync would have stored it."""
    if server.content_shim is None:
        page.wait_for_function("async () => !!(await window.__hearthside.model.content())", timeout=60_000, polling=250)
        return
    page.evaluate("c => window.__hearthside.vault.put('content', 'current', c)", server.content_shim)


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
