"""Key rotation: add a new active key, re-encrypt every encrypted value under it in
resumable batches, and retire old keys only when nothing is left under them.

Every encrypted column is listed in ``specs()`` with the additional data it was bound to
(record columns from ``records.ENTITIES``, ``change_log.changes``, ``devices.escrow_key`` and ``name``,
plus anything another module ``register``s). Each batch re-encrypts up to ``batch_size``
rows and moves the progress marker (``key_rotations``) in the same transaction, so a
rotation killed at any point resumes where it stopped (storage pages through what is
left, ``storage/key_rotation.py``) and never leaves a value that no
key in the keyring can open. ``retire`` scans *every* text column of every table (not
just the registered ones) before it drops a key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import audit
from ..clock import now_iso
from ..push import vapid
from ..storage import key_rotation
from ..storage.crypto import Keyring
from ..storage.db import Database
from ..storage.records import ENTITIES
from ..storage.tx import Tx


@dataclass(frozen=True)
class Spec:
    table: str
    column: str
    aad: Callable[[dict[str, Any]], str]


_EXTRA: list[Spec] = []


def register(table: str, column: str, aad: Callable[[dict[str, Any]], str]) -> None:
    """Declare another encrypted column (for modules that store ciphertexts outside the
    record layer). ``aad`` builds the additional data from the row."""
    _EXTRA.append(Spec(table, column, aad))


def _record_aad(table: str, column: str) -> Callable[[dict[str, Any]], str]:
    return lambda row: f"{table}/{row['id']}/{column}"


def specs() -> list[Spec]:
    out = [Spec(e.table, c, _record_aad(e.table, c)) for e in ENTITIES.values() for c in sorted(e.personal)]
    out.append(Spec("change_log", "changes",
                    lambda r: f"change_log/{r['entity']}/{r['entity_id']}/{r['version']}"))
    out.append(Spec("devices", "escrow_key", lambda r: f"devices/{r['id']}/escrow_key"))
    out.append(Spec("devices", "name", lambda r: f"devices/{r['id']}/name"))
    # Other areas' ciphertexts stored outside the record layer (swept only where the table
    # and column exist, so this list can run ahead of a merge).
    out += [
        Spec("sync_quarantine", "op", lambda r: f"sync_quarantine/{r['id']}/op"),
        Spec("push_subscriptions", "secret", lambda r: f"push_subscriptions/{r['id']}/secret"),
        Spec("integration_clients", "webhook_secret", lambda r: f"integration_clients/{r['id']}/webhook_secret"),
        Spec("integration_clients", "webhook_previous_secret",
             lambda r: f"integration_clients/{r['id']}/webhook_previous_secret"),
        Spec("external_ids", "value", lambda r: f"external_ids/{r['id']}/value"),
        Spec("feed_acks", "external_id",
             lambda r: f"feed_acks/{r['client_id']}/{r['item_type']}/{r['item_id']}/{r['version']}"),
    ]
    return out + list(_EXTRA)


class RotationInterrupted(Exception):
    """Raised by ``sweep(stop_after_batches=...)``: stands in for a killed process."""


@dataclass
class RotationReport:
    target_kid: str
    resumed: bool
    reencrypted: int = 0
    per_column: dict[str, int] = field(default_factory=dict)
    remaining_old: dict[str, int] = field(default_factory=dict)


def _unfinished(db: Tx) -> dict[str, Any] | None:
    return key_rotation.unfinished(db)


def rotate(store: Database, keyring_path: Path, *, batch_size: int = 500, resume_only: bool = False,
           stop_after_batches: int | None = None) -> RotationReport:
    """Start (or resume) a rotation and sweep it to the end."""
    ring = store.keyring
    with store.write() as db:
        pending = _unfinished(db)
        if pending and pending["target_kid"] not in ring.keys:
            # The key was never saved (killed between the two steps): start afresh.
            key_rotation.finish(db, pending["id"], now_iso())
            pending = None
    resumed = pending is not None
    if pending is None:
        if resume_only:
            with store.write() as db:
                key_rotation.start(db, ring.active, now_iso())
        else:
            new_ring = ring.with_new_active_key()
            # Key first, atomically (temp file, fsync, rename; 0600), then the marker: a
            # crash in between leaves a spare key, never a value without its key.
            new_ring.save(keyring_path)
            _adopt(ring, new_ring)
            with store.write() as db:
                key_rotation.start(db, ring.active, now_iso())
                audit.record(db, "key-rotation-started", agency_id=None, detail={"target_kid": ring.active})
    elif pending["target_kid"] != ring.active:
        raise RuntimeError(f"an unfinished rotation targets {pending['target_kid']} but the active key is "
                           f"{ring.active}")
    report = sweep(store, batch_size=batch_size, stop_after_batches=stop_after_batches)
    report.resumed = resumed
    return report


def _adopt(ring: Keyring, new: Keyring) -> None:
    ring.keys, ring._aead, ring.active = new.keys, new._aead, new.active


def sweep(store: Database, *, batch_size: int = 500, stop_after_batches: int | None = None) -> RotationReport:
    ring = store.keyring
    all_specs = specs()
    with store.read() as db:
        marker = _unfinished(db)
    if marker is None:
        raise RuntimeError("no rotation in progress")
    target = marker["target_kid"]
    if ring.active != target:
        # Values are re-encrypted under the active key; under any other the sweep would
        # find the same rows again for ever.
        raise RuntimeError(f"the rotation in progress targets {target} but the active key is {ring.active}")
    report = RotationReport(target_kid=target, resumed=True)
    batches = 0
    spec_index = marker["spec_index"]
    while spec_index < len(all_specs):
        spec = all_specs[spec_index]
        with store.write() as db:
            rows = []
            if key_rotation.has_column(db, spec.table, spec.column):
                rows = key_rotation.not_under_key(db, spec.table, spec.column, target, batch_size)
            for row in rows:
                aad = spec.aad(row)
                fresh = ring.encrypt(ring.decrypt(row[spec.column], aad), aad)
                key_rotation.replace_value(db, spec.table, spec.column, row, fresh)
            key = f"{spec.table}.{spec.column}"
            report.per_column[key] = report.per_column.get(key, 0) + len(rows)
            report.reencrypted += len(rows)
            if len(rows) < batch_size:
                spec_index += 1
            key_rotation.advance(db, marker["id"], spec_index, len(rows))
        batches += 1
        if stop_after_batches is not None and batches >= stop_after_batches and spec_index < len(all_specs):
            raise RotationInterrupted(f"stopped after {batches} batches")
    # Secrets kept in files beside the database (the VAPID private key); rewriting one is
    # atomic and idempotent, so a rotation killed here simply does it again on resume.
    if vapid.reencrypt(store.path.parent, ring):
        report.per_column["keys/vapid.json"] = 1
        report.reencrypted += 1
    with store.write() as db:
        key_rotation.finish(db, marker["id"], now_iso())
        total = key_rotation.reencrypted(db, marker["id"])
        audit.record(db, "key-rotated", agency_id=None, detail={"target_kid": target, "reencrypted": total})
        report.remaining_old = values_under_keys(db, [k for k in ring.keys if k != target])
    return report


def values_under_keys(db: Tx, kids: list[str]) -> dict[str, int]:
    """Count values under each of ``kids`` in every text column of every table."""
    return key_rotation.values_under_keys(db, kids)


def retire(store: Database, keyring_path: Path, kid: str) -> None:
    """Drop ``kid`` from the keyring file, only when no value anywhere is under it."""
    ring = store.keyring
    if kid not in ring.keys:
        raise ValueError(f"no key {kid!r} in the keyring")
    if kid == ring.active:
        raise ValueError(f"{kid} is the active key; rotate first")
    with store.write() as db:
        pending = _unfinished(db)
        if pending:
            raise ValueError("a rotation is still in progress; run `hearthside keys rotate --resume`")
        left = values_under_keys(db, [kid])
        if left:
            detail = ", ".join(f"{k}: {n}" for k, n in left.items())
            raise ValueError(f"values are still encrypted under {kid} ({detail}); run "
                             "`hearthside keys rotate --resume` (restart servers first) and try again")
        files = files_under_key(store.path.parent, kid, keyring_path)
        if files:
            raise ValueError(f"files in the data directory are still encrypted under {kid} ({', '.join(files)}); "
                             "re-create them under the active key first")
        new_ring = Keyring({k: v for k, v in ring.keys.items() if k != kid}, ring.active, ring.index_key)
        new_ring.save(keyring_path)
        audit.record(db, "key-retired", agency_id=None, detail={"kid": kid})
    _adopt(ring, new_ring)


def files_under_key(data_dir: Path, kid: str, keyring_path: Path) -> list[str]:
    """Small files beside the database (e.g. the VAPID key) holding a value under ``kid``."""
    needle = f"e1.{kid}.".encode()
    found = []
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.resolve() == keyring_path.resolve() or path.stat().st_size > 1_000_000:
            continue
        if path.name.startswith("hearthside.db") or path.suffix in (".db", ".partial"):
            continue
        if needle in path.read_bytes():
            found.append(str(path.relative_to(data_dir)))
    return found
