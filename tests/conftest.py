"""Shared fixtures: a real SQLite file per test, the app in-process for API tests, a real
server process on 127.0.0.1 and a real headless Chromium for anything the PWA does."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server.settings import Settings

REPO = Path(__file__).resolve().parent.parent
# Cheap password hashes for the test run (server processes started by tests inherit it).
os.environ.setdefault("HEARTHSIDE_PASSWORD_HASH_LOG2_N", "12")
CHROMIUM = os.environ.get("HEARTHSIDE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # In-process API tests drive time-based work by hand: a background scheduler would
    # write its lease mid-test and make "changes nothing" checks flaky.
    return Settings.from_env(data_dir=tmp_path / "data", demo=True, scheduler_enabled=False)


@pytest.fixture
def app(settings: Settings):
    from server.app import create_app

    return create_app(settings)


@pytest.fixture
def client(app):
    from litestar.testing import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def store(app):
    return app.state.db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A real ``hearthside`` server process on 127.0.0.1."""

    def __init__(self, data_dir: Path, *, demo: bool = True, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.demo = demo
        self.env = {**os.environ, "HEARTHSIDE_DATA_DIR": str(data_dir), **(env or {})}
        self.proc: subprocess.Popen | None = None

    def start(self) -> "LiveServer":
        cmd = [sys.executable, "-m", "server", "demo" if self.demo else "serve", "--port", str(self.port)]
        self.log = open(self.data_dir.parent / f"server-{self.port}.log", "ab")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log.name}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start within 60 s")

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def login(self, username: str, password: str = "demo-password", **extra) -> dict:
        r = httpx.post(self.url + "/api/v1/auth/login", json={"username": username, "password": password, **extra})
        r.raise_for_status()
        return r.json()


@pytest.fixture
def live_server(tmp_path: Path):
    server = LiveServer(tmp_path / "data").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_server(tmp_path_factory):
    """One live demo server for a whole test module (its tests use different families or
    only read), so the module pays for one start."""
    server = LiveServer(tmp_path_factory.mktemp("module-server") / "data").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_instance():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run the README's test command, which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


def launch_phone(playwright, profile: Path, **options):
    """A persistent (installable-capable) Chromium profile sized like a phone's browser;
    launching the same folder again is the browser reopened with everything it kept."""
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        **{"viewport": {"width": 360, "height": 740}, **options},
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


@pytest.fixture
def browser_context(request, playwright_instance, tmp_path: Path):
    context = launch_phone(playwright_instance, tmp_path / "profile")
    yield context
    if getattr(request.node, "call_failed", False):
        # What each page showed when the test failed: a timeout alone does not say.
        for page in context.pages:
            try:
                shown = page.evaluate("() => (document.getElementById('app') || document.body).innerText.slice(0, 1500)")
                state = page.evaluate("""async () => { const hs = window.__hearthside; if (!hs) return null;
                    const out = { session: document.documentElement.dataset.session, sync: hs.sync.status() };
                    try { for (const e of ['family', 'person', 'visit']) out[e] = (await hs.model.list(e)).length; }
                    catch (err) { out.error = String(err); }
                    return out; }""")
                print(f"--- {page.url}\n{shown}\n{state}")
            except Exception as exc:  # the page may be gone with the failure
                print(f"--- {page.url}: {exc}")
    context.close()
