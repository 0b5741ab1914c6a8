"""REST writes name the version they were based on, and go through the one merge.

A change to an existing record without ``If-Match`` is refused (428) and changes nothing;
reads carry the version as ``ETag``; a stale version is a conflict kept for a person
(409 naming the field and the conflict), never a silent overwrite of what a phone synced.
"""

from __future__ import annotations

import sqlite3

from server.clock import now_iso
from server.ids import new_id
from server.storage import records
from tests.factories import auth, build_world, login
from tests.sync.device import Phone


def snapshot(settings) -> list[str]:
    conn = sqlite3.connect(settings.db_path)
    rows = [line for line in conn.iterdump() if "audit_events" not in line and "sqlite_sequence" not in line]
    conn.close()
    return rows


def _follow_up_and_flag(store, world) -> tuple[str, str]:
    fid = world.families["own"]
    fu, flag = new_id(), new_id()
    with store.write() as db:
        records.insert(db, store.keyring, "follow_up", {
            "id": fu, "agency_id": world.agencies["A"], "family_id": fid, "assignee_id": world.users["prac_a1"],
            "due_at": "2030-01-01T23:59:00.000Z", "text": "Weigh the baby", "status": "open"})
        records.insert(db, store.keyring, "flag", {
            "id": flag, "agency_id": world.agencies["A"], "family_id": fid, "severity": "high",
            "reason": "Missed visits", "status": "open"})
    return fu, flag


def test_a_change_to_an_existing_record_without_if_match_is_refused_and_changes_nothing(client, store, settings):
    world = build_world(store)
    fu, flag = _follow_up_and_flag(store, world)
    fid, prac = world.families["own"], world.users["prac_a1"]
    sup = auth(login(client, "sup_a1"))
    for method, url, body in [
        ("PATCH", f"/api/v1/families/{fid}", {"notes": "Blind"}),
        ("POST", f"/api/v1/families/{fid}/allocations/{prac}/end", None),
        ("POST", f"/api/v1/follow-ups/{fu}/complete", {"note": "Blind"}),
        ("POST", f"/api/v1/follow-ups/{fu}/reassign", {"assignee_id": world.users["prac_a1b"]}),
        ("POST", f"/api/v1/flags/{flag}/acknowledge", None),
        ("POST", f"/api/v1/flags/{flag}/decision", {"decision": "Blind", "rationale": "Blind"}),
        ("POST", f"/api/v1/flags/{flag}/close", None),
    ]:
        before = snapshot(settings)
        r = client.request(method, url, json=body, headers=sup)
        assert r.status_code == 428, (url, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "urn:hearthside:problem:precondition-required"
        assert r.json()["errors"][0]["field"] == "header.If-Match"
        assert snapshot(settings) == before, url
        ahead = client.request(method, url, json=body, headers={**sup, "If-Match": '"99"'})
        assert ahead.status_code == 412 and snapshot(settings) == before, url
        bad = client.request(method, url, json=body, headers={**sup, "If-Match": "yesterday"})
        assert 400 <= bad.status_code < 500 and snapshot(settings) == before, url


def test_reads_carry_the_records_version_as_etag(client, store):
    world = build_world(store)
    fu, flag = _follow_up_and_flag(store, world)
    sup = auth(login(client, "sup_a1"))
    family = client.get(f"/api/v1/families/{world.families['own']}", headers=sup)
    assert family.headers["etag"] == f'"{family.json()["version"]}"'
    follow_up = client.get(f"/api/v1/follow-ups/{fu}", headers=sup)
    assert follow_up.headers["etag"] == f'"{follow_up.json()["version"]}"'
    detail = client.get(f"/api/v1/flags/{flag}", headers=sup)
    assert detail.headers["etag"] == f'"{detail.json()["flag"]["version"]}"'
    # A write answers with the new version, ready for the next change.
    r = client.post(f"/api/v1/flags/{flag}/acknowledge", headers={**sup, "If-Match": detail.headers["etag"]})
    assert r.status_code == 200 and r.headers["etag"] == f'"{r.json()["flag"]["version"]}"'
    assert r.json()["flag"]["version"] > detail.json()["flag"]["version"]


def test_a_stale_if_match_on_a_field_a_phone_just_synced_is_a_conflict_not_an_overwrite(client, store):
    world = build_world(store)
    fid = world.families["own"]
    admin = auth(login(client, "admin_a"))
    read = client.get(f"/api/v1/families/{fid}", headers=admin)
    phone = Phone(client, "sup_a1")
    phone.pull_all()
    phone.model.set("family", fid, fid, "notes", "From the phone")
    assert phone.push()["results"][0]["status"] == "applied"

    r = client.patch(f"/api/v1/families/{fid}", json={"notes": "From the office", "phone": "01632 960123"},
                     headers={**admin, "If-Match": read.headers["etag"]})
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["conflicting_fields"] == ["notes"] and body["applied_fields"] == ["phone"]
    assert body["errors"] == [{"field": "body.notes", "message": "changed since your version: kept as a conflict"}]
    conflict_id = body["conflicts"][0]["conflict_id"]
    assert body["current"]["phone"] == "01632 960123"
    with store.read() as db:
        conflict = records.get(db, store.keyring, "conflict", conflict_id)
    assert conflict["status"] == "open" and conflict["field"] == "notes"
    assert {c["value"] for c in conflict["candidates"]} == {"From the phone", "From the office"}
    # The phone learns of the conflict on its next pull: nothing it synced was lost.
    phone.pull_all()
    # (as the conflicts list, or as a change to the conflict record, by the app's protocol)
    assert any(c["id"] == conflict_id for c in phone.model.conflicts) or ("conflict", conflict_id) in phone.model.confirmed


def test_server_owned_fields_are_set_by_the_merge_not_by_the_caller(client, store):
    world = build_world(store)
    fu, flag = _follow_up_and_flag(store, world)
    sup = auth(login(client, "sup_a1"))
    prac = auth(login(client, "prac_a1"))
    before = now_iso()
    done = client.post(f"/api/v1/follow-ups/{fu}/complete", json={"note": "Weighed"},
                       headers={**prac, "If-Match": '"1"'})
    assert done.status_code == 200 and done.json()["completed_at"] >= before
    decided = client.post(f"/api/v1/flags/{flag}/decision", json={"decision": "Review", "rationale": "Pattern"},
                          headers={**sup, "If-Match": '"1"'})
    assert decided.status_code == 200, decided.text
    f = decided.json()["flag"]
    assert f["status"] == "closed" and f["decided_by"] == f["acknowledged_by"] == world.users["sup_a1"]
    assert f["decided_at"] >= before and f["acknowledged_at"] >= before
    with store.read() as db:
        meta = records.get(db, store.keyring, "flag", flag)["field_meta"]
    assert meta["decided_by"]["by"] == world.users["sup_a1"]


def test_rest_and_agency_bodies_take_their_limits_and_choices_from_the_model():
    """A body is refused at the door by the same limits and choices the merge applies."""
    import msgspec

    from server.agency.writeback import FamilyWrite, PersonWrite, RelationshipWrite
    from server.families.schemas import FamilyCreate, FamilyUpdate, PersonCreate
    from server.flags.schemas import FlagDecision
    from server.followups.schemas import FollowUpComplete, FollowUpCreate
    from sync.model import entity

    checked = 0
    for struct, name in [(FamilyCreate, "family"), (FamilyUpdate, "family"), (FamilyWrite, "family"),
                         (PersonCreate, "person"), (PersonWrite, "person"), (RelationshipWrite, "relationship"),
                         (FollowUpCreate, "follow_up"), (FollowUpComplete, "follow_up"), (FlagDecision, "flag")]:
        props = msgspec.json.schema(struct)["$defs"][struct.__name__]["properties"]
        for field_name, prop in props.items():
            f = entity(name).field(field_name)
            if f is None or f.type not in ("text", "choice"):
                continue
            shape = next(p for p in prop.get("anyOf", [prop]) if p.get("type") != "null")
            if f.type == "text":
                assert shape["maxLength"] == f.max_length, (struct.__name__, field_name)
            elif field_name != "status" or struct is not FollowUpComplete:  # the end states only
                assert sorted(shape["enum"]) == sorted(f.values), (struct.__name__, field_name)
            checked += 1
    assert checked > 25
