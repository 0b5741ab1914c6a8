"""Pins the error shape every client relies on (RFC 9457 problem+json)."""

from __future__ import annotations

from litestar import get
from litestar.testing import create_test_client

from server.errors import Conflict, FieldError, exception_handlers


@get("/boom", sync_to_thread=False)
def boom() -> None:
    raise Conflict("Already there.", errors=[FieldError("body.name", "taken")], extra={"current": {"v": 2}})


@get("/crash", sync_to_thread=False)
def crash() -> None:
    raise RuntimeError("Ms Sentinel's address is 1 Secret Road")


def test_domain_errors_become_problem_json_with_field_errors():
    with create_test_client([boom], exception_handlers=exception_handlers) as client:
        r = client.get("/boom")
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json() == {
        "type": "urn:hearthside:problem:conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "Already there.",
        "errors": [{"field": "body.name", "message": "taken"}],
        "current": {"v": 2},
    }


def test_unexpected_errors_answer_500_without_their_message(caplog):
    with create_test_client([crash], exception_handlers=exception_handlers) as client:
        r = client.get("/crash")
    assert r.status_code == 500
    assert r.json()["type"] == "urn:hearthside:problem:server-error"
    assert "Sentinel" not in r.text
    assert "Sentinel" not in caplog.text


def test_unknown_routes_are_problem_json(client):
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
