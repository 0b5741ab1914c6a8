"""Requests that once gave a 500 or an echo, against a real server process: integers
beyond 64 bits, control characters in paths, and the one shape of every error body, which
never carries what the client sent."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

import httpx
import pytest

from tests.conftest import REPO

BIG = [2**63, 10**30]
MARK = "zq7mark"  # appears in a request; must never come back in an answer
SCRIPT = "<script>alert(1)</script>"
FIELD = re.compile(r"^(body|query|path|header|cookie)(\.[A-Za-z0-9_-]+|\[\d+\]|\[\.\.\.\])*$")


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


@pytest.fixture(scope="module")
def admin(server):
    return httpx.Client(base_url=server.url, headers={"Authorization": "Bearer " + server.login("admin1")["access_token"]})


@pytest.fixture(scope="module")
def feed(server):
    made = subprocess.run([sys.executable, "-m", "server", "agency", "create-client", "--agency",
                           "Demo Health Visiting Service", "--name", "Bounds", "--scopes", "feed:read",
                           "--data-dir", str(server.data_dir)], cwd=REPO, capture_output=True, text=True, timeout=120)
    token = made.stdout.split("token: ")[1].split()[0]
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def family_id(admin):
    return admin.get("/api/v1/families").json()[0]["id"]


def assert_problem(r: httpx.Response, status: int | None = None) -> dict:
    """The pinned error shape: problem+json with these members only, each field error a
    schema path and a message."""
    assert r.status_code < 500, (r.request.url, r.status_code, r.text[:300])
    if status is not None:
        assert r.status_code == status, (r.request.url, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert set(body) <= {"type", "title", "status", "detail", "errors"}, body
    assert body["type"].startswith("urn:hearthside:problem:") and body["title"] and body["status"] == r.status_code
    for e in body.get("errors", []):
        assert set(e) == {"field", "message"} and FIELD.match(e["field"]), e
    return body


@pytest.mark.parametrize("value", BIG)
def test_integers_beyond_64_bits_get_400_naming_the_field(admin, feed, family_id, value):
    for client, path, param in [
        (admin, "/api/v1/sync/pull", "cursor"),
        (admin, "/api/v1/sync/pull", "holding_seq"),
        (feed, "/api/agency/v1/feed", "cursor"),
        (admin, f"/api/v1/admin/families/{family_id}/access-history", "before"),
    ]:
        body = assert_problem(client.get(path, params={param: value}), 400)
        assert [e["field"] for e in body["errors"]] == [f"query.{param}"], (path, body)
    body = assert_problem(feed.post("/api/agency/v1/acks", json=[{"item_type": "family", "id": family_id,
                                                                 "version": value}]), 400)
    assert any(e["field"].endswith(".version") for e in body["errors"]), body
    push = admin.post("/api/v1/sync/push", json={"ops": [{"op_id": str(uuid.uuid4()), "client_seq": value}]})
    assert any("client_seq" in e["field"] or "client_seq" in e["message"] for e in assert_problem(push)["errors"])


def test_the_largest_64_bit_integer_is_still_an_ordinary_answer(admin, family_id):
    top = 2**63 - 1
    assert admin.get(f"/api/v1/admin/families/{family_id}/access-history", params={"before": top}).status_code == 200
    assert admin.get("/api/v1/sync/pull", params={"cursor": top}).status_code == 200


@pytest.mark.parametrize("path", ["/index.html%00.js", "/%00", "/app%01.js", "/a%0d%0ab", "/js/%7f.js",
                                  "/api/v1/families/%00", "/api/v1/sync/pull%00"])
def test_control_characters_in_a_path_are_refused_never_a_500(admin, path):
    for method in ("GET", "POST"):
        r = admin.request(method, path, json={} if method == "POST" else None)
        assert r.status_code in (400, 404), (method, path, r.status_code)
        assert_problem(r)


def _echo_probes(admin: httpx.Client, family_id: str) -> list[httpx.Response]:
    bad = MARK + SCRIPT
    j = {"content-type": "application/json"}
    return [
        admin.get(f"/{bad}.js"),                                     # static file that is not there
        admin.get(f"/js/{MARK}/x.js"),
        admin.get(f"/api/v1/{bad}"),                                 # no such route
        admin.get(f"/api/v1/families/{bad}"),
        admin.delete(f"/health?{MARK}=1"),                           # 405
        admin.post("/api/v1/families", json={"family_name": "A", MARK: True}),         # unknown member
        admin.post("/api/v1/families", json={"family_name": "A", "persons": [{MARK: 1}]}),
        admin.post("/api/v1/families", json={"family_name": 12, "notes": bad}),          # wrong type
        admin.post(f"/api/v1/families/{family_id}/persons", json={"role": bad, "given_name": "X"}),  # enum
        admin.get("/api/v1/sync/pull", params={"cursor": bad}),
        admin.get("/api/v1/sync/pull", params={"epoch": bad}),
        admin.patch(f"/api/v1/families/{family_id}", headers={"If-Match": bad}, json={"notes": "x"}),
        admin.post("/api/v1/families", content=b'{"family_name": "' + bad.encode() + b'", ', headers=j),
        admin.post("/api/v1/sync/push", json={"ops": [{"op_id": bad, "client_seq": bad}]}),
        admin.post("/api/v1/sync/push", json={MARK: []}),
        admin.post("/api/v1/auth/login", json={"username": bad, "password": bad, MARK: 1}),
    ]


def test_error_bodies_have_one_shape_and_never_echo_what_was_sent(admin, family_id):
    responses = _echo_probes(admin, family_id)
    assert {r.status_code for r in responses} >= {400, 404, 405, 422}
    for r in responses:
        assert_problem(r)
        assert MARK not in r.text and "<script" not in r.text, (r.request.method, r.request.url, r.text)


def test_a_sync_op_refused_for_a_bad_value_does_not_quote_it(admin, family_id):
    op = {"type": MARK + SCRIPT, "op_id": str(uuid.uuid4()), "client_seq": 1, "entity": MARK + SCRIPT,
          "entity_id": str(uuid.uuid4()), "family_id": family_id, "values": {}, "hlc": "x"}
    r = admin.post("/api/v1/sync/push", json={"ops": [op]})
    assert r.status_code < 500 and MARK not in r.text and "<script" not in r.text, r.text


@pytest.mark.parametrize("path", ["/", "/index.html", "/sw.js", "/js/app.js", "/manifest.webmanifest", "/health",
                                  "/api/v1/me", "/schema/openapi.json", "/no/such/file.js"])
def test_head_answers_like_get_without_a_body(admin, path):
    get, head = admin.get(path), admin.head(path)
    assert head.status_code == get.status_code and head.status_code != 405, (path, head.status_code)
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers.get("content-length") == get.headers.get("content-length")
    assert head.headers["content-security-policy"] == get.headers["content-security-policy"]
