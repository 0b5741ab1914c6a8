"""Sign-in back-off (never a lock-out), admin and CLI unlock, and session expiry."""

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
    assert r.status_code == 429 and r.headers["retry-after"]


@pytest.fixture
def clock(app):
    now = [1_000_000.0]
    app.state.throttle = Throttle(ThrottlePolicy(free_failures=2, delay_seconds=10), clock=lambda: now[0])
    return now


def test_waits_double_with_each_failure_and_pass_with_time(client, world, clock):
    _fail(client, "prac_a1")
    _fail(client, "prac_a1")
    r = _fail(client, "prac_a1")
    assert r.status_code == 429 and r.headers["retry-after"] == "10"
    clock[0] += 10.5
    assert _fail(client, "prac_a1").status_code == 401
    r = _fail(client, "prac_a1")
    assert r.status_code == 429 and r.headers["retry-after"] == "20"  # doubles


def test_no_number_of_failures_locks_an_account_the_right_password_works_after_the_wait(client, world, clock):
    for _ in range(40):
        r = _fail(client, "prac_a1")
        assert r.status_code in (401, 429)
        clock[0] += 2000  # past every wait, so each try is a real failure
    assert login(client, "prac_a1")["user"]["username"] == "prac_a1"


def test_the_same_answers_for_a_known_and_an_unknown_account(client, world, clock):
    known = [_fail(client, "prac_a1") for _ in range(4)]
    unknown = [_fail(client, "nobody-here") for _ in range(4)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401, 401, 429, 429]
    assert [r.json() for r in known] == [r.json() for r in unknown]
    # The right password, while the wait lasts, gets the very same answer.
    right = client.post("/api/v1/auth/login", json={"username": "prac_a1", "password": PASSWORD})
    assert right.status_code == 429 and right.json() == unknown[-1].json()


def test_a_success_resets_the_failure_count(client, world):
    for _ in range(4):
        _fail(client, "prac_a1")
    login(client, "prac_a1")
    for _ in range(4):
        assert _fail(client, "prac_a1").status_code == 401
    assert login(client, "prac_a1")


def test_an_admin_of_the_agency_clears_the_delays_on_an_account(client, world, store):
    for _ in range(5):
        _fail(client, "prac_a1")
    assert client.post("/api/v1/auth/login", json={"username": "prac_a1", "password": PASSWORD}).status_code == 429
    uid = world.users["prac_a1"]
    # (The admins sign in from the same test address: clear its count first.)
    with store.write() as db:
        db.execute("DELETE FROM sign_in_backoff WHERE account IS NULL")
    assert client.post(f"/api/v1/users/{uid}/unlock", headers=auth(login(client, "sup_a1"))).status_code == 403
    assert client.post(f"/api/v1/users/{uid}/unlock", headers=auth(login(client, "admin_b"))).status_code == 404
    r = client.post(f"/api/v1/users/{uid}/unlock", headers=auth(login(client, "admin_a")))
    assert r.status_code == 200, r.text
    assert login(client, "prac_a1")["user"]["id"] == uid
    with store.read() as db:
        actions = [a["action"] for a in db.query("SELECT action FROM audit_events WHERE entity_id = ?", [uid])]
    assert "account-unlocked" in actions


def test_the_cli_clears_the_delays_on_an_account(client, world, store, settings):
    for _ in range(5):
        _fail(client, "prac_a2")
    assert client.post("/api/v1/auth/login", json={"username": "prac_a2", "password": PASSWORD}).status_code == 429
    store.close()
    assert "Unlocked prac_a2" in cli("user", "unlock", "prac_a2", data_dir=settings.data_dir, check=True).stdout
    assert login(client, "prac_a2")


def test_failed_sign_ins_are_audited_without_storing_what_was_typed(client, world, store):
    _fail(client, "prac_a1")
    _fail(client, "Not-A-User-Name")
    with store.read() as db:
        failed = list(db.query("SELECT user_id, detail FROM audit_events WHERE action = 'sign-in-failed'"))
        keys = " ".join(r["key"] for r in db.query("SELECT key FROM sign_in_backoff"))
    assert [r["user_id"] for r in failed] == [world.users["prac_a1"], None]
    assert "not-a-user-name" not in keys.lower() and "prac_a1" not in keys and "127.0.0.1" not in keys


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
