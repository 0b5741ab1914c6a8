from __future__ import annotations

from datetime import datetime
from typing import Any

from server.push.scheduler import Scheduler
from server.push.sender import Sender


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def login(client, username: str, password: str) -> dict[str, Any]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def auth(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access_token']}"}


def subscribe(client, session: dict[str, Any], browser) -> dict[str, Any]:
    r = client.post("/api/v1/push/subscription", json=browser.subscription(), headers=auth(session))
    assert r.status_code == 201, r.text
    return r.json()


def scheduler(app, clock: Clock, store=None, holder: str | None = None) -> Scheduler:
    settings = app.state.settings
    return Scheduler(store or app.state.db, settings, Sender(app.state.vapid, settings.vapid_subject),
                     clock=clock, holder=holder)
