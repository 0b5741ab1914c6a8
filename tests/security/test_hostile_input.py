"""Hostile and broken input gets a clear 4xx problem+json answer and changes nothing.

The whole database (every table but the audit trail and the sign-in back-off, which
record refused sign-ins by design) is dumped before and after the barrage and compared
row for row."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from server.clock import iso, utcnow
from tests.factories import auth, login

from .conftest import dump_tables

SQLI = ["' OR '1'='1", "x'; DROP TABLE families; --", "1 UNION SELECT password_hash FROM users --", '" OR ""="']
XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "javascript:alert(1)"]


def _nested(depth: int) -> bytes:
    return b'{"family_name":"x","notes":' + b"[" * depth + b"]" * depth + b"}"


@pytest.fixture
def sessions(client, world, store):
    s = {name: login(client, name) for name in ("prac_a1", "sup_a1", "admin_a", "admin_b", "prac_b1")}
    expired = login(client, "prac_a2")
    with store.write() as db:
        db.execute("UPDATE tokens SET expires_at = ? WHERE device_id = ?",
                   [iso(utcnow() - timedelta(minutes=1)), expired["device"]["id"]])
    s["expired"] = expired
    return s


def hostile_requests(world, s):
    """(description, method, path, kwargs) for every hostile request."""
    own, other_agency = world.families["own"], world.families["other_agency"]
    other_prac = world.families["other_prac"]
    admin, prac = auth(s["admin_a"]), auth(s["prac_a1"])
    json_h = {"content-type": "application/json"}
    out = []
    for bad in SQLI + XSS:
        out += [
            (f"id in path {bad!r}", "GET", f"/api/v1/families/{bad}", {"headers": admin}),
            (f"id in path {bad!r} (write)", "PATCH", f"/api/v1/families/{bad}", {"headers": admin, "json": {"notes": "x"}}),
            (f"login username {bad!r}", "POST", "/api/v1/auth/login", {"json": {"username": bad, "password": bad}}),
            (f"team id {bad!r}", "POST", "/api/v1/families", {"headers": admin, "json": {"family_name": "X", "team_id": bad}}),
            (f"nhs number {bad!r}", "POST", f"/api/v1/families/{own}/persons",
             {"headers": admin, "json": {"role": "child", "given_name": "X", "nhs_number": bad}}),
            (f"role {bad!r}", "POST", "/api/v1/users", {"headers": admin, "json": {
                "username": "newuser", "display_name": "N", "role": bad, "password": "a long enough password"}}),
            (f"format {bad!r}", "GET", f"/api/v1/admin/persons/{world.persons['own']}/export",
             {"headers": admin, "params": {"format": bad}}),
            (f"refresh token {bad!r}", "POST", "/api/v1/auth/refresh", {"json": {"refresh_token": bad + "0123456789"}}),
        ]
    out += [
        ("body over the size limit", "POST", "/api/v1/families",
         {"headers": {**admin, **json_h}, "content": b'{"family_name":"' + b"a" * 2_100_000 + b'"}'}),
        ("string over its max length", "POST", "/api/v1/families", {"headers": admin, "json": {"family_name": "a" * 101}}),
        ("notes over their max length", "POST", "/api/v1/families",
         {"headers": admin, "json": {"family_name": "A", "notes": "n" * 2001}}),
        ("deeply nested JSON", "POST", "/api/v1/families", {"headers": {**admin, **json_h}, "content": _nested(100_000)}),
        ("nested JSON where text belongs", "POST", "/api/v1/families",
         {"headers": {**admin, **json_h}, "content": _nested(50)}),
        ("invalid UTF-8", "POST", "/api/v1/families",
         {"headers": {**admin, **json_h}, "content": b'{"family_name":"\xff\xfe\xc3"}'}),
        ("truncated JSON", "POST", "/api/v1/families", {"headers": {**admin, **json_h}, "content": b'{"family_name":'}),
        ("JSON that is not an object", "POST", "/api/v1/families", {"headers": {**admin, **json_h}, "content": b"[1,2]"}),
        ("unknown field", "POST", "/api/v1/families", {"headers": admin, "json": {"family_name": "A", "is_admin": True}}),
        ("wrong type", "POST", "/api/v1/families", {"headers": admin, "json": {"family_name": 12}}),
        ("text/plain body", "POST", "/api/v1/families",
         {"headers": {**admin, "content-type": "text/plain"}, "content": b'{"family_name":"A"}'}),
        ("form body", "POST", "/api/v1/families",
         {"headers": {**admin, "content-type": "application/x-www-form-urlencoded"}, "content": b"family_name=A"}),
        ("multipart body", "POST", "/api/v1/families", {"headers": admin, "files": {"f": ("a.json", b"{}")}}),
        ("xml body", "POST", "/api/v1/auth/login",
         {"headers": {"content-type": "application/xml"}, "content": b"<login/>"}),
        ("no token", "GET", "/api/v1/families", {}),
        ("forged token", "GET", "/api/v1/families", {"headers": {"Authorization": "Bearer hs_" + "A" * 43}}),
        ("token altered by one character", "GET", "/api/v1/families",
         {"headers": {"Authorization": "Bearer " + s["prac_a1"]["access_token"][:-1] + "x"}}),
        ("refresh token used as access token", "GET", "/api/v1/families",
         {"headers": {"Authorization": "Bearer " + s["prac_a1"]["refresh_token"]}}),
        ("basic auth", "GET", "/api/v1/families", {"headers": {"Authorization": "Basic YWRtaW46YWRtaW4="}}),
        ("expired token", "GET", "/api/v1/families", {"headers": auth(s["expired"])}),
        ("expired token writing", "POST", "/api/v1/families", {"headers": auth(s["expired"]), "json": {"family_name": "A"}}),
        ("other agency's family", "GET", f"/api/v1/families/{other_agency}", {"headers": admin}),
        ("other agency's family (write)", "PATCH", f"/api/v1/families/{other_agency}",
         {"headers": admin, "json": {"notes": "overwritten"}}),
        ("person into other agency's family", "POST", f"/api/v1/families/{other_agency}/persons",
         {"headers": admin, "json": {"role": "child", "given_name": "X"}}),
        ("allocate other agency's practitioner", "POST", f"/api/v1/families/{own}/allocations",
         {"headers": admin, "json": {"practitioner_id": world.users["prac_b1"]}}),
        ("end other agency's allocation", "POST",
         f"/api/v1/families/{other_agency}/allocations/{world.users['prac_b1']}/end", {"headers": admin}),
        ("other agency's access history", "GET", f"/api/v1/admin/families/{other_agency}/access-history",
         {"headers": admin}),
        ("other agency's person export", "GET", f"/api/v1/admin/persons/{world.persons['other_agency']}/export",
         {"headers": admin}),
        ("other agency's user", "PATCH", f"/api/v1/users/{world.users['prac_b1']}",
         {"headers": admin, "json": {"disabled": True}}),
        ("unlock other agency's user", "POST", f"/api/v1/users/{world.users['prac_b1']}/unlock", {"headers": admin}),
        ("revoke other agency's device", "POST", f"/api/v1/devices/{s['prac_b1']['device']['id']}/revoke",
         {"headers": admin}),
        ("practitioner reads another's family", "GET", f"/api/v1/families/{other_prac}", {"headers": prac}),
        ("practitioner writes another's family", "PATCH", f"/api/v1/families/{other_prac}",
         {"headers": prac, "json": {"notes": "x"}}),
        ("practitioner creates a user", "POST", "/api/v1/users", {"headers": prac, "json": {
            "username": "sneaky", "display_name": "S", "role": "admin", "password": "a long enough password"}}),
        ("supervisor adds family to another team", "POST", "/api/v1/families",
         {"headers": auth(s["sup_a1"]), "json": {"family_name": "X", "team_id": world.teams["A2"]}}),
        ("enrol onto someone else's device", "POST", "/api/v1/auth/login", {"json": {
            "username": "admin_a", "password": "correct horse battery staple",
            "device_id": s["prac_a1"]["device"]["id"]}}),
        ("random uuid", "GET", f"/api/v1/families/{uuid.uuid4()}", {"headers": admin}),
    ]
    return out


def test_hostile_input_gets_clear_4xx_and_changes_nothing(client, store, world, sessions, settings):
    requests = hostile_requests(world, sessions)
    assert len(requests) > 90
    with store.read() as db:
        audit_before = db.execute("SELECT max(seq) FROM audit_events").fetchone()[0]
    kept = ("audit_events", "sign_in_backoff")
    before = dump_tables(settings.db_path, exclude=kept)
    for description, method, path, kwargs in requests:
        r = client.request(method, path, **kwargs)
        assert 400 <= r.status_code < 500, f"{description}: {r.status_code} {r.text[:200]}"
        assert r.headers["content-type"].startswith("application/problem+json"), description
        body = r.json()
        assert body["status"] == r.status_code and body["title"] and body["type"].startswith("urn:hearthside:problem:")
        # Nothing the caller sent comes back, so an error page cannot carry their script.
        assert "<script>" not in r.text, description
    assert dump_tables(settings.db_path, exclude=kept) == before
    with store.read() as db:
        added = {r["action"] for r in db.query("SELECT action FROM audit_events WHERE seq > ?", [audit_before])}
    assert added <= {"sign-in-failed"}


def test_field_errors_name_the_field(client, world, sessions):
    admin = auth(sessions["admin_a"])
    r = client.post("/api/v1/families", headers=admin, json={"family_name": "a" * 101})
    assert r.status_code == 400 and any("family_name" in e["field"] for e in r.json()["errors"])
    r = client.post("/api/v1/families", headers=admin, content=b"[" * 5000)
    assert r.status_code in (400, 415)


def test_injection_strings_in_valid_fields_are_stored_verbatim_and_harmlessly(client, store, world, sessions):
    admin = auth(sessions["admin_a"])
    for bad in SQLI + XSS:
        r = client.post("/api/v1/families", headers=admin, json={"family_name": bad[:100], "notes": bad})
        assert r.status_code == 201, r.text
        assert r.json()["family_name"] == bad[:100]
        assert r.headers["content-type"].startswith("application/json")
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM families").fetchone()[0] == 4 + len(SQLI + XSS)
        assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 9
    names = {f["family_name"] for f in client.get("/api/v1/families", headers=admin).json()}
    assert set(b[:100] for b in SQLI + XSS) <= names
