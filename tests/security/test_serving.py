"""The server process as ``hearthside serve`` runs it (uvicorn with the CLI's options):
forwarded headers count only when configured and only from a listed proxy, and no
response names the server software."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.security.throttle import ThrottlePolicy
from tests.conftest import REPO, LiveServer


def _serve(tmp_path_factory, name: str, env: dict[str, str]) -> LiveServer:
    return LiveServer(tmp_path_factory.mktemp(name) / "data", demo=False, env=env).start()


@pytest.fixture(scope="module")
def untrusting(tmp_path_factory):
    s = _serve(tmp_path_factory, "no-proxy", {"HEARTHSIDE_TRUST_PROXY": "false"})
    yield s
    s.stop()


@pytest.fixture(scope="module")
def behind_listed_proxy(tmp_path_factory):
    # The test client connects from 127.0.0.1: here that is the listed proxy.
    s = _serve(tmp_path_factory, "listed", {"HEARTHSIDE_TRUST_PROXY": "true", "HEARTHSIDE_TRUSTED_PROXIES": "127.0.0.1"})
    yield s
    s.stop()


@pytest.fixture(scope="module")
def behind_other_proxy(tmp_path_factory):
    s = _serve(tmp_path_factory, "unlisted",
               {"HEARTHSIDE_TRUST_PROXY": "true", "HEARTHSIDE_TRUSTED_PROXIES": "192.0.2.10,2001:db8::/32"})
    yield s
    s.stop()


def _failed_sign_ins_each_from_a_new_forged_address(server: LiveServer, tag: str) -> list[int]:
    codes = []
    with httpx.Client(base_url=server.url) as c:
        for i in range(ThrottlePolicy().per_address + 1):
            r = c.post("/api/v1/auth/login", json={"username": f"nobody-{tag}-{i}", "password": "wrong password 123"},
                       headers={"X-Forwarded-For": f"203.0.113.{i + 1}"})
            codes.append(r.status_code)
    return codes


def _stored_bytes(server: LiveServer) -> bytes:
    conn = sqlite3.connect(server.data_dir / "hearthside.db")
    conn.execute("PRAGMA wal_checkpoint(FULL)")
    conn.close()
    return b"".join(p.read_bytes() for p in Path(server.data_dir).glob("hearthside.db*"))


def test_without_trust_proxy_a_forged_forwarded_for_neither_escapes_the_throttle_nor_reaches_the_audit(untrusting):
    codes = _failed_sign_ins_each_from_a_new_forged_address(untrusting, "a")
    assert set(codes[:-1]) == {401}
    assert codes[-1] == 429  # every attempt counted against the one real address
    assert b"203.0.113." not in _stored_bytes(untrusting)


def test_with_an_unlisted_proxy_a_forged_forwarded_for_is_still_ignored(behind_other_proxy):
    codes = _failed_sign_ins_each_from_a_new_forged_address(behind_other_proxy, "b")
    assert codes[-1] == 429
    assert b"203.0.113." not in _stored_bytes(behind_other_proxy)


def test_behind_a_listed_proxy_the_forwarded_address_is_the_one_throttled(behind_listed_proxy):
    codes = _failed_sign_ins_each_from_a_new_forged_address(behind_listed_proxy, "c")
    assert set(codes) == {401}  # each forwarded address is a different client


@pytest.mark.parametrize("fixture, hsts", [("untrusting", False), ("behind_other_proxy", False),
                                           ("behind_listed_proxy", True)])
def test_forwarded_proto_turns_hsts_on_only_from_a_listed_proxy(request, fixture, hsts):
    server = request.getfixturevalue(fixture)
    r = httpx.get(server.url + "/health", headers={"X-Forwarded-Proto": "https"})
    assert ("strict-transport-security" in r.headers) is hsts
    assert "strict-transport-security" not in httpx.get(server.url + "/health").headers


def test_no_response_names_the_server_software(untrusting):
    with httpx.Client(base_url=untrusting.url) as c:
        responses = [c.get("/health"), c.get("/"), c.get("/sw.js"), c.get("/no/such/file.js"),
                     c.get("/api/v1/families"), c.post("/api/v1/auth/login", content=b"{", headers={
                         "content-type": "application/json"}), c.delete("/health")]
    assert {r.status_code for r in responses} >= {200, 400, 401, 404, 405}
    for r in responses:
        assert "server" not in r.headers, (r.request.url, r.headers["server"])


def test_a_wildcard_or_a_name_as_trusted_proxy_is_refused_at_start(tmp_path):
    for value in ("*", "proxy.internal"):
        env = {**os.environ, "HEARTHSIDE_TRUSTED_PROXIES": value, "HEARTHSIDE_DATA_DIR": str(tmp_path / "d")}
        out = subprocess.run([sys.executable, "-m", "server", "migrate"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode != 0 and "trusted_proxies" in out.stderr + out.stdout
