"""Standard Webhooks notices to receivers on 127.0.0.1 that verify them with the
``standardwebhooks`` library: retries, rotation with an overlap, pausing, resend, URL change."""

from __future__ import annotations

import json
from datetime import timedelta

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from server.agency import webhooks
from server.agency.clients import create_client
from server.clock import utcnow
from tests.agency.helpers import visit
from tests.agency.receiver import Receiver
from tests.factories import auth, login


def _client(store, world, url: str, agency: str = "A") -> tuple[str, str]:
    with store.write() as db:
        info, _, secret = create_client(db, store.keyring, world.agencies[agency], "Liquidlogic", ["feed:read"],
                                        webhook_url=url)
    return info.id, secret


def test_webhook_notice_is_signed_per_standard_webhooks_retried_with_backoff_and_every_attempt_recorded(
        app, store, world):
    # Driven by hand with a chosen clock; the app (and its own notifier) starts only at the end.
    receiver = Receiver([500, 503])
    try:
        _, secret = _client(store, world, receiver.url)
        assert secret.startswith("whsec_")
        receiver.secrets = [secret]
        visit(store, world)
        t0 = utcnow()
        with store.write() as db:
            assert webhooks.enqueue(db, t0) == 1
            assert webhooks.enqueue(db, t0) == 0  # one pending notice covers later changes
        assert [o["status_code"] for o in webhooks.deliver_due(store, t0)] == [500]
        assert webhooks.deliver_due(store, t0 + timedelta(seconds=5)) == []  # not due yet: backing off
        t1 = t0 + webhooks.backoff(1)
        assert [o["status_code"] for o in webhooks.deliver_due(store, t1)] == [503]
        t2 = t1 + webhooks.backoff(2)
        assert webhooks.backoff(2) > webhooks.backoff(1)
        assert [o["ok"] for o in webhooks.deliver_due(store, t2)] == [True]

        assert len(receiver.verified) == 1
        ids = {h["webhook-id"] for h, _ in receiver.requests}
        assert len(ids) == 1  # the same message id on every retry, so the receiver can drop repeats
        headers, body = receiver.requests[-1]
        for tampered in (body + b" ", body.replace(b"feed", b"fxed")):
            try:
                Webhook(secret).verify(tampered, headers)
                raise AssertionError("a changed body verified")
            except WebhookVerificationError:
                pass
        forged = {**headers, "webhook-id": "0193-someone-else"}
        try:
            Webhook(secret).verify(body, forged)
            raise AssertionError("the message id is not covered by the signature")
        except WebhookVerificationError:
            pass
        notice = json.loads(body)
        assert notice["type"] == "feed.updated" and set(notice["data"]) == {"up_to_cursor"}  # nothing personal
        assert "Hearthside-Signature" not in headers

        from litestar.testing import TestClient

        with TestClient(app) as client:
            admin = auth(login(client, "admin_a"))
            listed = client.get("/api/v1/admin/agency/webhooks", headers=admin).json()
            assert listed[0]["status"] == "delivered" and listed[0]["id"] in ids
            assert [a["status_code"] for a in listed[0]["attempt_log"]] == [500, 503, 204]
            other = auth(login(client, "admin_b"))
            assert client.get("/api/v1/admin/agency/webhooks", headers=other).json() == []
            assert client.post(f"/api/v1/admin/agency/webhooks/{listed[0]['id']}/resend",
                               headers=other).status_code == 404
    finally:
        receiver.close()


def test_during_a_secret_rotation_both_secrets_sign_and_after_it_only_the_new_one(client, store, world):
    old_side, new_side = Receiver(), Receiver()
    try:
        cid, old = _client(store, world, old_side.url)
        old_side.secrets = [old]
        admin = auth(login(client, "admin_a"))
        r = client.post(f"/api/v1/admin/agency/clients/{cid}/webhook/rotate-secret", headers=admin,
                        json={"overlap_hours": 24})
        assert r.status_code == 200, r.text
        new = r.json()["secret"]
        assert new.startswith("whsec_") and new != old and r.json()["previous_secret_until"]
        new_side.secrets = [new]

        # During the overlap a receiver still on the old secret and one already on the new
        # secret both accept the same notice.
        visit(store, world)
        with store.write() as db:
            webhooks.enqueue(db)
        webhooks.deliver_due(store)
        headers, body = old_side.requests[-1]
        assert len(headers["webhook-signature"].split(" ")) == 2
        assert old_side.verified and new_side.verify(headers, body) is not None

        # A second rotation with no overlap: only its own secret signs now.
        r = client.post(f"/api/v1/admin/agency/clients/{cid}/webhook/rotate-secret", headers=admin,
                        json={"overlap_hours": 0})
        newest = r.json()["secret"]
        visit(store, world)
        with store.write() as db:
            webhooks.enqueue(db)
        webhooks.deliver_due(store)
        headers, body = old_side.requests[-1]
        assert len(headers["webhook-signature"].split(" ")) == 1
        assert old_side.verify(headers, body) is None and new_side.verify(headers, body) is None
        new_side.secrets = [newest]
        assert new_side.verify(headers, body) is not None
        assert client.post(f"/api/v1/admin/agency/clients/{cid}/webhook/rotate-secret", headers=admin,
                           json={"overlap_hours": 999}).status_code == 400
    finally:
        old_side.close()
        new_side.close()


def test_a_destination_is_paused_after_persistent_failure_and_a_url_change_and_resend_bring_it_back(
        client, store, world, settings):
    broken = Receiver([500] * webhooks.MAX_ATTEMPTS)
    working = Receiver()
    try:
        cid, secret = _client(store, world, broken.url)
        working.secrets = [secret]
        visit(store, world)
        now = utcnow()
        with store.write() as db:
            webhooks.enqueue(db, now)
        for _ in range(webhooks.MAX_ATTEMPTS):
            assert [o["ok"] for o in webhooks.deliver_due(store, now)] == [False]
            now += webhooks.MAX_DELAY
        assert webhooks.deliver_due(store, now + webhooks.MAX_DELAY) == []
        visit(store, world)
        with store.write() as db:
            assert webhooks.enqueue(db, now) == 0  # a paused destination is not knocked on

        admin = auth(login(client, "admin_a"))
        failed = client.get("/api/v1/admin/agency/webhooks", params={"status": "failed"}, headers=admin).json()
        assert len(failed) == 1 and failed[0]["destination_paused"] and failed[0]["next_attempt_at"] is None
        assert failed[0]["attempts"] == webhooks.MAX_ATTEMPTS and failed[0]["last_status_code"] == 500
        assert client.get("/api/v1/admin/agency/webhooks", params={"status": "pending"}, headers=admin).json() == []

        from click.testing import CliRunner

        from server.cli import main

        out = CliRunner().invoke(main, ["agency", "webhooks", "--agency", "Agency A", "--status", "failed",
                                        "--data-dir", str(settings.data_dir)])
        assert out.exit_code == 0, out.output
        assert [d["id"] for d in json.loads(out.stdout)] == [failed[0]["id"]]

        r = client.put(f"/api/v1/admin/agency/clients/{cid}/webhook", headers=admin, json={"url": working.url})
        assert r.status_code == 200 and r.json()["paused_at"] is None and r.json()["secret"] is None
        assert client.put(f"/api/v1/admin/agency/clients/{cid}/webhook", headers=admin,
                          json={"url": "ftp://x"}).status_code == 422
        r = client.post(f"/api/v1/admin/agency/webhooks/{failed[0]['id']}/resend", headers=admin)
        assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["next_attempt_at"]
        assert [o["ok"] for o in webhooks.deliver_due(store)] == [True]
        assert working.requests[-1][0]["webhook-id"] == failed[0]["id"]
        assert working.verified
        done = client.get("/api/v1/admin/agency/webhooks", params={"status": "delivered"}, headers=admin).json()
        assert done[0]["attempts"] == webhooks.MAX_ATTEMPTS + 1
    finally:
        broken.close()
        working.close()


def test_a_secret_stored_before_standard_webhooks_keeps_verifying_both_ways(store, world):
    """A row as ``agency_0001`` left it: a plain (not ``whsec_``) secret. It signs with the same
    key bytes, so its ``whsec_`` form verifies, and the old header is still sent beside it."""
    import hashlib
    import hmac

    receiver = Receiver()
    try:
        cid, _ = _client(store, world, receiver.url)
        legacy = "pre-standard-webhooks-secret-0123456789abcdef"
        with store.write() as db:
            db.execute("UPDATE integration_clients SET webhook_secret = ? WHERE id = ?",
                       [store.keyring.encrypt(legacy.encode(), f"integration_clients/{cid}/webhook_secret"), cid])
        receiver.secrets = [webhooks.as_whsec(legacy)]
        visit(store, world)
        with store.write() as db:
            webhooks.enqueue(db)
        webhooks.deliver_due(store)
        assert receiver.verified
        headers, body = receiver.requests[-1]
        parts = dict(p.split("=", 1) for p in headers["Hearthside-Signature"].split(","))
        mac = hmac.new(legacy.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(mac, parts["v1"])
    finally:
        receiver.close()


def test_a_running_server_notifies_its_webhook_clients_by_itself(tmp_path):
    import subprocess
    import sys
    import time

    from tests.conftest import REPO, LiveServer

    receiver = Receiver([])
    server = LiveServer(tmp_path / "data", env={"HEARTHSIDE_WEBHOOK_INTERVAL_SECONDS": "0.5"}).start()
    try:
        made = subprocess.run(
            [sys.executable, "-m", "server", "agency", "create-client", "--agency", "Demo Health Visiting Service",
             "--name", "Mosaic", "--webhook-url", receiver.url, "--data-dir", str(server.data_dir)],
            cwd=REPO, capture_output=True, text=True, timeout=120)
        secret = made.stdout.split("webhook_secret: ")[1].split()[0]
        deadline = time.monotonic() + 60
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.2)
        assert receiver.requests, "no notice arrived"
        # Verified here, not in the receiver: the first notice can arrive before the
        # command's output (the secret) has been read.
        receiver.secrets = [secret]
        headers, body = receiver.requests[0]
        notice = receiver.verify(headers, body)
        assert notice is not None, "the notice does not verify"
        assert notice["data"]["up_to_cursor"] > 0
    finally:
        server.stop()
        receiver.close()
