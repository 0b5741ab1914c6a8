"""The end of the audit trail cannot be cut off unnoticed: its keyed head is anchored in a
file outside the database after every commit, and ``hearthside audit verify`` checks the
database against it. A cut-off end, a wipe and an older copy put in place are named; a
restore through ``hearthside restore`` is named as a restore; a crash between a commit
and the anchor write is not tampering."""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import stat
import threading
from pathlib import Path

import httpx
import pytest

from server import audit
from server.storage.db import Database
from tests.conftest import LiveServer
from tests.factories import auth, login

from .conftest import cli


def _actions(client, world, n: int = 1) -> None:
    """Audited reads and a write (the write moves the change log on)."""
    admin = login(client, "admin_a")
    prac = login(client, "prac_a1")
    for i in range(n):
        client.get("/api/v1/families/" + world.families["own"], headers=auth(prac))
        version = client.get("/api/v1/families/" + world.families["own"], headers=auth(admin)).json()["version"]
        r = client.patch("/api/v1/families/" + world.families["own"], json={"notes": f"note {i}"},
                         headers={**auth(admin), "If-Match": f'"{version}"'})
        assert r.status_code == 200, r.text


def _seqs(db_path: Path) -> list[int]:
    conn = sqlite3.connect(db_path)
    try:
        return [r[0] for r in conn.execute("SELECT seq FROM audit_events ORDER BY seq")]
    finally:
        conn.close()


def _anchored(settings) -> list[dict]:
    return [json.loads(line) for line in settings.anchor_path.read_text().splitlines()]


@pytest.fixture
def trail(client, store, world, settings):
    _actions(client, world, 2)
    store.close()
    seqs = _seqs(settings.db_path)
    assert len(seqs) >= 8
    assert max(line["seq"] for line in _anchored(settings)) == seqs[-1]
    return seqs


def _cut_off_after(db_path: Path, n: int) -> None:
    """The audit's attack, with the database file and no key: drop the delete trigger,
    delete every entry after N, reset the AUTOINCREMENT counter."""
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER audit_events_no_delete")
    conn.execute("DELETE FROM audit_events WHERE seq > ?", [n])
    conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit_events'", [n])
    conn.commit()
    conn.close()


def test_an_intact_anchored_trail_verifies(trail, settings):
    result = cli("audit", "verify", data_dir=settings.data_dir)
    assert result.returncode == 0, result.stderr
    assert f"intact: {len(trail)} entries" in result.stdout


def test_cutting_off_the_end_of_the_trail_is_named_by_verify(trail, settings):
    n = trail[3]
    _cut_off_after(settings.db_path, n)
    # The chain alone still looks whole: that was the finding.
    result = cli("audit", "verify", data_dir=settings.data_dir)
    assert result.returncode == 1
    assert f"audit entry {n + 1} to {trail[-1]} was deleted: the end of the trail was cut off" in result.stderr


def test_deleting_every_entry_is_named_by_verify(trail, settings):
    _cut_off_after(settings.db_path, 0)
    conn = sqlite3.connect(settings.db_path)
    conn.execute("DELETE FROM sqlite_sequence WHERE name = 'audit_events'")
    conn.commit()
    conn.close()
    result = cli("audit", "verify", data_dir=settings.data_dir)
    assert result.returncode == 1
    assert f"every audit entry was deleted: the anchor recorded entry {trail[-1]}" in result.stderr
    assert "intact" not in result.stdout


def _live_actions(server: LiveServer) -> None:
    """Audited sign-ins and reads, and a write that moves the change log on, through a
    real server process."""
    admin = server.login("admin1")
    headers = {"Authorization": f"Bearer {admin['access_token']}"}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        family = http.get("/api/v1/families").json()[0]["id"]
        version = http.get(f"/api/v1/families/{family}").json()["version"]
        r = http.patch(f"/api/v1/families/{family}", json={"notes": f"Seen at the clinic (version {version})"},
                       headers={"If-Match": f'"{version}"'})
        assert r.status_code == 200, r.text


def _backup_between_writes(tmp_path):
    """A live server's trail with a backup taken part way through: (the stopped server, the backup)."""
    server = LiveServer(tmp_path / "data").start()
    try:
        _live_actions(server)
        old = Path(cli("backup", str(tmp_path / "backups"), data_dir=server.data_dir, check=True)
                   .stdout.splitlines()[0])
        _live_actions(server)
    finally:
        server.stop()
    return server, old


def test_putting_an_older_backup_in_place_is_named_as_a_rollback(tmp_path):
    server, old = _backup_between_writes(tmp_path)
    kept = _seqs(old)[-1]
    db_path = server.data_dir / "hearthside.db"
    assert _seqs(db_path)[-1] > kept
    # By hand, not with `hearthside restore`: what someone hiding the newer entries does.
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(old, db_path)
    result = cli("audit", "verify", data_dir=server.data_dir)
    assert result.returncode == 1
    assert f"the database was rolled back to an older copy: it ends at audit entry {kept}" in result.stderr


def test_a_restore_through_the_cli_is_named_as_a_restore_and_the_trail_goes_on_from_it(tmp_path):
    server, old = _backup_between_writes(tmp_path)
    manifest = json.loads(old.with_suffix(".manifest.json").read_text())
    kept = _seqs(old)[-1]
    restored = cli("restore", str(old), "--force", data_dir=server.data_dir)
    assert restored.returncode == 0, restored.stderr
    assert f"restored trail ends at entry {kept}" in restored.stdout
    result = cli("audit", "verify", data_dir=server.data_dir)
    assert result.returncode == 0, result.stderr
    assert f"backup taken {manifest['started_at']}" in result.stdout and f"ended at entry {kept}" in result.stdout
    # The restored server writes on from the restored head; those entries are anchored.
    server.start()
    try:
        _live_actions(server)
    finally:
        server.stop()
    db_path = server.data_dir / "hearthside.db"
    assert _seqs(db_path)[-1] > kept
    result = cli("audit", "verify", data_dir=server.data_dir)
    assert result.returncode == 0, result.stderr
    assert "restored on" in result.stdout and "newer than the anchor" not in result.stdout
    # And cutting the restored trail's end is still named.
    _cut_off_after(db_path, kept)
    assert "the end of the trail was cut off" in cli("audit", "verify", data_dir=server.data_dir).stderr


def test_entries_committed_but_not_yet_anchored_are_reported_not_failed(trail, settings, store, world):
    # A server that stopped between its commit and the anchor write: a store without one.
    crashed = Database(settings.db_path, store.keyring)
    with crashed.write() as db:
        audit.record(db, "family-read", agency_id=world.agencies["A"], family_id=world.families["own"])
        audit.record(db, "family-read", agency_id=world.agencies["A"], family_id=world.families["own"])
    crashed.close()
    result = cli("audit", "verify", data_dir=settings.data_dir)
    assert result.returncode == 0, result.stderr
    assert f"entries {trail[-1] + 1} to {trail[-1] + 2} are newer than the anchor" in result.stdout


def test_a_forged_or_altered_anchor_line_is_named(trail, settings):
    lines = settings.anchor_path.read_text().splitlines()
    last = json.loads(lines[-1])
    forged = {**last, "seq": last["seq"] - 3}  # pretend the trail ended earlier
    with open(settings.anchor_path, "a") as fh:
        fh.write(json.dumps(forged) + "\n")
    result = cli("audit", "verify", data_dir=settings.data_dir)
    assert result.returncode == 1
    assert f"audit anchor line {len(lines) + 1} is not keyed by this keyring" in result.stderr


def test_removing_the_anchor_is_named(trail, settings):
    settings.anchor_path.unlink()
    result = cli("audit", "verify", data_dir=settings.data_dir)
    assert result.returncode == 1 and "no audit anchor at" in result.stderr


def test_the_anchor_is_private_and_outside_the_data_directory(trail, settings):
    anchor = settings.anchor_path
    assert settings.data_dir.resolve() not in anchor.resolve().parents
    assert stat.S_IMODE(anchor.stat().st_mode) == 0o600
    assert stat.S_IMODE(anchor.parent.stat().st_mode) == 0o700


def test_concurrent_writers_leave_the_anchor_at_the_committed_head(store, world, settings):
    def writer() -> None:
        for _ in range(15):
            with store.write() as db:
                audit.record(db, "family-read", agency_id=world.agencies["A"], family_id=world.families["own"])
        store.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.read() as db:
        result = audit.verify(db, store.keyring, settings.anchor_path)
    assert result.ok, result.problems
    assert not result.notes  # every head was anchored
    assert max(line["seq"] for line in _anchored(settings)) == _seqs(settings.db_path)[-1]


def test_anchor_lines_are_shipped_to_syslog_with_ids_and_hashes_only(tmp_path, world_free_settings):
    from litestar.testing import TestClient

    from server.app import create_app
    from tests.factories import build_world

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.settimeout(10)
    settings = world_free_settings(audit_syslog=f"127.0.0.1:{sink.getsockname()[1]}")
    app = create_app(settings)
    with TestClient(app) as client:
        world = build_world(app.state.db)
        login(client, "prac_a1")
        _actions(client, world)
        app.state.db.close()
    anchored = _anchored(settings)
    received = []
    while len(received) < len(anchored):
        text = sink.recv(65536).decode()
        assert "hearthside-audit: " in text
        received.append(json.loads(text.split("hearthside-audit: ", 1)[1].rstrip("\x00\n")))
    sink.close()
    assert received == anchored
    for line in received:
        assert set(line) == {"v", "kind", "seq", "hash", "log_seq", "at", "mac"}


@pytest.fixture
def world_free_settings(tmp_path):
    from server.settings import Settings

    return lambda **kw: Settings.from_env(data_dir=tmp_path / "sys" / "data", demo=True, scheduler_enabled=False,
                                          **kw)
