"""Revocation stops writes at once: after ``POST /api/v1/devices/{id}/revoke`` nothing the
phone sends changes a record, what it uploads waits for its supervisor's review (and can
be accepted), its refresh token is refused, and once the server holds everything it sent
it is told to wipe. Through the HTTP API, in-process, on a real SQLite file."""

from __future__ import annotations

from server.storage import records
from tests.factories import auth, login
from tests.sync.device import Phone

from .conftest import dump_tables

PULL = "/api/v1/sync/pull"
HELD = "/api/v1/sync/held"
RECORD_TABLES = ("families", "persons", "observations", "change_log")


def test_a_revoked_phone_changes_nothing_its_upload_waits_for_review_and_it_cannot_refresh(
    client, store, world
):
    own, child = world.families["own"], world.persons["own"]
    phone = Phone(client, "prac_a1")
    phone.pull_all()
    device_id = phone.model.device_id
    note = phone.model.set("person", child, own, "language", "Welsh")
    obs = phone.model.create("observation", own, {"kind": "fact", "text": "Recorded offline"})

    admin = auth(login(client, "admin_a"))
    r = client.post(f"/api/v1/devices/{device_id}/revoke", headers=admin)
    assert r.status_code == 200 and r.json()["revoked_at"]

    # Its access token, and what its refresh token now gets (an upload-only pair without
    # the escrow key), open sync only.
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": phone.session["refresh_token"]})
    assert r.status_code == 200 and r.json()["scope"] == "upload-only" and r.json()["escrow_key"] is None
    for headers in (phone.headers, auth(r.json())):
        for path in ("/api/v1/families", f"/api/v1/families/{own}", "/api/v1/devices", "/api/v1/me"):
            refused = client.get(path, headers=headers)
            assert refused.status_code == 401 and refused.json()["type"] == "urn:hearthside:problem:device-revoked"

    # Before it uploads, it is told to upload (never to wipe).
    first = client.get(PULL, params={"cursor": phone.model.cursor, "holding_seq": 2}, headers=phone.headers).json()
    assert first["instructions"] == [{"type": "upload", "last_client_seq": 0}] and first["changes"] == []

    before = {t: rows for t, rows in dump_tables(store.path).items() if t in RECORD_TABLES}
    pushed = phone.push()
    assert pushed["device_revoked"] is True
    assert [x["status"] for x in pushed["results"]] == ["held", "held"]
    after = {t: rows for t, rows in dump_tables(store.path).items() if t in RECORD_TABLES}
    assert after == before  # no record changed, nothing logged for any phone to pull

    # Its supervisor sees what it uploaded; a supervisor of another team (or agency) does not.
    sup = auth(login(client, "sup_a1"))
    held = client.get(HELD, headers=sup).json()
    mine = [h for h in held if h["device_id"] == device_id]
    assert {h["op_id"] for h in mine} == {note["op_id"], obs["op_id"]}
    assert {h["kind"] for h in mine} == {"device-revoked"}
    for other in ("sup_a2", "sup_b1"):
        headers = auth(login(client, other))
        assert [h for h in client.get(HELD, headers=headers).json() if h["device_id"] == device_id] == []
        r = client.post(f"{HELD}/{mine[0]['id']}/accept", headers=headers)
        assert r.status_code == 404

    # Now that the server holds everything the phone declared, it is told to wipe.
    wipe = client.get(PULL, params={"cursor": phone.model.cursor, "holding_seq": 2}, headers=phone.headers).json()
    assert wipe["instructions"] == [{"type": "wipe"}] and wipe["changes"] == []

    # Accepted, the ops apply as their writer made them.
    for h in sorted(mine, key=lambda h: h["client_seq"]):
        r = client.post(f"{HELD}/{h['id']}/accept", headers=sup)
        assert r.status_code == 200 and r.json()["status"] == "applied", r.text
    with store.read() as db:
        assert records.get(db, store.keyring, "person", child)["language"] == "Welsh"
        observation = records.get(db, store.keyring, "observation", obs["entity_id"])
        assert observation["text"] == "Recorded offline" and observation["device_id"] == device_id
    assert client.get(HELD, headers=sup).json() == []
    assert client.post(f"{HELD}/{mine[0]['id']}/accept", headers=sup).status_code == 409
