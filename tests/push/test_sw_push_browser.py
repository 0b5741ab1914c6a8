"""The service worker's push handling in real Chromium: a push delivered through CDP
shows a generic notification, and opening it lands on the flag's route."""

from __future__ import annotations

import time

import pytest

from tests.conftest import LiveServer

from .cdp_push import deliver_until_shown

FLAG_ID = "0192f0a8-1c2d-7e3f-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def server(tmp_path):
    s = LiveServer(tmp_path / "data", env={"HEARTHSIDE_SCHEDULER_ENABLED": "false"}).start()
    yield s
    s.stop()


def _wait(page, fn, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        # Not time.sleep: Playwright delivers CDP events only while it is called.
        page.wait_for_timeout(200)
    raise AssertionError(f"timed out waiting for {what}")


def _registration_id(context, page, origin: str) -> tuple[object, str]:
    cdp = context.new_cdp_session(page)
    found: dict[str, str] = {}

    def on_update(event):
        for reg in event.get("registrations", []):
            if reg["scopeURL"].startswith(origin) and not reg.get("isDeleted"):
                found["id"] = reg["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", on_update)
    cdp.send("ServiceWorker.enable")
    _wait(page, lambda: "id" in found, what="the service worker registration")
    return cdp, found["id"]


@pytest.mark.browser
def test_a_push_shows_a_generic_notification_and_opening_it_lands_on_the_flag(server, browser_context):
    context = browser_context
    context.grant_permissions(["notifications"], origin=server.url)
    page = context.new_page()
    page.goto(server.url + "/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    _wait(page, lambda: page.evaluate("!!navigator.serviceWorker.controller"), what="the page to be controlled")
    cdp, reg_id = _registration_id(context, page, server.url)

    notes = deliver_until_shown(
        page, cdp, server.url, reg_id, {"type": "flag-urgent", "count": 1, "id": FLAG_ID},
        "navigator.serviceWorker.ready.then(r => r.getNotifications())"
        ".then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag, data: n.data})))")
    assert notes == [{
        "title": "Urgent flag",
        "body": "1 urgent flag needs your attention. Unlock Hearthside to see it.",
        "tag": f"flag-urgent:{FLAG_ID}",
        "data": {"hash": f"#/flags/{FLAG_ID}", "type": "flag-urgent", "id": FLAG_ID},
    }]

    # A reminder with something that is not an opaque id: the id is not put in a URL.
    overdue = deliver_until_shown(
        page, cdp, server.url, reg_id, {"type": "follow-up-overdue", "count": 3, "id": "../../etc"},
        "navigator.serviceWorker.ready.then(r => r.getNotifications({tag: 'follow-up-overdue:all'}))"
        ".then(ns => ns.map(n => ({body: n.body, hash: n.data.hash})))")
    assert overdue == [{"body": "3 follow-ups are overdue. Unlock Hearthside to see it.", "hash": "#/follow-ups"}]

    # Opening the notification (what notificationclick does) takes the open window to the
    # flag's route; the app renders it once unlocked.
    worker = _wait(page, lambda: [w for w in context.service_workers if w.url.startswith(server.url)], what="the worker")[0]
    worker.evaluate(f"""async () => {{
        const [n] = await self.registration.getNotifications({{tag: 'flag-urgent:{FLAG_ID}'}});
        await self.hearthsidePush.open(n);
    }}""")
    _wait(page, lambda: page.url.endswith(f"/#/flags/{FLAG_ID}"), what="the page to open the flag's route")
