"""Alerts: a device revoked, a flag deleted (or an attempt refused), a family's record
deleted reach the supervisors of that team and the admins of that agency, and no one
else; each alert is an audit entry sealed in the keyed chain."""

from __future__ import annotations

import sqlite3

import pytest

from server import audit
from server.ids import new_id
from server.storage import records
from tests.factories import auth, login
from tests.sync.device import Phone

READERS = ("sup_a1", "sup_a2", "admin_a", "sup_b1", "admin_b")


def alerts_seen(client, usernames=READERS) -> dict[str, list[dict]]:
    out = {}
    for name in usernames:
        r = client.get("/api/v1/alerts", headers=auth(login(client, name)))
        assert r.status_code == 200, r.text
        out[name] = r.json()
    return out


def who_sees(seen: dict[str, list[dict]], action: str, entity_id: str) -> set[str]:
    return {name for name, alerts in seen.items()
            if any(a["action"] == action and a["entity_id"] == entity_id for a in alerts)}


def _flag(store, world, family_key: str) -> str:
    fid = new_id()
    with store.write() as db:
        records.insert(db, store.keyring, "flag", {
            "id": fid, "agency_id": world.agencies["A"], "family_id": world.families[family_key],
            "severity": "urgent", "reason": "Child not seen alone", "status": "open"})
    return fid


def _delete(phone: Phone, entity: str, entity_id: str, family_id: str) -> dict:
    op = phone.model._queue({"type": "delete", "entity": entity, "entity_id": entity_id, "family_id": family_id})
    return next(r for r in phone.push()["results"] if r["op_id"] == op["op_id"])


def test_a_revoked_device_alerts_its_owners_supervisor_and_agency_admins_only(client, world):
    prac = login(client, "prac_a1", device_name="Jane's phone")
    r = client.post(f"/api/v1/devices/{prac['device']['id']}/revoke", headers=auth(login(client, "admin_a")))
    assert r.status_code == 200, r.text
    seen = alerts_seen(client)
    assert who_sees(seen, "device-revoked", prac["device"]["id"]) == {"sup_a1", "admin_a"}
    alert = next(a for a in seen["sup_a1"] if a["action"] == "device-revoked")
    assert alert["team_id"] == world.teams["A1"] and alert["user_id"] == world.users["admin_a"]
    assert "Jane" not in str(seen)  # the device's name is not in an alert


def test_an_attempt_to_delete_a_flag_is_refused_and_alerts_that_team_and_agency(client, store, world):
    flag = _flag(store, world, "own")
    result = _delete(Phone(client, "prac_a1"), "flag", flag, world.families["own"])
    assert result["status"] == "rejected"
    assert records.get(store.connect(), store.keyring, "flag", flag) is not None
    seen = alerts_seen(client)
    assert who_sees(seen, "flag-delete-refused", flag) == {"sup_a1", "admin_a"}
    alert = next(a for a in seen["admin_a"] if a["action"] == "flag-delete-refused")
    assert alert["user_id"] == world.users["prac_a1"] and alert["family_id"] == world.families["own"]


def test_a_flag_named_with_another_family_alerts_the_flags_own_team(client, store, world):
    flag = _flag(store, world, "other_team")  # team A2's flag, named as if in prac_a1's family
    assert _delete(Phone(client, "prac_a1"), "flag", flag, world.families["own"])["status"] == "rejected"
    seen = alerts_seen(client)
    assert who_sees(seen, "flag-delete-refused", flag) == {"sup_a2", "admin_a"}


def test_deleting_a_family_with_its_flags_alerts_that_team_and_agency(client, store, world):
    _flag(store, world, "other_team")
    family = world.families["other_team"]
    assert _delete(Phone(client, "admin_a"), "family", family, family)["status"] == "applied"
    seen = alerts_seen(client)
    assert who_sees(seen, "family-deleted", family) == {"sup_a2", "admin_a"}


def test_practitioners_cannot_read_alerts(client, world):
    r = client.get("/api/v1/alerts", headers=auth(login(client, "prac_a1")))
    assert r.status_code == 403


def test_reading_alerts_is_audited(client, store, world):
    alerts_seen(client, ("sup_a1",))
    with store.read() as db:
        rows = list(db.query("SELECT user_id FROM audit_events WHERE action = 'alerts-read'"))
    assert [r["user_id"] for r in rows] == [world.users["sup_a1"]]


@pytest.mark.parametrize("assignments", ["alert = NULL", "team_id = NULL", "alert = NULL, team_id = NULL"])
def test_hiding_an_alert_in_the_database_fails_verification(client, store, world, assignments):
    prac = login(client, "prac_a1")
    client.post(f"/api/v1/devices/{prac['device']['id']}/revoke", headers=auth(login(client, "admin_a")))
    with store.read() as db:
        seq = db.execute("SELECT seq FROM audit_events WHERE action = 'device-revoked'").fetchone()[0]
    store.close()
    conn = sqlite3.connect(store.path)
    conn.execute("DROP TRIGGER audit_events_no_update")
    conn.execute(f"UPDATE audit_events SET {assignments} WHERE seq = ?", [seq])
    conn.commit()
    conn.close()
    with store.read() as db:
        result = audit.verify(db, store.keyring)
    assert f"audit entry {seq} was changed (its hash does not match its contents)" in result.problems
