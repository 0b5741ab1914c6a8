"""A client that announces a body and then sends only part of it gets 408 within the
configured body timeout, and its connection is closed (raw sockets against a real server)."""

from __future__ import annotations

import json
import socket

import pytest

from tests.conftest import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # One second here; the default (60 s) is far beyond the socket guard below, so an
    # answer at all shows the setting took effect.
    s = LiveServer(tmp_path_factory.mktemp("slow") / "data", demo=False,
                   env={"HEARTHSIDE_BODY_TIMEOUT_SECONDS": "1"}).start()
    yield s
    s.stop()


def _send_partial(server: LiveServer, path: str, content_type: str = "application/json") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.settimeout(20)  # a hang guard, not a measurement
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            "Content-Length: 1000\r\n\r\n")
    sock.sendall(head.encode() + b'{"user"')  # 7 of the 1000 bytes, then nothing
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize("path, content_type", [
    ("/api/v1/auth/login", "application/json"),   # read by Litestar for a handler
    ("/api/v1/families", "text/plain"),           # drained by the content-type guard
])
def test_a_body_that_stops_arriving_gets_408_and_the_connection_is_closed(server, path, content_type):
    with _send_partial(server, path, content_type) as sock:
        answer = _read_until_closed(sock)  # recv returns b"" only once the server closed it
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n")[0]
    assert status_line == b"HTTP/1.1 408 Request Timeout", answer[:300]
    assert b"connection: close" in head.lower()
    problem = json.loads(body)
    assert problem["status"] == 408 and problem["type"] == "urn:hearthside:problem:request-timeout"


def test_the_server_keeps_answering_others_while_and_after_slow_senders_wait(server):
    import httpx

    slow = [_send_partial(server, "/api/v1/auth/login") for _ in range(5)]
    try:
        assert httpx.get(server.url + "/health", timeout=20).status_code == 200
        for sock in slow:
            assert _read_until_closed(sock).startswith(b"HTTP/1.1 408")
    finally:
        for sock in slow:
            sock.close()
    r = httpx.post(server.url + "/api/v1/auth/login", json={"username": "nobody", "password": "wrong password 1"})
    assert r.status_code == 401
