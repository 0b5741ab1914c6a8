"""Online backup while writers keep writing, and restore: everything acknowledged before
the backup began is in it."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import httpx

from server.ids import new_id
from server.settings import Settings
from server.storage import records
from server.storage.crypto import Keyring
from server.storage.db import Database
from tests.conftest import LiveServer

from .conftest import cli


def test_a_backup_taken_during_writes_restores_everything_acknowledged_before_it(tmp_path: Path):
    server = LiveServer(tmp_path / "data").start()
    try:
        admin = server.login("admin1")
        headers = {"Authorization": f"Bearer {admin['access_token']}"}
        acked: list[tuple[float, str, str]] = []  # (when acknowledged, kind, id)
        lock = threading.Lock()
        stop = threading.Event()
        errors: list[str] = []

        def api_writer(n: int) -> None:
            with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
                i = 0
                while not stop.is_set():
                    fid = new_id()
                    r = http.post("/api/v1/families", json={"id": fid, "family_name": f"Backup{n}x{i}"})
                    if r.status_code not in (200, 201):
                        errors.append(r.text)
                        return
                    with lock:
                        acked.append((time.monotonic(), "family", fid))
                    i += 1

        keyring = Keyring.load_or_create(Settings.from_env(data_dir=server.data_dir).keyring_path)
        device_store = Database(server.data_dir / "hearthside.db", keyring)

        def record_writer() -> None:
            # A second process-like writer through the record layer (as sync pushes do).
            with device_store.read() as db:
                fam = next(db.query("SELECT id, agency_id FROM families ORDER BY id LIMIT 1"))
            i = 0
            while not stop.is_set():
                oid = new_id()
                with device_store.write() as db:
                    records.insert(db, keyring, "observation", {
                        "id": oid, "agency_id": fam["agency_id"], "family_id": fam["id"], "kind": "fact",
                        "text": f"observation {i}", "recorded_by": "device", "recorded_at": "2026-01-01"})
                with lock:
                    acked.append((time.monotonic(), "observation", oid))
                i += 1
            device_store.close()

        threads = [threading.Thread(target=api_writer, args=(n,)) for n in range(2)]
        threads.append(threading.Thread(target=record_writer))
        for t in threads:
            t.start()
        while len(acked) < 20 and not errors:
            time.sleep(0.05)
        with lock:
            before = {(kind, rid) for _, kind, rid in acked}
        result = cli("backup", str(tmp_path / "backups"), data_dir=server.data_dir)
        with lock:
            during = len(acked) - len(before)
        while len(acked) < len(before) + 10 and not errors:  # writes carry on after it, too
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(60)
        assert not errors, errors[:1]
        assert result.returncode == 0, result.stderr
    finally:
        server.stop()

    backup_file = Path(result.stdout.splitlines()[0])
    manifest = json.loads(backup_file.with_suffix(".manifest.json").read_text())
    assert manifest["keys_included"] is False and manifest["key_ids_needed"] == ["k1"]
    assert not list((tmp_path / "backups").glob("*keyring*"))

    restored = tmp_path / "restored"
    out = cli("restore", str(backup_file), data_dir=restored)
    assert out.returncode == 0, out.stderr
    kept_apart = Settings.from_env(data_dir=restored).keyring_path
    kept_apart.parent.mkdir()
    shutil.copy(Settings.from_env(data_dir=server.data_dir).keyring_path, kept_apart)
    store = Database(restored / "hearthside.db", Keyring.load_or_create(kept_apart))
    with store.read() as db:
        ids = {("family", r["id"]) for r in db.query("SELECT id FROM families")}
        ids |= {("observation", r["id"]) for r in db.query("SELECT id FROM observations")}
        missing = before - ids
        assert not missing, f"{len(missing)} acknowledged writes missing from the backup"
        assert len(ids & {(k, i) for _, k, i in acked}) >= len(before)
        # The restored copy decrypts with the keyring kept apart from it.
        names = {f["family_name"] for f in records.find(db, store.keyring, "family")}
        assert any(n.startswith("Backup") for n in names)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()
    assert during >= 0


def test_restore_refuses_to_replace_a_database_without_force(tmp_path: Path, store):
    from server.backup import backup

    with store.write() as db:
        db["agencies"].insert({"id": "a", "name": "A", "timezone": "Europe/London", "settings": "{}",
                               "created_at": "2026-01-01"})
    backup_file, _ = backup(store.path, tmp_path / "b")
    store.close()
    data_dir = store.path.parent
    refused = cli("restore", str(backup_file), data_dir=data_dir)
    assert refused.returncode != 0 and "--force" in refused.stderr
    assert cli("restore", str(backup_file), "--force", data_dir=data_dir).returncode == 0


def test_restore_refuses_a_backup_that_does_not_match_its_manifest(tmp_path: Path, store):
    from server.backup import backup

    backup_file, _ = backup(store.path, tmp_path / "b")
    with open(backup_file, "r+b") as fh:
        fh.seek(5000)
        fh.write(b"\x00garbage")
    refused = cli("restore", str(backup_file), data_dir=tmp_path / "new")
    assert refused.returncode != 0 and "checksum" in refused.stderr
