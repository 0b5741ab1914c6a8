"""Online backups of the SQLite database, and restore.

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
from pathlib import Path
from typing import Any

from .clock import now_iso
from .storage import backup as db_files
from .storage.backup import new_log_epoch  # noqa: F401 - part of restore, used by its tests

DB_NAME = "hearthside.db"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def backup(db_path: Path, out_dir: Path) -> tuple[Path, dict[str, Any]]:
    """Take an online, consistent copy of ``db_path`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(out_dir, 0o700)
    started = now_iso()
    stamp = started.replace(":", "").replace("-", "").replace(".", "")
    target = out_dir / f"hearthside-{stamp}.db"
    partial = target.with_suffix(".db.partial")
    copied = db_files.online_copy(db_path, partial)
    if copied.integrity != "ok":
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"the backup copy failed its integrity check: {copied.integrity}")
    os.replace(partial, target)
    manifest = {
        "format": "hearthside-backup/1",
        "file": target.name,
        "started_at": started,
        "finished_at": now_iso(),
        "sha256": _sha256(target),
        "bytes": target.stat().st_size,
        "tables": copied.tables,
        "migrations": copied.migrations,
        "key_ids_needed": copied.key_ids,
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
    ok, epoch = db_files.check_and_renew_epoch(tmp)
    if ok == "ok":
        manifest = {**manifest, "log_epoch": epoch}
    if ok != "ok":
        tmp.unlink()
        raise ValueError(f"the backup failed its integrity check: {ok}")
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(tmp, target)
    return manifest
