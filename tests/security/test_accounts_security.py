"""Sign-in throttling, account lock-out with admin unlock, and session expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.clock import iso, utcnow
from server.security.throttle import Throttle, ThrottlePolicy
from tests.factories import PASSWORD, auth, login

from .conftest import cli

WRONG = "not the right password"


def _fail(client, username, **headers):
    return client.post("/api/v1/auth/login", json={"username": username, "password": WRONG}, headers=headers)


def test_repeated_failures_for_one_account_get_429_with_retry_after(client, world):
    for _ in range(5):
        assert _fail(client, "prac_a1").status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "prac_a1", "password": PASSWORD})
    assert r.status_code == 429
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["retry-after"]) > 0
    body = r.json()
    assert body["type"] == "urn:hearthside:problem:rate-limited" and body["retry_after"] == int(r.headers["retry-after"])
    # Another account from elsewhere is not held up by it.
    assert client.post("/api/v1/auth/login", json={"username": "prac_a2", "password": PASSWORD}).status_code == 200


def test_failures_from_one_address_across_accounts_get_429(client, world, app):
    app.state.throttle = Throttle(ThrottlePolicy(per_address=6))
    for i in range(6):
        assert _fail(client, f"nobody{i}").status_code == 401
    r = _fail(client, "someone-else")
    assert r.status_code == 429 and "address" in r.json()["detail"] and r.headers["retry-after"]


def test_throttle_waits_pass_with_time():
    now = [1000.0]
    t = Throttle(ThrottlePolicy(account_free_failures=2, account_delay_seconds=10), clock=lambda: now[0])
    t.failed("u", "a")
    t.failed("u", "a")
    with pytest.raises(Exception) as exc:
        t.check("u", "a")
    assert exc.value.headers["Retry-After"] == "10"
    now[0] += 10.5
    t.check("u", "a")
    t.failed("u", "a")
    with pytest.raises(Exception) as exc:
        t.check("u", "a")
    assert exc.value.headers["Retry-After"] == "20"  # doubles


@pytest.fixture
def no_delays(app):
    app.state.throttle = Throttle(ThrottlePolicy(account_free_failures=100, per_address=1000, lockout_after=10))


def test_ten_failures_lock_the_account_until_an_admin_unlocks_it(client, world, store, no_delays):
    for _ in range(10):
        assert _fail(client, "prac_a1").status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "prac_a1", "password": PASSWORD})
    assert r.status_code == 403 and r.json()["type"] == "urn:hearthside:problem:account-locked"
    with store.read() as db:
        actions = [a["action"] for a in db.query("SELECT action FROM audit_events WHERE user_id = ?",
                                                 [world.users["prac_a1"]])]
    assert actions.count("sign-in-failed") == 10 and "account-locked" in actions

    uid = world.users["prac_a1"]
    assert client.post(f"/api/v1/users/{uid}/unlock", headers=auth(login(client, "sup_a1"))).status_code == 403
    assert client.post(f"/api/v1/users/{uid}/unlock", headers=auth(login(client, "admin_b"))).status_code == 404
    r = client.post(f"/api/v1/users/{uid}/unlock", headers=auth(login(client, "admin_a")))
    assert r.status_code == 200, r.text
    assert login(client, "prac_a1")["user"]["id"] == uid


def test_a_success_resets_the_failure_count(client, world, store, no_delays):
    for _ in range(9):
        _fail(client, "prac_a1")
    login(client, "prac_a1")
    for _ in range(9):
        _fail(client, "prac_a1")
    assert login(client, "prac_a1")


def test_the_cli_unlocks_an_account(client, world, store, settings, no_delays):
    for _ in range(10):
        _fail(client, "prac_a2")
    assert client.post("/api/v1/auth/login", json={"username": "prac_a2", "password": PASSWORD}).status_code == 403
    store.close()
    assert "Unlocked prac_a2" in cli("user", "unlock", "prac_a2", data_dir=settings.data_dir, check=True).stdout
    assert login(client, "prac_a2")


def test_refresh_never_extends_a_session_past_its_absolute_lifetime(client, world, store, settings):
    session = login(client, "prac_a1")
    limit = utcnow() + timedelta(days=settings.session_max_days)
    assert session["refresh_expires_at"] <= iso(limit + timedelta(seconds=5))
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert r.status_code == 200
    renewed = r.json()
    assert renewed["refresh_expires_at"] <= session["refresh_expires_at"]
    # A session that began longer ago than the limit cannot be refreshed.
    with store.write() as db:
        db.execute("UPDATE tokens SET session_started_at = ? WHERE kind = 'refresh'",
                   [iso(utcnow() - timedelta(days=settings.session_max_days, minutes=1))])
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": renewed["refresh_token"]})
    assert r.status_code == 401 and "maximum length" in r.json()["detail"]


def test_an_expired_access_token_is_refused(client, world, store):
    session = login(client, "prac_a1")
    with store.write() as db:
        db.execute("UPDATE tokens SET expires_at = ? WHERE kind = 'access'", [iso(utcnow() - timedelta(seconds=1))])
    r = client.get("/api/v1/families", headers=auth(session))
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
