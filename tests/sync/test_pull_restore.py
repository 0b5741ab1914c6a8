"""Cursors that survive a restore: the change log has an identity (its epoch), a restore
from backup gives it a new one, and a phone whose cursor came from another log is told
to resynchronise. Real backup and restore functions on a real database file."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.backup import backup, restore
from server.settings import Settings
from server.storage import records
from server.storage.records import ENTITIES
from tests.factories import build_world
from tests.sync.device import Phone

PULL = "/api/v1/sync/pull"


def epoch_of(store) -> str:
    with store.read() as db:
        return next(db.query("SELECT value FROM sync_meta WHERE key = 'log_epoch'"))["value"]


def server_view(store, family_ids: set[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every live record of these families, as the server holds it."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    marks = ",".join("?" * len(family_ids))
    with store.read() as db:
        for entity in ENTITIES.values():
            column = "id" if entity.name == "family" else "family_id"
            for row in records.find(db, store.keyring, entity.name, f"{column} IN ({marks})", sorted(family_ids)):
                out[(entity.name, row["id"])] = {f: row.get(f) for f in entity.fields}
    return out


def phone_view(phone: Phone) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for key in phone.model.confirmed:
        values = phone.model.values(*key)
        values.pop("provisional", None)  # a conflict's derived value, not a column
        out[key] = values
    return out


def restored_app(tmp_path: Path, old_settings: Settings, backup_file: Path) -> tuple[Any, Settings]:
    """The server started again on a data directory restored from ``backup_file``."""
    data_dir = tmp_path / "restored"
    restore(backup_file, data_dir)
    settings = Settings.from_env(data_dir=data_dir, demo=True, scheduler_enabled=False)
    settings.keyring_path.parent.mkdir()
    shutil.copy(old_settings.keyring_path, settings.keyring_path)
    return create_app(settings), settings


def test_a_restore_gives_the_change_log_a_new_epoch_and_a_backup_keeps_it(tmp_path, settings, store, client):
    build_world(store)
    before = epoch_of(store)
    backup_file, _ = backup(store.path, tmp_path / "backups")
    assert epoch_of(store) == before
    app, _ = restored_app(tmp_path, settings, backup_file)
    with TestClient(app):
        after = epoch_of(app.state.db)
    assert after and after != before


def test_a_phone_with_a_cursor_from_before_a_restore_resyncs_keeps_its_pending_edit_and_holds_exactly_the_servers_records(
    tmp_path, settings, store, client
):
    world = build_world(store)
    own, child = world.families["own"], world.persons["own"]
    writer = Phone(client, "sup_a1")
    writer.model.set("family", own, own, "notes", "before the backup")
    writer.push()
    phone = Phone(client, "prac_a1")
    phone.pull_all()
    backup_file, _ = backup(store.path, tmp_path / "backups")

    # After the backup: changes the restore will lose, which the phone has pulled.
    writer.model.set("family", own, own, "notes", "lost in the restore")
    lost = writer.model.create("observation", own, {"kind": "fact", "text": "Lost in the restore"})
    writer.push()
    phone.pull_all()
    assert phone.model.values("observation", lost["entity_id"])
    old_epoch, old_cursor = phone.model.epoch, phone.model.cursor
    # And an edit made on the phone while offline, still waiting to be sent.
    phone.model.set("person", child, own, "language", "Welsh")

    app, _ = restored_app(tmp_path, settings, backup_file)
    with TestClient(app) as restored:
        new_store = app.state.db
        # The restored server writes on until its log passes the phone's cursor: only the
        # epoch can tell the phone that its position now names other changes.
        other = Phone(restored, "sup_a1")
        for i in range(old_cursor + 1):
            other.model.set("family", world.families["other_prac"], world.families["other_prac"], "notes", f"n{i}")
        other.push()
        with new_store.read() as db:
            assert next(db.query("SELECT MAX(seq) AS s FROM change_log"))["s"] >= old_cursor

        phone.client = restored
        page = restored.get(PULL, params={"cursor": old_cursor, "epoch": old_epoch}, headers=phone.headers).json()
        assert page["instructions"] == [{"type": "resync"}]
        assert page["changes"] == [] and page["next_cursor"] == 0 and page["epoch"] != old_epoch

        assert phone.push()["results"][0]["status"] == "applied"  # the pending edit is not lost
        phone.pull_all()
        assert phone.model.resyncs == 1 and phone.model.epoch == epoch_of(new_store)
        held, server = phone_view(phone), server_view(new_store, {own})
        assert set(held) == set(server)
        assert all(server[key][f] == v for key, values in held.items() for f, v in values.items())
        fresh = Phone(restored, "prac_a1")
        fresh.pull_all()
        assert held == phone_view(fresh)
        assert ("observation", lost["entity_id"]) not in phone.model.confirmed
        assert phone.model.values("family", own)["notes"] == "before the backup"
        assert phone.model.values("person", child)["language"] == "Welsh"
        # Resynchronised: the next pull is an ordinary one.
        again = restored.get(PULL, params={"cursor": phone.model.cursor, "epoch": phone.model.epoch},
                             headers=phone.headers).json()
        assert again["instructions"] == [] and again["changes"] == []


def test_a_cursor_beyond_the_end_of_the_log_is_told_to_resync_even_without_an_epoch(client, store):
    build_world(store)
    phone = Phone(client, "prac_a1")
    phone.pull_all()
    page = client.get(PULL, params={"cursor": phone.model.cursor + 1}, headers=phone.headers).json()
    assert page["instructions"] == [{"type": "resync"}] and page["changes"] == []
    # has_more with next_cursor 0: an app that does not know the instruction starts again.
    assert page["has_more"] is True and page["next_cursor"] == 0


@pytest.mark.parametrize("cursor", [0, 1])
def test_the_right_epoch_or_cursor_zero_is_never_told_to_resync(client, store, cursor):
    build_world(store)
    phone = Phone(client, "prac_a1")
    phone.pull_all()
    epoch = epoch_of(store) if cursor else "0193a5b0-0000-7000-8000-000000000000"
    page = client.get(PULL, params={"cursor": cursor, "epoch": epoch}, headers=phone.headers).json()
    assert {"type": "resync"} not in page["instructions"]
    assert page["epoch"] == epoch_of(store)


def test_a_malformed_epoch_is_refused_with_a_field_problem(client, store):
    build_world(store)
    phone = Phone(client, "prac_a1")
    r = client.get(PULL, params={"cursor": 1, "epoch": "not an epoch!"}, headers=phone.headers)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert any(e["field"].endswith("epoch") for e in r.json()["errors"])
    assert "not an epoch!" not in r.text
