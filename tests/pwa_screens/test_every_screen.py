"""Every screen a supervisor can open (they see the whole team's caseload) renders with a
heading and never shows a programming placeholder ("null", "undefined", "NaN")."""

from __future__ import annotations

import pytest

from tests.pwa_screens.conftest import enrol, go

pytestmark = pytest.mark.browser

IDS = "async (entity) => (await window.__hearthside.model.list(entity)).map((r) => r.id)"


def test_every_screen_renders_without_placeholder_text(screens_server, browser_context):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    enrol(page, screens_server, "supervisor1")
    routes = ["#/today", "#/caseload", "#/followups", "#/sync", "#/conflicts", "#/supervisor", "#/review"]
    for entity, route in (("family", "#/family/"), ("visit", "#/visit/"), ("flag", "#/flags/"),
                          ("follow_up", "#/follow-ups/")):
        ids = page.evaluate(IDS, entity)
        assert ids, entity
        routes += [route + i for i in ids]
    for family_id in page.evaluate(IDS, "family"):
        routes.append(f"#/family/{family_id}/genogram")
    children = page.evaluate("""async () => (await window.__hearthside.model.list('person'))
        .filter((p) => p.role === 'child' || p.role === 'unborn').map((p) => [p.family_id, p.id])""")
    routes += [f"#/family/{f}/chronology/{c}" for f, c in children]
    shown_wrong = []
    for route in routes:
        go(page, route)  # waits for the screen's h1
        text = page.locator("#app").inner_text()
        shown_wrong += [(route, word) for word in ("null", "undefined", "NaN", "[object") if word in text]
    assert len(routes) > 40 and shown_wrong == []
