"""Signed webhook notices to a receiver on 127.0.0.1 that fails, then recovers."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

from server.agency import webhooks
from server.clock import utcnow
from tests.agency.helpers import visit
from tests.factories import auth, login


class Receiver:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                self.send_response(outer.statuses.pop(0) if outer.statuses else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hearthside"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_webhook_notice_is_signed_retried_with_backoff_and_every_attempt_recorded(app, store, world):
    # Driven by hand with a chosen clock; the app (and its own notifier) starts only at the end.
    receiver = Receiver([500, 503])
    try:
        from server.agency.clients import create_client

        with store.write() as db:
            _, _, secret = create_client(db, store.keyring, world.agencies["A"], "Liquidlogic", ["feed:read"],
                                         webhook_url=receiver.url)
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

        headers, body = receiver.requests[-1]
        assert webhooks.verify(secret, headers["Hearthside-Signature"], body, now=int(t2.timestamp()))
        assert not webhooks.verify(secret, headers["Hearthside-Signature"], body + b" ", now=int(t2.timestamp()))
        assert not webhooks.verify(secret, headers["Hearthside-Signature"], body, now=int(t2.timestamp()) + 3600)
        notice = json.loads(body)
        assert set(notice) == {"type", "delivery_id", "up_to_cursor"}  # nothing about any family

        from litestar.testing import TestClient

        with TestClient(app) as client:
            admin = auth(login(client, "admin_a"))
            listed = client.get("/api/v1/admin/agency/webhooks", headers=admin).json()
            assert listed[0]["status"] == "delivered"
            assert [a["status_code"] for a in listed[0]["attempt_log"]] == [500, 503, 204]
            other = auth(login(client, "admin_b"))
            assert client.get("/api/v1/admin/agency/webhooks", headers=other).json() == []
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
        headers, body = receiver.requests[0]
        assert webhooks.verify(secret, headers["Hearthside-Signature"], body, now=int(time.time()))
        assert json.loads(body)["up_to_cursor"] > 0
    finally:
        server.stop()
        receiver.close()
