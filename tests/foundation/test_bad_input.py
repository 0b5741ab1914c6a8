"""Bad input on every foundation endpoint: a 4xx problem+json naming the field, and not
one row of the database changed."""

from __future__ import annotations

import sqlite3

import pytest

from tests.factories import auth, build_world, login


def snapshot(settings) -> list[str]:
    conn = sqlite3.connect(settings.db_path)
    # The audit trail records refusals too (sign-in failures); everything else must stand still.
    rows = [line for line in conn.iterdump() if "audit_events" not in line and "sqlite_sequence" not in line]
    conn.close()
    return rows


@pytest.fixture
def world(store):
    return build_world(store)


UNKNOWN = "0190a8b2-0000-7000-8000-000000000000"


def cases(w):
    fid = w.families["own"]
    return [
        # (who, method, url, body, expected status, field named in errors or None)
        (None, "POST", "/api/v1/auth/login", {"username": 5, "password": "x"}, 400, "body.username"),
        (None, "POST", "/api/v1/auth/login", {"password": "x"}, 400, "body.username"),
        (None, "POST", "/api/v1/auth/login", {"username": "a", "password": "x", "device_id": "not-a-uuid"}, 400,
         "body.device_id"),
        # A member the client made up is not named back: the object holding it is.
        (None, "POST", "/api/v1/auth/login", {"username": "a", "password": "x", "extra": 1}, 400, "body"),
        (None, "POST", "/api/v1/auth/refresh", {"refresh_token": 12}, 400, "body.refresh_token"),
        ("admin_a", "POST", "/api/v1/users", {"username": "x", "display_name": "X", "role": "practitioner",
                                              "password": "long enough pass 1"}, 400, "body.username"),
        ("admin_a", "POST", "/api/v1/users", {"username": "newuser", "display_name": "X", "role": "boss",
                                              "password": "long enough pass 1"}, 400, "body.role"),
        ("admin_a", "PATCH", f"/api/v1/users/{UNKNOWN}", {"disabled": True}, 404, None),
        ("admin_a", "PATCH", f"/api/v1/users/{w.users['prac_a1']}", {"disabled": "yes"}, 400, "body.disabled"),
        ("admin_a", "POST", f"/api/v1/devices/{UNKNOWN}/revoke", None, 404, None),
        ("admin_a", "POST", "/api/v1/families", {"family_name": ""}, 400, "body.family_name"),
        ("admin_a", "POST", "/api/v1/families", {"family_name": "X", "postcode": "Y" * 50}, 400, "body.postcode"),
        ("admin_a", "POST", "/api/v1/families", {"family_name": "X", "team_id": UNKNOWN}, 422, "body.team_id"),
        ("admin_a", "GET", f"/api/v1/families/{UNKNOWN}", None, 404, None),
        ("admin_a", "PATCH", f"/api/v1/families/{UNKNOWN}", {"notes": "x"}, 404, None),
        ("admin_a", "PATCH", f"/api/v1/families/{fid}", {"status": "gone"}, 400, "body.status"),
        ("admin_a", "PATCH", f"/api/v1/families/{fid}", {"notes": "x" * 5000}, 400, "body.notes"),
        ("admin_a", "POST", f"/api/v1/families/{fid}/persons", {"role": "child"}, 400, "body.given_name"),
        ("admin_a", "POST", f"/api/v1/families/{fid}/persons", {"role": "child", "given_name": "A",
                                                                "date_of_birth": "1st May"}, 400, "body.date_of_birth"),
        ("admin_a", "POST", f"/api/v1/families/{fid}/persons", {"role": "child", "given_name": "A",
                                                                "nhs_number": "123"}, 400, "body.nhs_number"),
        ("admin_a", "POST", f"/api/v1/families/{fid}/allocations", {"practitioner_id": UNKNOWN}, 422,
         "body.practitioner_id"),
        ("admin_a", "POST", f"/api/v1/families/{fid}/allocations", {}, 400, "body.practitioner_id"),
        ("admin_a", "POST", f"/api/v1/families/{fid}/allocations/{UNKNOWN}/end", None, 404, None),
    ]


def test_every_bad_request_is_refused_with_field_detail_and_changes_nothing(client, world, settings):
    sessions = {}
    for who, method, url, body, status, field in cases(world):
        headers = {}
        if who:
            sessions.setdefault(who, login(client, who))
            headers = auth(sessions[who])
        before = snapshot(settings)
        r = client.request(method, url, json=body, headers=headers)
        assert r.status_code == status, (method, url, body, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["status"] == status and problem["type"].startswith("urn:hearthside:problem:")
        if field:
            assert field in {e["field"] for e in problem["errors"]}, problem
        assert snapshot(settings) == before, (method, url, body)


def test_malformed_json_and_wrong_content_types_are_refused(client, world):
    r = client.post("/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    r = client.post("/api/v1/auth/login", content=b"\xff\xfe\x00", headers={"content-type": "application/json"})
    assert r.status_code == 400


def test_an_oversized_body_gets_413_and_changes_nothing(client, world, settings):
    before = snapshot(settings)
    big = b'{"username": "' + b"a" * (settings.max_body_bytes + 10) + b'", "password": "x"}'
    r = client.post("/api/v1/auth/login", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["type"] == "urn:hearthside:problem:payload-too-large"
    assert snapshot(settings) == before
