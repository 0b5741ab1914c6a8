"""A test push service on 127.0.0.1: records each request, verifies its VAPID JWT, and
answers with scripted status codes (default 201)."""

from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Browser:
    """A subscribing browser's key material (what PushManager would hold)."""

    path: str
    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict[str, Any]:
        public = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64u(public), "auth": b64u(self.auth)}}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


class PushService:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.scripts: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with service.lock:
                    service.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    script = service.scripts.get(self.path) or []
                    status, headers = script.pop(0) if script else (201, {})
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "PushService":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def browser(self, name: str) -> Browser:
        return Browser(path=f"/push/{name}", endpoint=f"{self.url}/push/{name}")

    def script(self, browser: Browser, *responses: int | tuple[int, dict[str, str]]) -> None:
        self.scripts[browser.path] = [r if isinstance(r, tuple) else (r, {}) for r in responses]

    def to(self, browser: Browser) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == browser.path]


def verify_vapid(authorization: str, expected_public_key: str) -> dict[str, Any]:
    """Check ``vapid t=<JWT>,k=<key>``: the key is the published one and the ES256
    signature verifies with it. Returns the JWT's claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme.lower() == "vapid", authorization
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    assert parts["k"] == expected_public_key
    header_b64, claims_b64, sig_b64 = parts["t"].split(".")
    header = json.loads(unb64u(header_b64))
    assert header["alg"] == "ES256"
    sig = unb64u(sig_b64)
    assert len(sig) == 64
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64u(parts["k"]))
    try:
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:  # pragma: no cover - the assertion message is the point
        raise AssertionError("VAPID JWT signature does not verify against the published key") from None
    return json.loads(unb64u(claims_b64))
