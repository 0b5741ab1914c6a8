"""Fixtures for the platform's browser tests."""

from __future__ import annotations

import pytest

from platform_helpers import enrol, open_app, wait_sw_controls, wait_synced


@pytest.fixture
def app_page(browser_context, live_server):
    """The app opened in a fresh profile, enrolled as practitioner1, first sync done."""
    page = open_app(browser_context, live_server)
    enrol(page)
    wait_sw_controls(page)
    wait_synced(page)
    return page
