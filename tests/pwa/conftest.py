"""Fixtures for the platform's browser tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from platform_helpers import enrol, open_app, wait_sw_controls, wait_synced

PWA = Path(__file__).resolve().parents[2] / "pwa"


@pytest.fixture
def pwa_server(tmp_path):
    """A live server serving the repository's pwa/."""
    from tests.conftest import LiveServer

    server = LiveServer(tmp_path / "data", env={"HEARTHSIDE_PWA_DIR": str(PWA)}).start()
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
