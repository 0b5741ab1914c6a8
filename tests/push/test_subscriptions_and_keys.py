"""VAPID keys and push subscriptions."""

from __future__ import annotations

import json

from server.app import create_app
from server.push.vapid import vapid_path

from tests.factories import PASSWORD, build_world

from .helpers import auth, login, subscribe


def test_vapid_key_pair_is_made_once_kept_encrypted_and_published(app, client, settings):
    published = client.get("/api/v1/push/vapid-public-key")  # public: no sign-in
    assert published.status_code == 200
    key = published.json()["public_key"]
    from .pushservice import unb64u

    raw = unb64u(key)
    assert len(raw) == 65 and raw[0] == 4
    stored = json.loads(vapid_path(settings.data_dir).read_text())
    assert stored["public_key"] == key
    assert stored["private_key"].startswith("e1.")  # encrypted under the keyring
    assert create_app(settings).state.vapid.public_key_b64 == key  # same pair after a restart


def test_a_device_subscribes_replaces_and_unsubscribes(client, store, push_service):
    build_world(store)
    session = login(client, "prac_a1", PASSWORD)
    first, second = push_service.browser("one"), push_service.browser("two")
    a = subscribe(client, session, first)
    b = subscribe(client, session, second)
    assert a["id"] == b["id"]  # one subscription per device
    status = client.get("/api/v1/push/subscription", headers=auth(session)).json()
    assert status["subscribed"] is True
    with store.read() as db:
        row = list(db.query("SELECT secret FROM push_subscriptions"))[0]
    assert push_service.url not in row["secret"] and "one" not in row["secret"]  # endpoint kept encrypted
    assert client.delete("/api/v1/push/subscription", headers=auth(session)).status_code == 204
    assert client.get("/api/v1/push/subscription", headers=auth(session)).json()["subscribed"] is False


def test_bad_subscriptions_are_refused_with_field_detail(client, store, push_service):
    build_world(store)
    session = login(client, "prac_a1", PASSWORD)
    good = push_service.browser("x").subscription()
    cases = {
        "body.endpoint": {**good, "endpoint": "http://push.example.com/abc"},
        "body.keys.p256dh": {**good, "keys": {**good["keys"], "p256dh": "AAAA" * 10}},
        "body.keys.auth": {**good, "keys": {**good["keys"], "auth": "c2hvcnQ"}},
    }
    for field, body in cases.items():
        r = client.post("/api/v1/push/subscription", json=body, headers=auth(session))
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == [field]
    assert client.post("/api/v1/push/subscription", json={"endpoint": "https://x.example/y"},
                       headers=auth(session)).status_code == 400
    assert client.post("/api/v1/push/subscription", json=good).status_code == 401
    with store.read() as db:
        assert db["push_subscriptions"].count == 0
