"""Security headers on every response: API, errors, unknown paths, static files."""

from __future__ import annotations

import pytest

from server.security.headers import CSP
from tests.factories import auth, login


def assert_security_headers(r) -> None:
    h = r.headers
    assert h["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    perms = h["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in perms


@pytest.fixture
def pwa_settings(tmp_path):
    from server.settings import Settings

    pwa = tmp_path / "pwa"
    pwa.mkdir()
    (pwa / "index.html").write_text("<!doctype html><title>x</title>")
    (pwa / "sw.js").write_text("self.addEventListener('fetch', () => {});")
    (pwa / "app.js").write_text("export const x = 1;")
    return Settings.from_env({}, data_dir=tmp_path / "data", demo=True, pwa_dir=pwa)


@pytest.fixture
def pwa_client(pwa_settings):
    from litestar.testing import TestClient

    from server.app import create_app

    with TestClient(create_app(pwa_settings)) as c:
        yield c


def test_every_kind_of_response_carries_the_security_headers(pwa_client, world):
    c = pwa_client
    session = login(c, "admin_a")
    responses = [
        c.get("/health"),
        c.get("/api/v1/families", headers=auth(session)),  # 200
        c.get("/api/v1/families"),  # 401
        c.get("/api/v1/families/" + world.families["other_agency"], headers=auth(session)),  # 404 (other agency)
        c.get("/no/such/path"),  # 404 before any route matches
        c.delete("/api/v1/me", headers=auth(session)),  # 405
        c.post("/api/v1/families", content=b"x", headers={**auth(session), "content-type": "text/plain"}),  # 415
        c.post("/api/v1/families", content=b"{" * 10, headers={**auth(session), "content-type": "application/json"}),
        c.get("/schema/openapi.json"),
        c.get("/"),
        c.get("/sw.js"),
        c.get("/app.js"),
    ]
    assert {r.status_code for r in responses} >= {200, 400, 401, 404, 405, 415}
    for r in responses:
        assert_security_headers(r)


def test_api_responses_are_never_cached_but_static_files_may_be(pwa_client, world):
    c = pwa_client
    session = login(c, "prac_a1")
    for r in (c.get("/api/v1/families", headers=auth(session)), c.get("/api/v1/families"),
              c.get("/api/v1/me", headers=auth(session))):
        assert r.headers["cache-control"] == "no-store"
    assert c.get("/sw.js").headers["cache-control"] == "no-cache"
    assert "no-store" not in c.get("/app.js").headers.get("cache-control", "")


def test_hsts_only_over_tls(tmp_path):
    from litestar.testing import TestClient

    from server.app import create_app
    from server.settings import Settings

    # A forwarded scheme is judged by the server layer (tests/security/test_serving.py),
    # never by a header the app reads: even with the setting on, the app ignores it.
    for trust in (False, True):
        app = create_app(Settings.from_env({}, data_dir=tmp_path / str(trust), trust_proxy=trust))
        with TestClient(app) as c:
            assert "strict-transport-security" not in c.get("/health").headers
            assert "strict-transport-security" not in c.get("/health", headers={"x-forwarded-proto": "https"}).headers
        with TestClient(app, base_url="https://testserver.local") as c:
            assert c.get("/health").headers["strict-transport-security"].startswith("max-age=")
