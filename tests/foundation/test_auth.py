from __future__ import annotations

import asyncio
import sqlite3
import threading

from tests.factories import PASSWORD, auth, build_world, login


def _db_text(settings) -> str:
    conn = sqlite3.connect(settings.db_path)
    text = "\n".join(line for line in conn.iterdump())
    conn.close()
    return text


def test_sign_in_returns_tokens_bound_to_an_enrolled_device(client, store):
    build_world(store)
    session = login(client, "prac_a1", device_name="Test phone")
    assert session["user"]["role"] == "practitioner"
    assert session["device"]["name"] == "Test phone"
    assert client.get("/api/v1/me", headers=auth(session)).json()["username"] == "prac_a1"


def test_wrong_password_and_unknown_user_get_the_same_answer(client, store):
    build_world(store)
    wrong = client.post("/api/v1/auth/login", json={"username": "prac_a1", "password": "nope"})
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_passwords_and_tokens_are_never_stored_in_clear(client, store, settings):
    build_world(store)
    session = login(client, "prac_a1")
    dump = _db_text(settings)
    assert PASSWORD not in dump
    assert session["access_token"] not in dump
    assert session["refresh_token"] not in dump
    assert session["escrow_key"] not in dump


def test_a_revoked_devices_token_stops_working_at_once(client, store):
    build_world(store)
    phone = login(client, "prac_a1")
    assert client.get("/api/v1/families", headers=auth(phone)).status_code == 200
    r = client.post(f"/api/v1/devices/{phone['device']['id']}/revoke", headers=auth(login(client, "admin_a")))
    assert r.status_code == 200 and r.json()["revoked_at"]
    refused = client.get("/api/v1/families", headers=auth(phone))
    assert refused.status_code == 401
    assert refused.json()["type"] == "urn:hearthside:problem:device-revoked"
    # Refreshing does not reopen it: it gets an upload-only pair (sync only, no escrow key).
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert r.status_code == 200 and r.json()["scope"] == "upload-only" and r.json()["escrow_key"] is None
    refused = client.get("/api/v1/families", headers=auth(r.json()))
    assert refused.status_code == 401 and refused.json()["type"] == "urn:hearthside:problem:device-revoked"


def test_signing_out_ends_every_token_of_the_device(client, store):
    build_world(store)
    phone = login(client, "prac_a1")
    assert client.post("/api/v1/auth/logout", headers=auth(phone)).status_code == 204
    assert client.get("/api/v1/me", headers=auth(phone)).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}).status_code == 401


def test_refresh_swaps_tokens_and_spends_the_old_refresh_token(client, store):
    build_world(store)
    phone = login(client, "prac_a1")
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert r.status_code == 200
    fresh = r.json()
    assert fresh["device"]["id"] == phone["device"]["id"]
    assert fresh["escrow_key"] == phone["escrow_key"]
    assert client.get("/api/v1/me", headers=auth(fresh)).status_code == 200
    # Presented again (a lost reply) it gets the same pair once; a third time is a replay.
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert again.status_code == 200 and again.json()["refresh_token"] == fresh["refresh_token"]
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert replay.status_code == 401


def test_signing_in_again_on_the_same_device_keeps_its_enrolment_and_escrow_key(client, store):
    build_world(store)
    first = login(client, "prac_a1")
    second = login(client, "prac_a1", device_id=first["device"]["id"])
    assert second["device"]["id"] == first["device"]["id"]
    assert second["escrow_key"] == first["escrow_key"]


def test_a_disabled_user_cannot_sign_in_and_their_sessions_end(client, store, world=None):
    w = build_world(store)
    phone = login(client, "prac_a1")
    r = client.patch(f"/api/v1/users/{w.users['prac_a1']}", json={"disabled": True},
                     headers=auth(login(client, "admin_a")))
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert client.get("/api/v1/me", headers=auth(phone)).status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": "prac_a1", "password": PASSWORD}).status_code == 401


def test_the_demo_password_is_refused_outside_demo_mode(tmp_path):
    from litestar.testing import TestClient

    from server.app import create_app
    from server.demo import seed_demo
    from server.settings import Settings

    app = create_app(Settings.from_env(data_dir=tmp_path / "d", demo=False))
    seed_demo(app.state.db)
    with TestClient(app) as c:
        r = c.post("/api/v1/auth/login", json={"username": "practitioner1", "password": "demo-password"})
        assert r.status_code == 401


def test_new_accounts_need_a_strong_password(client, store):
    build_world(store)
    r = client.post("/api/v1/users", headers=auth(login(client, "admin_a")),
                    json={"username": "newbie", "display_name": "New", "role": "practitioner",
                          "password": "demo-password"})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"body.password"}


def test_the_token_look_up_runs_off_the_event_loop_and_still_refuses_a_revoked_device(client, store, monkeypatch):
    """The token look-up (a database read) runs in a worker thread, never on the event
    loop, so while it waits other requests are answered; it still finds the holder, and a
    revoked phone is still refused."""
    from server.auth import middleware

    build_world(store)
    phone = login(client, "prac_a1")
    real, entered, release = middleware.holder_of, threading.Event(), threading.Event()
    on_loop: list[bool] = []

    def waiting_look_up(store_, digest):
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        entered.set()
        release.wait(30)
        return real(store_, digest)

    monkeypatch.setattr(middleware, "holder_of", waiting_look_up)
    answered: list[tuple[str, int]] = []
    me = threading.Thread(target=lambda: answered.append(("me", client.get("/api/v1/me", headers=auth(phone))
                                                          .status_code)))
    me.start()
    assert entered.wait(10)
    answered.append(("health", client.get("/health").status_code))
    release.set()
    me.join()
    assert answered == [("health", 200), ("me", 200)]
    assert on_loop == [False]

    admin = login(client, "admin_a")
    assert client.post(f"/api/v1/devices/{phone['device']['id']}/revoke", headers=auth(admin)).status_code == 200
    refused = client.get("/api/v1/me", headers=auth(phone))
    assert refused.status_code == 401 and refused.json()["type"] == "urn:hearthside:problem:device-revoked"
