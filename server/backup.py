"""Online backups through SQLite's backup API, and restore.

``backup`` copies a consistent snapshot of the live database (writers keep going; the copy
holds everything committed before the snapshot) into ``DIR/hearthside-<time>.db`` and
writes a manifest beside it. The keyring is NOT copied: a backup holds only ciphertexts,
so it must be kept with (a copy of) the keyring that has the key ids the manifest lists -
separately, since together they are the data in clear.

``restore`` checks the manifest's checksum and integrity, and refuses to overwrite an
existing database unless forced. The restored database gets a new change-log epoch: the
log was rewound to the backup's end, so a phone's (or an agency's) cursor from before the
restore names positions that now mean other changes, and it must be told to resynchronise.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from .clock import now_iso

DB_NAME = "hearthside.db"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _key_ids(conn: sqlite3.Connection) -> list[str]:
    kids: set[str] = set()
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
        for col in conn.execute(f"PRAGMA table_info([{table}])"):
            if col[2].upper() != "TEXT":
                continue
            for (kid,) in conn.execute(
                f"SELECT DISTINCT substr([{col[1]}], 4, instr(substr([{col[1]}], 4), '.') - 1) FROM [{table}]"
                f" WHERE [{col[1]}] LIKE 'e1.%'"
            ):
                kids.add(kid)
    return sorted(kids)


def backup(db_path: Path, out_dir: Path) -> tuple[Path, dict[str, Any]]:
    """Take an online, consistent copy of ``db_path`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(out_dir, 0o700)
    started = now_iso()
    stamp = started.replace(":", "").replace("-", "").replace(".", "")
    target = out_dir / f"hearthside-{stamp}.db"
    partial = target.with_suffix(".db.partial")
    src = sqlite3.connect(db_path, timeout=30)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        dst = sqlite3.connect(partial)
        try:
            # pages=-1: the whole database in one step, so the copy is one snapshot even
            # while devices keep writing.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")
            counts = {
                t: dst.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0]
                for (t,) in dst.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            }
            migrations = [r[0] for r in dst.execute("SELECT name FROM _sqlite_migrations ORDER BY applied_at")] \
                if "_sqlite_migrations" in counts else []
            integrity = dst.execute("PRAGMA integrity_check").fetchone()[0]
            kids = _key_ids(dst)
        finally:
            dst.close()
    finally:
        src.close()
    if integrity != "ok":
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"the backup copy failed its integrity check: {integrity}")
    os.replace(partial, target)
    manifest = {
        "format": "hearthside-backup/1",
        "file": target.name,
        "started_at": started,
        "finished_at": now_iso(),
        "sha256": _sha256(target),
        "bytes": target.stat().st_size,
        "tables": counts,
        "migrations": migrations,
        "key_ids_needed": kids,
        "keys_included": False,
    }
    manifest_path = target.with_suffix(".manifest.json")
    manifest_path.write_text(json.dumps(manifest, indent=2))
    os.chmod(manifest_path, 0o600)
    return target, manifest


def read_manifest(backup_path: Path) -> dict[str, Any]:
    manifest_path = backup_path.with_suffix(".manifest.json")
    if not manifest_path.exists():
        raise FileNotFoundError(f"no manifest beside {backup_path.name} ({manifest_path.name})")
    return json.loads(manifest_path.read_text())


def new_log_epoch(conn: sqlite3.Connection) -> str | None:
    """Give a restored database's change log a new identity. A backup from before the log
    had one gets one from its migration when the server starts, new all the same."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sync_meta'").fetchone():
        return None
    epoch = str(uuid.uuid4())
    with conn:
        conn.execute("INSERT INTO sync_meta (key, value) VALUES ('log_epoch', ?)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value", [epoch])
    return epoch


def restore(backup_path: Path, data_dir: Path, *, force: bool = False) -> dict[str, Any]:
    """Put a backup in place as ``data_dir``'s database. Refuses to replace an existing
    database without ``force`` (stop the server first either way)."""
    manifest = read_manifest(backup_path)
    if _sha256(backup_path) != manifest["sha256"]:
        raise ValueError("the backup file does not match its manifest's checksum")
    target = data_dir / DB_NAME
    if target.exists() and not force:
        raise FileExistsError(f"{target} already exists; stop the server and pass --force to replace it")
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / (DB_NAME + ".restoring")
    shutil.copyfile(backup_path, tmp)
    os.chmod(tmp, 0o600)
    conn = sqlite3.connect(tmp)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if ok == "ok":
            manifest = {**manifest, "log_epoch": new_log_epoch(conn)}
    finally:
        conn.close()
    if ok != "ok":
        tmp.unlink()
        raise ValueError(f"the backup failed its integrity check: {ok}")
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(tmp, target)
    return manifest
