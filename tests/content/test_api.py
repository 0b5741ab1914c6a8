from litestar.datastructures import State
from litestar.testing import create_test_client

from server.content.api import ContentController


def test_get_content_serves_version_checklists_params_and_recording(content):
    with create_test_client(route_handlers=[ContentController], state=State({"content": content})) as client:
        r = client.get("/api/v1/content")
        assert r.status_code == 200
        body = r.json()
        assert body["version"] == content.version
        ids = [c["id"] for c in body["checklists"]]
        assert "safe-sleep" in ids and "no-access" in ids
        for c in body["checklists"]:
            assert isinstance(c["version"], int) and c["items"]
        assert body["params"]["no_access_threshold"] == 2
        assert body["recording"]["phrases"]
        assert r.headers["etag"] == f'"{content.version}"'


def test_get_content_revalidates_with_etag(content):
    with create_test_client(route_handlers=[ContentController], state=State({"content": content})) as client:
        etag = client.get("/api/v1/content").headers["etag"]
        again = client.get("/api/v1/content", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        stale = client.get("/api/v1/content", headers={"If-None-Match": '"old-version"'})
        assert stale.status_code == 200


def test_content_is_read_from_app_state_at_request_time(content):
    import msgspec

    other = msgspec.structs.replace(content, version="test-version")

    def on_startup(app):
        app.state.content = other

    with create_test_client(route_handlers=[ContentController], on_startup=[on_startup]) as client:
        assert client.get("/api/v1/content").json()["version"] == "test-version"
