"""The scheduler against a clock the test controls: reminders at 08:00 agency time across
the end of British Summer Time, overdue escalation once, and one sender among two."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

from server.ids import new_id
from server.storage import records
from server.storage.db import Database

from tests.factories import PASSWORD, build_world

from .helpers import Clock, login, scheduler, subscribe


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def _follow_up(store, world, due_at: str, assignee: str = "prac_a1") -> str:
    fid = new_id()
    with store.write() as db:
        records.insert(db, store.keyring, "follow_up", {
            "id": fid, "agency_id": world.agencies["A"], "family_id": world.families["own"],
            "assignee_id": world.users[assignee], "due_at": due_at, "text": "Phone the GP", "status": "open"})
    return fid


def _sent(push_service, browser) -> list[dict]:
    return [browser.decrypt(r.body) for r in push_service.to(browser)]


def test_morning_reminders_follow_london_time_across_the_end_of_summer_time(app, client, store, push_service):
    world = build_world(store)
    browser = push_service.browser("phone")
    subscribe(client, login(client, "prac_a1", PASSWORD), browser)
    # Due on Saturday 24 October 2026 (BST, UTC+1) and Sunday 25th (clocks go back at
    # 02:00 BST): each due at the end of its local day.
    saturday = _follow_up(store, world, "2026-10-24T22:59:00.000Z")
    sunday = _follow_up(store, world, "2026-10-25T23:59:00.000Z")
    clock = Clock(utc("2026-10-24T06:59:00"))
    sched = scheduler(app, clock)

    def at(text: str) -> list[dict]:
        clock.now = utc(text)
        before = len(push_service.to(browser))
        sched.tick()
        sched.tick()  # a repeated tick never sends again
        return _sent(push_service, browser)[before:]

    assert at("2026-10-24T06:59:00") == []
    assert at("2026-10-24T07:00:00") == [{"type": "follow-up-due", "count": 1, "id": saturday}]  # 08:00 BST
    assert at("2026-10-25T07:00:00") == []  # 07:00 GMT: it would be 08:00 had the clocks not gone back
    assert at("2026-10-25T07:59:59") == []
    assert sorted(at("2026-10-25T08:00:00"), key=lambda p: p["type"]) == [  # 08:00 GMT
        {"type": "follow-up-due", "count": 1, "id": sunday},
        {"type": "follow-up-overdue", "count": 1, "id": saturday},
    ]
    assert at("2026-10-25T23:00:00") == []
    assert at("2026-10-26T08:00:00") == [{"type": "follow-up-overdue", "count": 1, "id": sunday}]
    assert at("2026-10-27T08:00:00") == []
    assert len(push_service.to(browser)) == 4


def test_a_follow_up_due_across_the_start_of_summer_time_is_reminded_at_8_local(app, client, store, push_service):
    world = build_world(store)
    browser = push_service.browser("phone")
    subscribe(client, login(client, "prac_a1", PASSWORD), browser)
    # Sunday 29 March 2026: clocks go forward at 01:00 GMT; 08:00 BST is 07:00 UTC.
    fid = _follow_up(store, world, "2026-03-29T22:59:00.000Z")
    clock = Clock(utc("2026-03-29T06:59:00"))
    sched = scheduler(app, clock)
    sched.tick()
    assert _sent(push_service, browser) == []
    clock.now = utc("2026-03-29T07:00:00")
    sched.tick()
    assert _sent(push_service, browser) == [{"type": "follow-up-due", "count": 1, "id": fid}]


def _overdue_flags(store) -> list[dict]:
    with store.read() as db:
        return records.find(db, store.keyring, "flag", "rule_id = 'follow-up-overdue'")


def test_a_follow_up_overdue_beyond_the_agency_limit_raises_one_flag(app, store):
    world = build_world(store)
    fid = _follow_up(store, world, "2026-10-24T22:59:00.000Z")  # due Saturday 24th
    clock = Clock(utc("2026-10-26T22:00:00"))  # Monday: two days overdue
    sched = scheduler(app, clock)
    sched.tick()
    assert _overdue_flags(store) == []
    clock.now = utc("2026-10-27T00:30:00")  # Tuesday: three days
    sched.tick()
    sched.tick()
    clock.now = utc("2026-10-29T09:00:00")
    sched.tick()
    flags = _overdue_flags(store)
    assert len(flags) == 1
    assert flags[0]["subject_id"] == fid and flags[0]["family_id"] == world.families["own"]
    assert flags[0]["severity"] == "high" and flags[0]["status"] == "open"


def test_the_overdue_limit_is_an_agency_setting(app, store):
    world = build_world(store)
    with store.write() as db:
        db.execute("UPDATE agencies SET settings = ? WHERE id = ?",
                   [json.dumps({"overdue_flag_days": 0}), world.agencies["A"]])
    _follow_up(store, world, "2026-10-24T22:59:00.000Z")
    sched = scheduler(app, Clock(utc("2026-10-25T00:30:00")))
    sched.tick()
    assert len(_overdue_flags(store)) == 1


def test_a_completed_follow_up_is_neither_reminded_nor_escalated(app, client, store, push_service):
    world = build_world(store)
    browser = push_service.browser("phone")
    subscribe(client, login(client, "prac_a1", PASSWORD), browser)
    fid = _follow_up(store, world, "2026-10-24T22:59:00.000Z")
    with store.write() as db:
        records.update(db, store.keyring, "follow_up", fid, {"status": "done", "note": "Done"})
    sched = scheduler(app, Clock(utc("2026-10-24T12:00:00")))
    for day in range(6):
        sched.clock.now = utc("2026-10-24T12:00:00") + timedelta(days=day)
        sched.tick()
    assert push_service.to(browser) == []
    assert _overdue_flags(store) == []


def _urgent_flag(store, world, key: str = "own") -> str:
    flag_id = new_id()
    with store.write() as db:
        records.insert(db, store.keyring, "flag", {
            "id": flag_id, "agency_id": world.agencies["A"], "family_id": world.families[key],
            "rule_id": "prevented-from-seeing-child-alone", "severity": "urgent", "status": "open",
            "reason": "Prevented from seeing the child alone."})
    return flag_id


def test_two_schedulers_on_one_database_only_one_sends(app, client, store, settings, push_service):
    world = build_world(store)
    browser = push_service.browser("supervisor")
    subscribe(client, login(client, "sup_a1", PASSWORD), browser)
    first = _urgent_flag(store, world)
    # A second server process: its own connections to the same database file.
    other_store = Database(settings.db_path, store.keyring)
    clock = Clock(datetime.now(timezone.utc))
    a = scheduler(app, clock, holder="process-a")
    b = scheduler(app, clock, store=other_store, holder="process-b")

    barrier = threading.Barrier(2)
    reports = {}

    def run(name, sched):
        barrier.wait()
        reports[name] = sched.tick()
        other_store.close() if name == "b" else None

    threads = [threading.Thread(target=run, args=(n, s)) for n, s in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sorted(r.leader for r in reports.values()) == [False, True]
    assert _sent(push_service, browser) == [{"type": "flag-urgent", "count": 1, "id": first}]
    leader, follower = (a, b) if reports["a"].leader else (b, a)

    # While the leader's lease lasts, the other sends nothing, even for new work.
    second = _urgent_flag(store, world, "other_prac")
    assert follower.tick().leader is False
    assert len(push_service.to(browser)) == 1
    # The leader goes silent; once its lease lapses the other takes over, and sends only
    # what was not sent before.
    clock.now += timedelta(seconds=app.state.settings.scheduler_lease_seconds + 1)
    assert follower.tick().leader is True
    assert leader.tick().leader is False
    assert _sent(push_service, browser) == [
        {"type": "flag-urgent", "count": 1, "id": first}, {"type": "flag-urgent", "count": 1, "id": second}]
