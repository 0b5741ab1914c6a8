"""Fixtures for the platform's browser tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from platform_helpers import enrol, open_app, wait_sw_controls, wait_synced

PWA = Path(__file__).resolve().parents[2] / "pwa"


@pytest.fixture
def pwa_server(tmp_path):
    """The foundation's live server serving this branch's pwa/. With
    HEARTHSIDE_TEST_SERVER_REPO=/path/to/another/worktree the server process runs from there
    (to try the client against a server branch not merged yet, e.g. /work/wt-sync)."""
    from tests.conftest import LiveServer

    conftest = sys.modules[LiveServer.__module__]
    other = os.environ.get("HEARTHSIDE_TEST_SERVER_REPO")
    saved = conftest.REPO
    if other:
        conftest.REPO = Path(other)
    try:
        server = LiveServer(tmp_path / "data", env={"HEARTHSIDE_PWA_DIR": str(PWA)}).start()
    finally:
        conftest.REPO = saved
    yield server
    server.stop()


@pytest.fixture
def app_page(browser_context, pwa_server):
    """The app opened in a fresh profile, enrolled as practitioner1, first sync done."""
    page = open_app(browser_context, pwa_server)
    enrol(page)
    wait_sw_controls(page)
    wait_synced(page)
    return page
