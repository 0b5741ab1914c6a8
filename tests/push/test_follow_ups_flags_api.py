"""Follow-ups, flags and the supervisor overview over HTTP, with the access rules."""

from __future__ import annotations

from server.clock import now_iso
from server.ids import new_id
from server.storage import records

from tests.factories import PASSWORD, build_world

from .helpers import auth, login


def at(record: dict) -> dict[str, str]:
    """If-Match for a change to a record read (or written) at that version."""
    return {"If-Match": f'"{record["version"]}"'}


def _flag(store, world, key: str, severity: str, created_at: str | None = None, visit: bool = False) -> str:
    fid = new_id()
    with store.write() as db:
        visit_id = None
        if visit:
            visit_id = new_id()
            records.insert(db, store.keyring, "visit", {
                "id": visit_id, "agency_id": world.agencies["A"], "family_id": world.families[key],
                "practitioner_id": world.users["prac_a1"], "type": "targeted", "status": "completed",
                "completed_at": now_iso(), "present": []})
        records.insert(db, store.keyring, "flag", {
            "id": fid, "agency_id": world.agencies["A" if key != "other_agency" else "B"],
            "family_id": world.families[key], "visit_id": visit_id, "subject_id": world.persons[key],
            "rule_id": "some-rule", "severity": severity, "status": "open", "reason": f"{severity} reason",
            "answers": [{"item": "x", "value": "yes"}]})
        if created_at:
            db.execute("UPDATE flags SET created_at = ? WHERE id = ?", [created_at, fid])
    return fid


def test_practitioner_creates_lists_and_completes_own_follow_ups_forward_only(client, store):
    world = build_world(store)
    me = auth(login(client, "prac_a1", PASSWORD))
    r = client.post("/api/v1/follow-ups", headers=me, json={
        "family_id": world.families["own"], "text": "Check the smoke alarm", "due_date": "2026-10-25"})
    assert r.status_code == 201, r.text
    fu = r.json()
    assert fu["assignee_id"] == world.users["prac_a1"]
    assert fu["due_date"] == "2026-10-25" and fu["due_at"] == "2026-10-25T23:59:00.000Z"  # GMT that day
    listed = client.get("/api/v1/follow-ups", headers=me).json()
    assert [f["id"] for f in listed] == [fu["id"]]
    assert listed[0]["overdue"] is True  # 2026-10-25 is before the test machine's today

    done = client.post(f"/api/v1/follow-ups/{fu['id']}/complete", headers={**me, **at(fu)},
                       json={"note": "Alarm works"})
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["note"] == "Alarm works"
    assert done.json()["completed_at"] and done.headers["etag"] == f'"{done.json()["version"]}"'
    again = client.post(f"/api/v1/follow-ups/{fu['id']}/complete", headers={**me, **at(done.json())},
                        json={"note": "Cancel it", "status": "cancelled"})
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/api/v1/follow-ups/{fu['id']}", headers=me).json()["status"] == "done"
    assert client.get("/api/v1/follow-ups?status=done", headers=me).json()[0]["id"] == fu["id"]


def test_follow_up_bad_input_is_a_clear_4xx_and_changes_nothing(client, store):
    world = build_world(store)
    me = auth(login(client, "prac_a1", PASSWORD))
    for body in (
        {"family_id": world.families["own"], "text": "", "due_date": "2026-10-25"},
        {"family_id": world.families["own"], "text": "x", "due_date": "25/10/2026"},
        {"family_id": world.families["own"], "text": "x", "due_date": "2026-02-30"},
        {"family_id": world.families["own"], "text": "x", "due_date": "2026-10-25", "colour": "red"},
    ):
        r = client.post("/api/v1/follow-ups", headers=me, json=body)
        assert 400 <= r.status_code < 500, r.text
        assert r.json()["errors"], r.text
    # Someone else's family, another agency's, or another assignee.
    assert client.post("/api/v1/follow-ups", headers=me, json={
        "family_id": world.families["other_agency"], "text": "x", "due_date": "2026-10-25"}).status_code == 404
    assert client.post("/api/v1/follow-ups", headers=me, json={
        "family_id": world.families["own"], "text": "x", "due_date": "2026-10-25",
        "assignee_id": world.users["prac_a1b"]}).status_code == 403
    with store.read() as db:
        assert db["follow_ups"].count == 0


def test_supervisor_sees_the_team_and_reassigns_practitioner_cannot(client, store):
    world = build_world(store)
    prac = auth(login(client, "prac_a1", PASSWORD))
    sup = auth(login(client, "sup_a1", PASSWORD))
    fu = client.post("/api/v1/follow-ups", headers=prac, json={
        "family_id": world.families["own"], "text": "Visit again", "due_date": "2030-01-01"}).json()
    other = auth(login(client, "sup_a2", PASSWORD))

    assert [f["id"] for f in client.get("/api/v1/follow-ups?scope=team", headers=sup).json()] == [fu["id"]]
    assert client.get("/api/v1/follow-ups?scope=team", headers=other).json() == []
    assert client.get(f"/api/v1/follow-ups/{fu['id']}", headers=other).status_code == 404

    assert client.post(f"/api/v1/follow-ups/{fu['id']}/reassign", headers={**prac, **at(fu)},
                       json={"assignee_id": world.users["prac_a1b"]}).status_code == 403
    bad = client.post(f"/api/v1/follow-ups/{fu['id']}/reassign", headers={**sup, **at(fu)},
                      json={"assignee_id": world.users["prac_a2"]})  # another team
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.assignee_id"
    assert client.post(f"/api/v1/follow-ups/{fu['id']}/reassign", headers=sup,
                       json={"assignee_id": world.users["prac_a1b"]}).status_code == 428
    r = client.post(f"/api/v1/follow-ups/{fu['id']}/reassign", headers={**sup, **at(fu)},
                    json={"assignee_id": world.users["prac_a1b"], "due_date": "2030-02-01"})
    assert r.status_code == 200, r.text
    assert r.json()["assignee_id"] == world.users["prac_a1b"] and r.json()["due_date"] == "2030-02-01"
    # No longer theirs to see in "mine".
    assert client.get("/api/v1/follow-ups", headers=prac).json() == []


def test_flags_are_listed_by_severity_then_age_for_the_supervisors_team_only(client, store):
    world = build_world(store)
    routine = _flag(store, world, "own", "routine", "2026-01-01T00:00:00.000Z")
    urgent_new = _flag(store, world, "other_prac", "urgent", "2026-06-02T00:00:00.000Z")
    urgent_old = _flag(store, world, "own", "urgent", "2026-06-01T00:00:00.000Z")
    high = _flag(store, world, "own", "high", "2026-03-01T00:00:00.000Z")
    _flag(store, world, "other_team", "urgent")
    _flag(store, world, "other_agency", "urgent")
    sup = auth(login(client, "sup_a1", PASSWORD))
    flags = client.get("/api/v1/flags", headers=sup).json()
    assert [f["id"] for f in flags] == [urgent_old, urgent_new, high, routine]
    assert flags[0]["age_hours"] > flags[1]["age_hours"]
    # A practitioner sees the flags on their own caseload (so they see decisions).
    prac = auth(login(client, "prac_a1", PASSWORD))
    assert {f["id"] for f in client.get("/api/v1/flags", headers=prac).json()} == {urgent_old, high, routine}


def test_a_flag_closes_only_with_a_decision_and_rationale_and_never_disappears(client, store):
    world = build_world(store)
    flag_id = _flag(store, world, "own", "urgent", visit=True)
    sup = auth(login(client, "sup_a1", PASSWORD))
    prac = auth(login(client, "prac_a1", PASSWORD))

    v1 = {"If-Match": '"1"'}
    assert client.post(f"/api/v1/flags/{flag_id}/acknowledge", headers={**prac, **v1}).status_code == 403
    assert client.post(f"/api/v1/flags/{flag_id}/acknowledge", headers=sup).status_code == 428
    assert client.post(f"/api/v1/flags/{flag_id}/close", headers={**sup, **v1}).status_code == 409
    assert client.post(f"/api/v1/flags/{flag_id}/decision", headers={**sup, **v1},
                       json={"decision": "Strategy discussion"}).status_code == 400
    ack = client.post(f"/api/v1/flags/{flag_id}/acknowledge", headers={**sup, **v1})
    assert ack.status_code == 200 and ack.json()["flag"]["status"] == "acknowledged"
    detail = ack.json()
    assert detail["flag"]["acknowledged_by"] == world.users["sup_a1"] and detail["flag"]["acknowledged_at"]
    assert detail["record"]["family"]["family_name"] == "Sentinelown"
    assert detail["record"]["subject"]["given_name"] == "Childown"
    assert detail["record"]["visit"]["practitioner_id"] == world.users["prac_a1"]

    r = client.post(f"/api/v1/flags/{flag_id}/decision", headers={**sup, **at(detail["flag"])}, json={
        "decision": "Joint visit with social care this week",
        "rationale": "Second time the child was not seen alone",
        "follow_ups": [{"text": "Book the joint visit", "due_date": "2030-01-03"}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["flag"]["status"] == "closed" and body["flag"]["decided_by"] == world.users["sup_a1"]
    assert body["flag"]["decided_at"]
    assert [f["assignee_id"] for f in body["created_follow_ups"]] == [world.users["prac_a1"]]
    # The decision stands: it cannot be overwritten, and the flag is still there.
    assert client.post(f"/api/v1/flags/{flag_id}/decision", headers={**sup, **at(body["flag"])},
                       json={"decision": "x", "rationale": "y"}).status_code == 409
    assert client.get("/api/v1/flags?status=closed", headers=sup).json()[0]["id"] == flag_id
    # The practitioner sees the decision and has the follow-up.
    seen = client.get(f"/api/v1/flags/{flag_id}", headers=prac).json()["flag"]
    assert seen["decision"] == "Joint visit with social care this week"
    assert [f["text"] for f in client.get("/api/v1/follow-ups", headers=prac).json()] == ["Book the joint visit"]


def test_supervisor_overview_shows_flags_overdue_by_practitioner_and_last_sync(client, store):
    world = build_world(store)
    _flag(store, world, "own", "urgent")
    _flag(store, world, "own", "routine")
    prac = auth(login(client, "prac_a1", PASSWORD))
    client.post("/api/v1/follow-ups", headers=prac, json={
        "family_id": world.families["own"], "text": "Late one", "due_date": "2026-01-01"})
    client.post("/api/v1/follow-ups", headers=prac, json={
        "family_id": world.families["own"], "text": "Not yet", "due_date": "2099-01-01"})
    with store.write() as db:
        db.execute("UPDATE devices SET last_sync_at = ? WHERE user_id = ?",
                   ["2026-11-20T10:00:00.000Z", world.users["prac_a1"]])
    sup = auth(login(client, "sup_a1", PASSWORD))
    r = client.get("/api/v1/supervisor/overview", headers=sup)
    assert r.status_code == 200, r.text
    o = r.json()
    assert o["open_flags_by_severity"] == {"urgent": 1, "high": 0, "routine": 1}
    assert [(p["user_id"], p["count"]) for p in o["overdue_by_practitioner"]] == [(world.users["prac_a1"], 1)]
    syncs = {p["user_id"]: p["last_sync_at"] for p in o["practitioners"]}
    assert syncs[world.users["prac_a1"]] == "2026-11-20T10:00:00.000Z"
    assert syncs[world.users["prac_a1b"]] is None
    assert world.users["prac_a2"] not in syncs  # another team
    assert client.get("/api/v1/supervisor/overview", headers=prac).status_code == 403
