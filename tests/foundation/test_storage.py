from __future__ import annotations

import sqlite3

from server.ids import new_id
from server.storage import records
from server.storage.migrations import migrations
from tests.factories import build_world


def test_the_database_is_in_wal_mode_with_every_migration_recorded(store, settings):
    conn = sqlite3.connect(settings.db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    applied = {r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")}
    assert applied == {m.name for m in migrations._migrations}


def test_personal_fields_are_stored_encrypted_and_read_back_in_clear(store, settings):
    w = build_world(store)
    raw = sqlite3.connect(settings.db_path).execute(
        "SELECT family_name, address FROM families WHERE id = ?", [w.families["own"]]).fetchone()
    assert all(v.startswith("e1.") for v in raw)
    with store.read() as db:
        family = records.get(db, store.keyring, "family", w.families["own"])
    assert family["family_name"] == "Sentinelown" and family["address"] == "own Test Street"


def test_a_ciphertext_moved_to_another_record_does_not_decrypt(store, settings):
    w = build_world(store)
    with store.write() as db:
        stolen = next(db.query("SELECT address FROM families WHERE id = ?", [w.families["own"]]))["address"]
        db.execute("UPDATE families SET address = ? WHERE id = ?", [stolen, w.families["other_prac"]])
    import pytest
    from cryptography.exceptions import InvalidTag

    with store.read() as db, pytest.raises(InvalidTag):
        records.get(db, store.keyring, "family", w.families["other_prac"])


def test_updates_bump_versions_per_field_and_log_each_change_once(store):
    w = build_world(store)
    fid = w.families["own"]
    with store.write() as db:
        v2 = records.update(db, store.keyring, "family", fid, {"address": "2 New Road"})
        same = records.update(db, store.keyring, "family", fid, {"address": "2 New Road"})
        v3 = records.update(db, store.keyring, "family", fid, {"phone": "01632 960000"})
        family = records.get(db, store.keyring, "family", fid)
        log = list(db.query("SELECT * FROM change_log WHERE entity_id = ? ORDER BY seq", [fid]))
    assert (v2, same, v3) == (2, 2, 3)
    assert family["field_meta"]["address"]["v"] == 2 and family["field_meta"]["phone"]["v"] == 3
    assert family["field_meta"]["family_name"]["v"] == 1
    assert [e["op"] for e in log] == ["insert", "update", "update"]
    assert records.decode_changes(store.keyring, log[1]) == {"address": "2 New Road"}


def test_a_failed_write_transaction_leaves_nothing_behind(store):
    w = build_world(store)
    with store.read() as db:
        before = db.execute("SELECT COUNT(*) FROM change_log").fetchone()[0]
    try:
        with store.write() as db:
            records.update(db, store.keyring, "family", w.families["own"], {"notes": "half"})
            records.insert(db, store.keyring, "observation", {"id": new_id(), "agency_id": "x"})
    except Exception:
        pass
    with store.read() as db:
        assert db.execute("SELECT COUNT(*) FROM change_log").fetchone()[0] == before
        assert records.get(db, store.keyring, "family", w.families["own"])["notes"] is None


def test_observations_are_append_only(store):
    import pytest

    w = build_world(store)
    oid = new_id()
    with store.write() as db:
        records.insert(db, store.keyring, "observation", {
            "id": oid, "agency_id": w.agencies["A"], "family_id": w.families["own"], "kind": "fact",
            "text": "Seen", "recorded_by": w.users["prac_a1"], "recorded_at": "2026-01-01T10:00:00Z"})
        with pytest.raises(ValueError):
            records.update(db, store.keyring, "observation", oid, {"text": "changed"})
