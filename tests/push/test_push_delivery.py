"""The scheduler's requests as a push service sees them: VAPID-signed, aes128gcm-encrypted,
with TTL and Urgency, and carrying nothing personal."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from server.auth.passwords import DEMO_PASSWORD
from server.clock import utcnow
from server.demo import FAMILIES, seed_demo
from server.ids import new_id, stable_id
from server.storage import records

from .helpers import Clock, auth, login, scheduler, subscribe


def _personal_strings(store) -> set[str]:
    """Every name, address, postcode, note and date of birth in the demo data."""
    out: set[str] = set()
    for fam in FAMILIES:
        out |= {fam["name"], fam["address"], fam["postcode"]}
        if fam["note"]:
            out.add(fam["note"])
        for _, _, given, surname, _, _ in fam["people"]:
            out |= {given, surname}
    with store.read() as db:
        for p in records.find(db, store.keyring, "person"):
            for k in ("date_of_birth", "expected_date", "nhs_number"):
                if p.get(k):
                    out.add(p[k])
        for f in records.find(db, store.keyring, "follow_up"):
            out.add(f["text"])
        for f in records.find(db, store.keyring, "flag"):
            out.add(f["reason"])
    return {s for s in out if len(s) >= 3}


def _urgent_flag(store, family_key: str = "greaves") -> str:
    flag_id = new_id()
    with store.write() as db:
        agency = list(db.query("SELECT id FROM agencies"))[0]["id"]
        records.insert(db, store.keyring, "flag", {
            "id": flag_id, "agency_id": agency, "family_id": stable_id("demo", "family", family_key),
            "rule_id": "prevented-from-seeing-child-alone", "severity": "urgent", "status": "open",
            "reason": "A parent prevented the practitioner from seeing Kayden Greaves alone.",
            "answers": [{"item": "not-alone-reason", "value": "prevented"}]})
    return flag_id


def test_scheduler_pushes_verify_against_published_key_decrypt_and_carry_nothing_personal(
    app, client, store, push_service
):
    from .pushservice import verify_vapid

    seed_demo(store)
    published = client.get("/api/v1/push/vapid-public-key").json()["public_key"]
    practitioner = push_service.browser("practitioner")
    supervisor = push_service.browser("supervisor")
    subscribe(client, login(client, "practitioner1", DEMO_PASSWORD), practitioner)
    subscribe(client, login(client, "supervisor1", DEMO_PASSWORD), supervisor)
    flag_id = _urgent_flag(store)

    report = scheduler(app, Clock(utcnow())).tick()

    assert report.leader
    personal = _personal_strings(store)
    assert personal, "the demo data should give us strings to look for"
    payloads = []
    for browser in (practitioner, supervisor):
        received = push_service.to(browser)
        assert received, f"nothing reached the {browser.path} endpoint"
        for req in received:
            claims = verify_vapid(req.headers["authorization"], published)
            assert claims["aud"] == push_service.url
            assert claims["sub"].startswith(("mailto:", "https:"))
            assert claims["exp"] > time.time()
            assert req.headers["content-encoding"] == "aes128gcm"
            assert int(req.headers["ttl"]) > 0
            assert req.headers["urgency"] in ("normal", "high")
            payload = browser.decrypt(req.body)
            payloads.append((browser.path, req.headers["urgency"], payload))
            assert set(payload) <= {"type", "count", "id"}
            text = json.dumps(payload)
            leaked = [s for s in personal if s in text]
            assert not leaked, f"personal data in a push payload: {leaked}"
    # The supervisor got the urgent flag (high urgency); the practitioner their overdue
    # follow-ups (the demo has one of theirs two days overdue).
    assert ("/push/supervisor", "high", {"type": "flag-urgent", "count": 1, "id": flag_id}) in payloads
    overdue_id = stable_id("demo", "follow_up", "delaney")
    assert ("/push/practitioner", "normal", {"type": "follow-up-overdue", "count": 1, "id": overdue_id}) in payloads


def test_a_410_from_the_push_service_removes_the_subscription(app, client, store, push_service):
    seed_demo(store)
    browser = push_service.browser("gone")
    session = login(client, "supervisor1", DEMO_PASSWORD)
    subscribe(client, session, browser)
    push_service.script(browser, 410)
    _urgent_flag(store)

    report = scheduler(app, Clock(utcnow())).tick()

    assert [outcome for _, _, outcome in report.attempts] == ["gone"]
    assert client.get("/api/v1/push/subscription", headers=auth(session)).json()["subscribed"] is False
    with store.read() as db:
        assert list(db.query("SELECT status_code, outcome FROM push_attempts")) == [
            {"status_code": 410, "outcome": "gone"}]
    # A second urgent flag has nowhere to go.
    _urgent_flag(store, "castellano")
    scheduler(app, Clock(utcnow())).tick()
    assert len(push_service.to(browser)) == 1


def test_a_503_is_retried_with_backoff_then_succeeds_and_is_never_sent_twice(app, client, store, push_service):
    seed_demo(store)
    browser = push_service.browser("flaky")
    subscribe(client, login(client, "supervisor1", DEMO_PASSWORD), browser)
    push_service.script(browser, 503, 503)
    flag_id = _urgent_flag(store)
    clock = Clock(utcnow())
    sched = scheduler(app, clock)
    backoff = app.state.settings.push_backoff_seconds

    sched.tick()  # 503
    clock.now += timedelta(seconds=backoff - 1)
    sched.tick()  # not due yet: nothing sent
    assert len(push_service.to(browser)) == 1
    clock.now += timedelta(seconds=1)
    sched.tick()  # 503 again; the next wait doubles
    clock.now += timedelta(seconds=2 * backoff - 1)
    sched.tick()
    assert len(push_service.to(browser)) == 2
    clock.now += timedelta(seconds=1)
    sched.tick()  # 201
    for _ in range(3):
        clock.now += timedelta(minutes=5)
        sched.tick()

    received = push_service.to(browser)
    assert len(received) == 3
    assert [browser.decrypt(r.body) for r in received] == [{"type": "flag-urgent", "count": 1, "id": flag_id}] * 3
    with store.read() as db:
        attempts = list(db.query("SELECT status_code, outcome FROM push_attempts ORDER BY seq"))
        outbox = list(db.query("SELECT status, attempts FROM push_outbox"))
    assert attempts == [{"status_code": 503, "outcome": "retry"}, {"status_code": 503, "outcome": "retry"},
                        {"status_code": 201, "outcome": "sent"}]
    assert outbox == [{"status": "sent", "attempts": 3}]


def test_a_429_waits_at_least_as_long_as_retry_after(app, client, store, push_service):
    seed_demo(store)
    browser = push_service.browser("busy")
    subscribe(client, login(client, "supervisor1", DEMO_PASSWORD), browser)
    push_service.script(browser, (429, {"Retry-After": "300"}))
    _urgent_flag(store)
    clock = Clock(utcnow())
    sched = scheduler(app, clock)

    sched.tick()
    clock.now += timedelta(seconds=299)
    sched.tick()
    assert len(push_service.to(browser)) == 1
    clock.now += timedelta(seconds=1)
    sched.tick()
    assert len(push_service.to(browser)) == 2
    with store.read() as db:
        assert [r["outcome"] for r in db.query("SELECT outcome FROM push_attempts ORDER BY seq")] == ["retry", "sent"]


def test_a_push_service_that_keeps_failing_is_given_up_after_the_configured_attempts(app, client, store, push_service):
    seed_demo(store)
    browser = push_service.browser("down")
    subscribe(client, login(client, "supervisor1", DEMO_PASSWORD), browser)
    push_service.script(browser, *[500] * 20)
    _urgent_flag(store)
    clock = Clock(utcnow())
    sched = scheduler(app, clock)
    for _ in range(12):
        sched.tick()
        clock.now += timedelta(hours=1)
    assert len(push_service.to(browser)) == app.state.settings.push_max_attempts
    with store.read() as db:
        assert [r["status"] for r in db.query("SELECT status FROM push_outbox")] == ["failed"]
