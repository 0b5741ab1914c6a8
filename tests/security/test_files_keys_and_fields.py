"""Data at rest: every file the server makes is private to its user, the keyring lives
outside the data directory, relationship wording and device names are ciphertext, and
enumerated fields take only the values the model and the content declare."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from server.ids import new_id
from server.storage import records
from server.settings import Settings
from server.storage.crypto import is_encrypted
from tests.conftest import REPO, LiveServer
from tests.factories import auth, login
from tests.sync.device import Phone

from .conftest import cli


def _modes(*roots: Path) -> dict[str, int]:
    out = {}
    for root in roots:
        for path in [root, *root.rglob("*")]:
            out[str(path)] = stat.S_IMODE(path.stat().st_mode)
    return out


def test_everything_the_server_creates_is_private_to_its_user_even_under_a_loose_umask(tmp_path):
    old = os.umask(0o022)  # what a shell usually has: files 0644, folders 0755
    try:
        server = LiveServer(tmp_path / "data").start()
        try:
            server.login("admin1")
            cli("backup", str(tmp_path / "backups"), data_dir=server.data_dir, check=True)
            settings = Settings.from_env(data_dir=server.data_dir)
            db = settings.db_path
            assert Path(f"{db}-wal").exists() and Path(f"{db}-shm").exists()
            modes = _modes(settings.data_dir, settings.keyring_path.parent, settings.anchor_path.parent,
                           tmp_path / "backups")
        finally:
            server.stop()
    finally:
        os.umask(old)
    assert {str(db), f"{db}-wal", f"{db}-shm", str(settings.keyring_path), str(settings.anchor_path)} <= set(modes)
    assert len([p for p in modes if p.endswith(".db")]) >= 2  # the database and its backup
    loose = {p: oct(m) for p, m in modes.items() if m & 0o077}
    assert not loose


def test_the_keyring_defaults_to_a_folder_outside_the_data_directory(tmp_path):
    settings = Settings.from_env(environ={}, data_dir=tmp_path / "data")
    assert settings.data_dir.absolute() not in settings.keyring_path.parents
    assert settings.keyring_path == tmp_path / "data-keys" / "keyring.json"


def test_a_keyring_left_inside_the_data_directory_stops_the_server_unless_chosen_explicitly(tmp_path):
    data_dir = tmp_path / "data"
    assert cli("migrate", data_dir=data_dir).returncode == 0
    settings = Settings.from_env(environ={}, data_dir=data_dir)
    settings.legacy_keyring_path.parent.mkdir()
    settings.keyring_path.rename(settings.legacy_keyring_path)  # where the old default put it
    refused = cli("migrate", data_dir=data_dir)
    assert refused.returncode != 0 and "inside the data directory" in refused.stderr
    env = {**os.environ, "HEARTHSIDE_KEYRING_FILE": str(settings.legacy_keyring_path)}
    chosen = subprocess.run([sys.executable, "-m", "server", "audit", "verify", "--data-dir", str(data_dir)],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert chosen.returncode == 0, chosen.stderr


def test_relationship_wording_and_device_names_are_ciphertext_and_read_back_in_clear(client, store, world):
    fam, child = world.families["own"], world.persons["own"]
    sup = Phone(client, "sup_a1")
    adult = sup.model.create("person", fam, {"role": "male-carer", "given_name": "Tobias"})["entity_id"]
    rel = sup.model.create("relationship", fam, {"adult_id": adult, "child_id": child,
                                                 "relationship": "Mum's boyfriend, stays most nights"})["entity_id"]
    assert all(r["status"] == "applied" for r in sup.push()["results"])
    prac = login(client, "prac_a1", device_name="Jane's work phone")
    with store.read() as db:
        stored_rel = db.execute("SELECT relationship FROM relationships WHERE id = ?", [rel]).fetchone()[0]
        stored_name = db.execute("SELECT name FROM devices WHERE id = ?", [prac["device"]["id"]]).fetchone()[0]
    assert is_encrypted(stored_rel) and is_encrypted(stored_name)
    assert prac["device"]["name"] == "Jane's work phone"
    listed = client.get("/api/v1/devices", headers=auth(prac)).json()
    assert [d["name"] for d in listed] == ["Jane's work phone"]
    with store.read() as db:
        assert records.get(db, store.keyring, "relationship", rel)["relationship"] == \
            "Mum's boyfriend, stays most nights"


def test_the_migration_encrypts_relationships_and_device_names_stored_in_clear(store, world):
    from server.storage.migrations import apply_migrations

    with store.write() as db:
        device = new_id()
        db.execute("INSERT INTO devices (id, user_id, agency_id, name, escrow_key, enrolled_at) VALUES"
                   " (?, ?, ?, 'Pat''s phone', 'x', '2026-01-01')", [device, world.users["prac_a1"],
                                                                      world.agencies["A"]])
        rel = new_id()
        db.execute("INSERT INTO relationships (id, agency_id, family_id, adult_id, child_id, relationship,"
                   " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'mum''s boyfriend', '2026-01-01', '2026-01-01')",
                   [rel, world.agencies["A"], world.families["own"], world.persons["own"], world.persons["own"]])
        # The database as it was before the migration.
        db.execute("DROP INDEX audit_events_alerts")
        db.execute("ALTER TABLE audit_events DROP COLUMN alert")
        db.execute("ALTER TABLE audit_events DROP COLUMN team_id")
        db.execute("DELETE FROM _sqlite_migrations WHERE name LIKE 'security_0002_%'")
    applied = apply_migrations(store.connect())
    assert applied == ["security_0002_audit_alerts_encrypted_relationships_and_device_names"]
    with store.read() as db:
        name = db.execute("SELECT name FROM devices WHERE id = ?", [device]).fetchone()[0]
        wording = db.execute("SELECT relationship FROM relationships WHERE id = ?", [rel]).fetchone()[0]
    assert store.keyring.decrypt(name, f"devices/{device}/name") == b"Pat's phone"
    assert store.keyring.decrypt(wording, f"relationships/{rel}/relationship") == b"mum's boyfriend"


@pytest.mark.parametrize("values, field", [
    ({"item_id": "cot"}, "item_id"),  # no such item in the content
    ({"item_id": "child-seen"}, "item_id"),  # an item of another checklist
    ({"checklist_id": "made-up"}, "checklist_id"),
    ({"seen_or_told": "heard"}, "seen_or_told"),
])
def test_an_answer_names_a_checklist_item_of_the_content_and_an_allowed_choice(client, store, world, values,
                                                                                field):
    fam, child = world.families["own"], world.persons["own"]
    phone = Phone(client, "prac_a1")
    visit = phone.model.create("visit", fam, {"type": "targeted", "status": "in-progress"})["entity_id"]
    good = {"visit_id": visit, "checklist_id": "safe-sleep", "checklist_version": 1, "subject_id": child,
            "item_id": "sleep-place-night", "answer": "cot"}
    ok = phone.model.create("checklist_response", fam, good)
    bad = phone.model.create("checklist_response", fam, {**good, **values})
    results = {r["op_id"]: r for r in phone.push()["results"]}
    assert results[ok["op_id"]]["status"] == "applied"
    assert results[bad["op_id"]]["status"] == "rejected" and field in results[bad["op_id"]]["reason"]
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM checklist_responses WHERE id = ?", [bad["entity_id"]]
                          ).fetchone()[0] == 0


def test_a_visit_type_outside_the_model_is_refused(client, store, world):
    phone = Phone(client, "prac_a1")
    op = phone.model.create("visit", world.families["own"], {"type": "social-call", "status": "planned"})
    result = phone.push()["results"][0]
    assert result["status"] == "rejected" and "type" in result["reason"]
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM visits WHERE id = ?", [op["entity_id"]]).fetchone()[0] == 0
