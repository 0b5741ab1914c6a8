"""Rules on the server: a completed visit's answers become follow-ups and flags, once."""

from __future__ import annotations

from datetime import datetime, timezone

from server.content.loader import load_content
from server.followups.from_visit import apply_visit_outcome, flag_id, follow_up_id
from server.ids import new_id, stable_id
from server.storage import records

from tests.factories import PASSWORD, build_world

from .helpers import login, subscribe


def _completed_visit(store, world, completed_at: str, reason: str = "prevented") -> str:
    """prac_a1's visit to their family where the child was seen but not alone."""
    visit_id = new_id()
    child = world.persons["own"]
    with store.write() as db:
        base = {"agency_id": world.agencies["A"], "family_id": world.families["own"]}
        records.insert(db, store.keyring, "visit", {
            **base, "id": visit_id, "practitioner_id": world.users["prac_a1"], "type": "targeted",
            "status": "completed", "completed_at": completed_at, "signed_by": world.users["prac_a1"],
            "present": [child]})
        for item, answer in (("child-seen", "yes"), ("seen-alone", "no"), ("spoken-to-alone", "no"),
                             ("not-alone-reason", reason)):
            records.insert(db, store.keyring, "checklist_response", {
                **base, "id": stable_id(visit_id, "child-seen-alone", child, item), "visit_id": visit_id,
                "checklist_id": "child-seen-alone", "checklist_version": 1, "subject_id": child,
                "item_id": item, "answer": answer})
    return visit_id


def test_a_child_prevented_from_being_seen_alone_raises_an_urgent_flag_and_a_follow_up_once(app, store, settings):
    content = load_content(settings.content_dir)
    world = build_world(store)
    # 23:30 UTC on 25 October 2026 is 23:30 GMT: the visit's local day is the 25th.
    visit_id = _completed_visit(store, world, "2026-10-25T23:30:00.000Z")
    child = world.persons["own"]

    with store.write() as db:
        created = apply_visit_outcome(db, store.keyring, content, visit_id)
    with store.write() as db:
        again = apply_visit_outcome(db, store.keyring, content, visit_id)

    rule = "prevented-from-seeing-child-alone"
    assert flag_id(visit_id, rule, child) in created["flags"]
    assert follow_up_id(visit_id, rule, child) in created["follow_ups"]
    assert again == {"follow_ups": [], "flags": []}
    with store.read() as db:
        flag = records.get(db, store.keyring, "flag", flag_id(visit_id, rule, child))
        fu = records.get(db, store.keyring, "follow_up", follow_up_id(visit_id, rule, child))
        assert db["flags"].count == len(created["flags"])
    assert flag["severity"] == "urgent" and flag["status"] == "open" and flag["subject_id"] == child
    assert {"checklist": "child-seen-alone", "subject": child, "item": "not-alone-reason",
            "value": "prevented"} in flag["answers"]
    assert fu["assignee_id"] == world.users["prac_a1"]
    assert fu["due_at"] == "2026-10-25T23:59:00.000Z"  # due the same local day (due_in_days 0)


def test_an_incomplete_visit_raises_nothing(app, store, settings):
    content = load_content(settings.content_dir)
    world = build_world(store)
    visit_id = _completed_visit(store, world, "2026-10-25T10:00:00.000Z")
    with store.write() as db:
        records.update(db, store.keyring, "visit", visit_id, {"status": "completed"})
        db.execute("UPDATE visits SET status = 'in-progress' WHERE id = ?", [visit_id])
        assert apply_visit_outcome(db, store.keyring, content, visit_id) == {"follow_ups": [], "flags": []}


def test_the_scheduler_applies_rules_to_a_newly_completed_visit_and_pushes_the_urgent_flag(
    app, client, store, settings, push_service
):
    app.state.content = load_content(settings.content_dir)
    world = build_world(store)
    browser = push_service.browser("supervisor")
    subscribe(client, login(client, "sup_a1", PASSWORD), browser)
    now = datetime.now(timezone.utc)
    visit_id = _completed_visit(store, world, now.isoformat().replace("+00:00", "Z"))

    # The app's own scheduler, which reads the content loaded at start-up.
    report = app.state.scheduler.tick(now)

    assert report.visits_applied == 1
    expected = flag_id(visit_id, "prevented-from-seeing-child-alone", world.persons["own"])
    assert [browser.decrypt(r.body) for r in push_service.to(browser)] == [
        {"type": "flag-urgent", "count": 1, "id": expected}]


def test_a_rule_that_still_holds_at_the_next_visit_does_not_open_a_second_flag_until_the_first_is_closed(
    app, store, settings
):
    content = load_content(settings.content_dir)
    world = build_world(store)
    rule, child = "prevented-from-seeing-child-alone", world.persons["own"]
    first = _completed_visit(store, world, "2026-10-20T10:00:00.000Z")
    second = _completed_visit(store, world, "2026-10-27T10:00:00.000Z")
    third = _completed_visit(store, world, "2026-11-03T10:00:00.000Z")
    with store.write() as db:
        apply_visit_outcome(db, store.keyring, content, first)
        assert apply_visit_outcome(db, store.keyring, content, second) == {"follow_ups": [], "flags": []}
        records.update(db, store.keyring, "flag", flag_id(first, rule, child),
                       {"status": "closed", "decision": "Joint visit", "rationale": "Pattern"})
        records.update(db, store.keyring, "follow_up", follow_up_id(first, rule, child),
                       {"status": "done", "note": "Advice taken"})
        again = apply_visit_outcome(db, store.keyring, content, third)
    assert again == {"follow_ups": [follow_up_id(third, rule, child)], "flags": [flag_id(third, rule, child)]}


def test_a_mark_on_a_child_whose_record_says_not_independently_mobile_raises_the_urgent_bruising_flag(app, store, settings):
    """Mobility, not age: the server reads the person's recorded mobility, so an older
    disabled child who does not get about on their own is covered by the protocol."""
    content = load_content(settings.content_dir)
    world = build_world(store)
    child = world.persons["own"]
    visit_id = new_id()
    with store.write() as db:
        records.update(db, store.keyring, "person", child, {"mobility": "not-yet", "date_of_birth": "2016-01-05"})
        base = {"agency_id": world.agencies["A"], "family_id": world.families["own"]}
        records.insert(db, store.keyring, "visit", {
            **base, "id": visit_id, "practitioner_id": world.users["prac_a1"], "type": "targeted",
            "status": "completed", "completed_at": "2026-10-20T10:00:00.000Z", "signed_by": world.users["prac_a1"],
            "present": [child]})
        records.insert(db, store.keyring, "checklist_response", {
            **base, "id": stable_id(visit_id, "injury-non-mobile", child, "injury"), "visit_id": visit_id,
            "checklist_id": "injury-non-mobile", "checklist_version": 2, "subject_id": child,
            "item_id": "injury", "answer": "yes"})
        created = apply_visit_outcome(db, store.keyring, content, visit_id)
    assert flag_id(visit_id, "injury-in-non-mobile-baby", child) in created["flags"]
    with store.read() as db:
        flag = records.get(db, store.keyring, "flag", flag_id(visit_id, "injury-in-non-mobile-baby", child))
    assert flag["severity"] == "urgent"


def test_a_man_recorded_as_another_adult_is_asked_the_father_and_male_carer_questions(app, store, settings):
    """Any man in the child's life: a grandfather or friend recorded as 'other adult' (male)
    gets the father / male carer checklist's rules on the server."""
    content = load_content(settings.content_dir)
    world = build_world(store)
    visit_id, man = new_id(), new_id()
    with store.write() as db:
        base = {"agency_id": world.agencies["A"], "family_id": world.families["own"]}
        records.insert(db, store.keyring, "person", {**base, "id": man, "role": "other-adult", "sex": "male",
                                                     "given_name": "Synthetic"})
        records.insert(db, store.keyring, "visit", {
            **base, "id": visit_id, "practitioner_id": world.users["prac_a1"], "type": "targeted",
            "status": "completed", "completed_at": "2026-10-20T10:00:00.000Z", "signed_by": world.users["prac_a1"],
            "present": [man]})
        records.insert(db, store.keyring, "checklist_response", {
            **base, "id": stable_id(visit_id, "father-male-carer", man, "prepared-to-parent"), "visit_id": visit_id,
            "checklist_id": "father-male-carer", "checklist_version": 2, "subject_id": man,
            "item_id": "prepared-to-parent", "answer": "not-prepared"})
        created = apply_visit_outcome(db, store.keyring, content, visit_id)
    assert follow_up_id(visit_id, "father-not-prepared-for-baby", man) in created["follow_ups"]
