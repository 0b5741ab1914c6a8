"""``keys rotate`` re-encrypts everything under a new key, resumably; ``keys retire``
drops an old key only when nothing is left under it."""

from __future__ import annotations

import json
import os
import stat

import pytest

from server import demo
from server.security.rotation import RotationInterrupted, retire, rotate, values_under_keys
from server.storage import records
from server.storage.crypto import Keyring

from .conftest import cli


def _everything(store) -> dict[str, list[dict]]:
    with store.read() as db:
        out = {name: records.find(db, store.keyring, name, include_deleted=True)
               for name in ("family", "person", "visit", "flag", "follow_up")}
        out["changes"] = [records.decode_changes(store.keyring, e) for e in db.query("SELECT * FROM change_log")]
    return out


def test_an_interrupted_rotation_resumes_and_then_the_old_key_can_be_retired(store, settings):
    demo.seed_demo(store)

    before = _everything(store)
    path = settings.keyring_path

    with pytest.raises(RotationInterrupted):
        rotate(store, path, batch_size=7, stop_after_batches=5)
    on_disk = Keyring.from_json(path.read_text())
    assert on_disk.active == "k2" and set(on_disk.keys) == {"k1", "k2"}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with store.read() as db:
        marker = next(db.query("SELECT * FROM key_rotations WHERE finished_at IS NULL"))
        assert marker["target_kid"] == "k2" and marker["reencrypted"] > 0
        half = values_under_keys(db, ["k1"])
    assert half, "some values are still under k1 half-way through"
    # Half-way, everything still reads (old key kept, new key active).
    assert _everything(store) == before
    with pytest.raises(ValueError, match="in progress"):
        retire(store, path, "k1")

    report = rotate(store, path, batch_size=7)  # run again: resumes, adds no third key
    assert report.resumed and report.target_kid == "k2" and not report.remaining_old
    assert set(Keyring.from_json(path.read_text()).keys) == {"k1", "k2"}
    with store.read() as db:
        assert values_under_keys(db, ["k1"]) == {}
        assert next(db.query("SELECT count(*) AS n FROM key_rotations WHERE finished_at IS NULL"))["n"] == 0
        actions = [r["action"] for r in db.query("SELECT action FROM audit_events ORDER BY seq")]
    assert "key-rotation-started" in actions and "key-rotated" in actions
    assert _everything(store) == before

    retire(store, path, "k1")
    assert set(Keyring.from_json(path.read_text()).keys) == {"k2"}
    fresh = Keyring.load_or_create(path)
    store.keyring = fresh
    assert _everything(store) == before


def test_retire_refuses_while_values_remain_under_the_key(store, settings, client):
    from tests.factories import build_world, login

    build_world(store)
    login(client, "prac_a1")  # a device with an escrow key
    store.close()
    rotated = cli("keys", "rotate", data_dir=settings.data_dir, check=True)
    assert "Rotated to key k2" in rotated.stdout and "devices.escrow_key: 1" in rotated.stdout
    # A server started before the rotation keeps writing under k1 until it reloads.
    old = Keyring.from_json(json.dumps({**json.loads(settings.keyring_path.read_text()), "active": "k1"}))
    with store.write() as db:
        fam = next(db.query("SELECT id, agency_id FROM families LIMIT 1"))
        records.update(db, old, "family", fam["id"], {"notes": "written under the old key"})
    store.close()
    refused = cli("keys", "retire", "k1", data_dir=settings.data_dir)
    assert refused.returncode != 0 and "families.notes" in refused.stderr
    resumed = cli("keys", "rotate", "--resume", data_dir=settings.data_dir, check=True)
    assert "Resumed" in resumed.stdout or "Rotated" in resumed.stdout
    cli("keys", "retire", "k1", data_dir=settings.data_dir, check=True)
    assert cli("audit", "verify", data_dir=settings.data_dir).returncode == 0


def test_a_running_server_reads_values_written_under_a_key_added_after_it_started(store, settings, client):
    from tests.factories import auth, build_world, login

    world = build_world(store)
    session = login(client, "prac_a1")
    store.close()
    cli("keys", "rotate", data_dir=settings.data_dir, check=True)
    r = client.get("/api/v1/families/" + world.families["own"], headers=auth(session))
    assert r.status_code == 200 and r.json()["family_name"] == "Sentinelown"


def test_retire_refuses_while_a_file_in_the_data_directory_needs_the_key(store, settings):
    from server.storage.crypto import Keyring as K

    (settings.data_dir / "vapid.json").write_text(json.dumps({"private_key": store.keyring.encrypt(b"k", "vapid")}))
    rotate(store, settings.keyring_path)
    with pytest.raises(ValueError, match="vapid.json"):
        retire(store, settings.keyring_path, "k1")
    assert "k1" in K.from_json(settings.keyring_path.read_text()).keys


def test_push_subscriptions_and_the_vapid_key_are_re_encrypted(store, settings, client):
    from server.push.vapid import load_or_create
    from tests.factories import auth, build_world, login

    build_world(store)
    session = login(client, "prac_a1")
    from tests.push.pushservice import b64u
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    keys = {"p256dh": b64u(point), "auth": b64u(os.urandom(16))}
    r = client.post("/api/v1/push/subscription", headers=auth(session),
                    json={"endpoint": "http://127.0.0.1:9/push/device-one", "keys": keys})
    assert r.status_code in (200, 201), r.text
    public_before = load_or_create(settings.data_dir, store.keyring).public_key_b64

    report = rotate(store, settings.keyring_path)
    assert report.per_column["push_subscriptions.secret"] == 1 and not report.remaining_old
    assert report.per_column["keys/vapid.json"] == 1
    with store.read() as db:
        sid, value = db.execute("SELECT id, secret FROM push_subscriptions").fetchone()
    assert value.startswith("e1.k2.")
    assert b"device-one" in store.keyring.decrypt(value, f"push_subscriptions/{sid}/secret")
    sealed = json.loads((settings.data_dir / "keys" / "vapid.json").read_text())["private_key"]
    assert sealed.startswith("e1.k2.")
    # Same key pair: browsers subscribed with the old public key keep receiving pushes.
    assert load_or_create(settings.data_dir, store.keyring).public_key_b64 == public_before
    retire(store, settings.keyring_path, "k1")
