"""A webhook receiver on 127.0.0.1 that verifies every notice with the ``standardwebhooks``
library (the published spec's own implementation), as a core system's endpoint would."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    """Answers 401 to a notice no accepted secret verifies; otherwise the next scripted
    status (204 once the script runs out)."""

    def __init__(self, statuses: list[int] | None = None, secrets: list[str] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.secrets = list(secrets or [])
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.verified: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = dict(self.headers)
                outer.requests.append((headers, body))
                status = outer.statuses.pop(0) if outer.statuses else 204
                if outer.secrets:
                    payload = outer.verify(headers, body)
                    if payload is None:
                        status = 401
                    elif 200 <= status < 300:
                        outer.verified.append(payload)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hearthside"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verify(self, headers: dict[str, str], body: bytes) -> dict | None:
        for secret in self.secrets:
            try:
                return Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
        return None

    def close(self) -> None:
        self.server.shutdown()
