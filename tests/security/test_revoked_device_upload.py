"""A revoked phone whose access token has lapsed still hands over its work and receives
its wipe: its refresh gets an upload-only pair (no escrow key) that opens sync push (held
for its supervisor) and pull (upload, then wipe) and nothing else. Real server process,
the real sync API through the ``Phone`` helper."""

from __future__ import annotations

import sqlite3

import httpx

from server.auth.passwords import DEMO_PASSWORD
from tests.sync.device import Phone


def test_a_revoked_phone_with_a_lapsed_access_token_uploads_its_work_and_is_told_to_wipe(live_server):
    url = live_server.url
    with httpx.Client(base_url=url, timeout=60) as client:
        phone = Phone(client, "practitioner1", DEMO_PASSWORD)
        phone.pull_all()
        device_id = phone.model.device_id
        family_id = next(fid for (entity, _), fid in phone.model.families.items() if entity == "family")
        obs = phone.model.create("observation", family_id, {"kind": "fact", "text": "Written offline"})

        admin = {"Authorization": f"Bearer {live_server.login('admin1')['access_token']}"}
        assert client.post(f"/api/v1/devices/{device_id}/revoke", headers=admin).status_code == 200
        # Time passes: the phone's access token lapses.
        conn = sqlite3.connect(live_server.data_dir / "hearthside.db")
        with conn:
            conn.execute("UPDATE tokens SET expires_at = '2000-01-01T00:00:00.000Z' WHERE kind = 'access'"
                         " AND device_id = ?", [device_id])
        conn.close()
        assert client.post("/api/v1/sync/push", json={"ops": phone.model.outbox}, headers=phone.headers).status_code == 401

        r = client.post("/api/v1/auth/refresh", json={"refresh_token": phone.session["refresh_token"]})
        assert r.status_code == 200, r.text
        upload = r.json()
        assert upload["scope"] == "upload-only" and upload["escrow_key"] is None
        phone.session, phone.headers = upload, {"Authorization": f"Bearer {upload['access_token']}"}

        # Nothing but sync opens with it.
        for path in ("/api/v1/families", f"/api/v1/families/{family_id}", "/api/v1/me", "/api/v1/devices",
                     "/api/v1/content", "/api/v1/follow-ups"):
            refused = client.get(path, headers=phone.headers)
            assert refused.status_code == 401, path
            assert refused.json()["type"] == "urn:hearthside:problem:device-revoked"
        assert client.post("/api/v1/auth/logout", headers=phone.headers).status_code == 401

        holding = {"holding_seq": phone.model.seq}
        first = client.get("/api/v1/sync/pull", params={"cursor": 0, **holding}, headers=phone.headers).json()
        assert first["changes"] == [] and first["instructions"] == [{"type": "upload", "last_client_seq": 0}]
        pushed = phone.push()
        assert pushed["device_revoked"] is True and [x["status"] for x in pushed["results"]] == ["held"]

        sup = {"Authorization": f"Bearer {live_server.login('supervisor1')['access_token']}"}
        held = [h for h in client.get("/api/v1/sync/held", headers=sup).json() if h["device_id"] == device_id]
        assert [(h["op_id"], h["kind"]) for h in held] == [(obs["op_id"], "device-revoked")]

        wipe = client.get("/api/v1/sync/pull", params={"cursor": 0, **holding}, headers=phone.headers).json()
        assert wipe["instructions"] == [{"type": "wipe"}] and wipe["changes"] == []
