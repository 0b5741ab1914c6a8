"""Refresh-token rotation against a real server process: a lost reply does not end the
session (the old token gets the same pair once, within the grace); a replay after that
ends every session of the device and is audited; a stolen copy racing the phone (thirty
parallel refreshes with one token) leaves no working token behind."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from server.auth.passwords import DEMO_PASSWORD

REFRESH = "/api/v1/auth/refresh"


def _refresh(url: str, token: str) -> httpx.Response:
    return httpx.post(url + REFRESH, json={"refresh_token": token})


def _works(url: str, session: dict) -> bool:
    r = httpx.get(url + "/api/v1/me", headers={"Authorization": f"Bearer {session['access_token']}"})
    return r.status_code == 200


def _audit_actions(data_dir, device_id: str) -> list[str]:
    conn = sqlite3.connect(data_dir / "hearthside.db")
    try:
        return [r[0] for r in conn.execute("SELECT action FROM audit_events WHERE device_id = ? ORDER BY seq",
                                           [device_id])]
    finally:
        conn.close()


def test_a_lost_refresh_reply_is_retried_with_the_old_token_and_gets_the_same_pair(live_server):
    url = live_server.url
    first = live_server.login("practitioner1", DEMO_PASSWORD)
    lost = _refresh(url, first["refresh_token"])
    assert lost.status_code == 200
    retried = _refresh(url, first["refresh_token"])
    assert retried.status_code == 200, retried.text
    assert retried.json()["access_token"] == lost.json()["access_token"]
    assert retried.json()["refresh_token"] == lost.json()["refresh_token"]
    # The session goes on from the pair the phone finally received.
    assert _works(url, retried.json())
    onward = _refresh(url, retried.json()["refresh_token"])
    assert onward.status_code == 200 and _works(url, onward.json())
    assert "session-refresh-retried" in _audit_actions(live_server.data_dir, first["device"]["id"])


def test_a_replayed_refresh_token_ends_every_session_of_the_device_and_is_audited(live_server):
    url = live_server.url
    phone = live_server.login("practitioner1", DEMO_PASSWORD)
    other_phone = live_server.login("practitioner1", DEMO_PASSWORD)
    second = _refresh(url, phone["refresh_token"]).json()
    third = _refresh(url, second["refresh_token"]).json()  # the successor has been used
    assert _works(url, third)

    replay = _refresh(url, phone["refresh_token"])
    assert replay.status_code == 401
    assert replay.json()["type"] == "urn:hearthside:problem:refresh-token-reused"
    assert not _works(url, third) and not _works(url, second)
    assert _refresh(url, third["refresh_token"]).status_code == 401
    # Only that device: the person's other phone carries on.
    assert _works(url, other_phone)
    assert "refresh-token-reused" in _audit_actions(live_server.data_dir, phone["device"]["id"])


def test_the_old_token_after_the_grace_window_is_a_replay(live_server):
    url = live_server.url
    phone = live_server.login("practitioner1", DEMO_PASSWORD)
    fresh = _refresh(url, phone["refresh_token"]).json()
    # The grace window passes (its record expires).
    conn = sqlite3.connect(live_server.data_dir / "hearthside.db")
    with conn:
        conn.execute("UPDATE refresh_grace SET expires_at = '2000-01-01T00:00:00.000Z'")
    conn.close()
    late = _refresh(url, phone["refresh_token"])
    assert late.status_code == 401 and late.json()["type"] == "urn:hearthside:problem:refresh-token-reused"
    assert not _works(url, fresh) and _refresh(url, fresh["refresh_token"]).status_code == 401


def test_a_stolen_copy_racing_the_phone_leaves_no_working_token(live_server):
    url = live_server.url
    phone = live_server.login("practitioner1", DEMO_PASSWORD)
    barrier = threading.Barrier(30)

    def one(_: int) -> httpx.Response:
        with httpx.Client(timeout=60) as c:
            barrier.wait()
            return c.post(url + REFRESH, json={"refresh_token": phone["refresh_token"]})

    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(one, range(30)))
    granted = [r.json() for r in answers if r.status_code == 200]
    # One rotation and at most its one retry, both with the same pair; the rest are replays.
    assert 1 <= len(granted) <= 2 and len({g["refresh_token"] for g in granted}) == 1
    # The first replay ends the device's sessions; the later ones find them ended.
    refused = [r for r in answers if r.status_code != 200]
    assert {r.status_code for r in refused} == {401}
    assert "urn:hearthside:problem:refresh-token-reused" in {r.json()["type"] for r in refused}
    pair = granted[0]
    assert not _works(url, pair)
    assert _refresh(url, pair["refresh_token"]).status_code == 401
    assert not _works(url, phone)
