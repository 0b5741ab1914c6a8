"""Delivering a push to a page's service worker through CDP, as a push service would."""

from __future__ import annotations

import json
import time


def deliver_until_shown(page, cdp, origin: str, registration_id: str, payload: dict, shown_js: str,
                        *, attempts: int = 4, seconds_each: float = 15.0):
    """Deliver ``payload`` until ``shown_js`` (evaluated in ``page``) gives something truthy;
    returns it. CDP stands in for the push service's delivery and, like a push service, may
    have to deliver again: on a loaded machine a delivery to a worker still starting is lost."""
    for _ in range(attempts):
        cdp.send("ServiceWorker.deliverPushMessage",
                 {"origin": origin, "registrationId": registration_id, "data": json.dumps(payload)})
        deadline = time.monotonic() + seconds_each
        while time.monotonic() < deadline:
            shown = page.evaluate(shown_js)
            if shown:
                return shown
            page.wait_for_timeout(200)  # not time.sleep: Playwright delivers CDP events only while called
    raise AssertionError(f"nothing shown after {attempts} deliveries of {payload.get('type')}")
