"""The audit trail: who did what to which record, when, from which device, and why.

Written in the same transaction as the action it records, so an action and its audit
entry stand or fall together. Never holds personal data: ids, actions and purposes only.

Append-only and tamper-evident: each entry carries ``hash = HMAC(audit key, entry +
prev_hash)``, where ``prev_hash`` is the previous entry's hash. The audit key is derived
from the keyring's index key, which lives outside the database, so someone who can edit
the database file cannot re-seal an entry they changed. Triggers refuse UPDATE and DELETE
on ``audit_events`` as defence in depth. ``verify`` walks the chain and names the first
entry that was changed, removed or re-ordered.

Appending reads the chain's tail and inserts after it; that is only correct while this
connection holds the write lock, which ``store.write()`` gives. A call outside any
transaction takes the lock itself (``storage/audit_log.py`` says how, and why the chain
can never fork).

The chain alone cannot show that its *end* was cut off, wiped or rolled back: after each
commit that appended to it, the head is written to an anchor outside the database
(``audit_anchor.py``), and ``verify`` checks the database against that anchor.

Alerts: an entry with ``alert`` set is for the supervisors of ``team_id`` and the admins
of the agency (a flag deleted, a device revoked); ``server/security/alerts.py`` serves them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .clock import now_iso
from .storage import audit_log
from .storage.tx import Tx

GENESIS = "0" * 64
_HASHED = ("seq", "at", "agency_id", "user_id", "device_id", "client_id", "action", "entity", "entity_id",
           "family_id", "purpose", "detail", "prev_hash")


def audit_key(keyring: Any) -> bytes:
    """The chain key: a dedicated ``audit_key`` in the keyring if present, else derived
    from the index key (which is never rotated, so old entries stay verifiable)."""
    dedicated = getattr(keyring, "audit_key", None)
    if dedicated:
        return dedicated
    return hmac.new(keyring.index_key, b"hearthside/audit-chain/v1", hashlib.sha256).digest()


def entry_hash(key: bytes, row: dict[str, Any]) -> str:
    values = [row.get(k) for k in _HASHED]
    # Added later: sealed only when set, so entries written before they existed still verify.
    if row.get("alert") or row.get("team_id"):
        values += ["alert", row.get("alert"), row.get("team_id")]
    canonical = json.dumps(values, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def _keyring_of(db: Tx) -> Any:
    keyring = getattr(db, "keyring", None)
    if keyring is None:
        raise RuntimeError("audit.record needs a connection from Database.connect() (it carries the keyring)")
    return keyring


def record(
    db: Tx,
    action: str,
    *,
    agency_id: str | None,
    user_id: str | None = None,
    device_id: str | None = None,
    client_id: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    family_id: str | None = None,
    purpose: str | None = None,
    detail: dict[str, Any] | None = None,
    alert: bool = False,
    team_id: str | None = None,
) -> int:
    """Append one entry to the chain; returns its ``seq``. ``alert``: the entry is for the
    supervisors of ``team_id`` and the agency's admins."""
    key = audit_key(_keyring_of(db))
    extra = {"alert": 1, "team_id": team_id} if alert else {}
    fields = {
        "agency_id": agency_id, "user_id": user_id, "device_id": device_id, "client_id": client_id,
        "action": action, "entity": entity, "entity_id": entity_id, "family_id": family_id, "purpose": purpose,
        "detail": json.dumps(detail or {}, sort_keys=True),
    }

    def seal(seq: int, prev_hash: str | None) -> dict[str, Any]:
        row = {"seq": seq, "at": now_iso(), **fields, "prev_hash": prev_hash or GENESIS, **extra}
        row["hash"] = entry_hash(key, row)
        return row

    with audit_log.write_lock(db, after_commit, after_rollback):
        seq = audit_log.append(db, seal)
        db.audit_dirty = True  # type: ignore[attr-defined]
    return seq


def after_commit(db: Tx) -> None:
    """Called by whoever commits: anchor the head if this transaction appended to it."""
    if not getattr(db, "audit_dirty", False):
        return
    db.audit_dirty = False  # type: ignore[attr-defined]
    anchor = getattr(db, "audit_anchor", None)
    if anchor is not None:
        anchor.write_head(db)


def after_rollback(db: Tx) -> None:
    db.audit_dirty = False  # type: ignore[attr-defined]


def by(principal: Any) -> dict[str, Any]:
    """The who-columns for an action taken by a signed-in principal."""
    return {"agency_id": principal.agency_id, "user_id": principal.user_id, "device_id": principal.device_id}


# -- verification -------------------------------------------------------------------------


@dataclass
class Verification:
    entries: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)
    # seq numbers of the entries named in problems (changed, missing or out of place).
    bad_entries: list[int] = field(default_factory=list)
    # Facts about the trail that are not tampering (a restore, entries not anchored yet).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(db: Tx, keyring: Any, anchor: Path | None = None) -> Verification:
    """Walk the whole chain. Names each entry that was changed (its hash no longer
    matches), removed (a gap in the sequence, or a missing tail) or not sealed; with
    ``anchor``, also a trail cut off at its end, wiped or rolled back (see audit_anchor)."""
    key = audit_key(keyring)
    out = Verification()
    prev_seq = 0
    prev_hash = GENESIS
    hashes: dict[int, str] = {}
    for row in audit_log.entries(db):
        out.entries += 1
        seq = row["seq"]
        hashes[seq] = row["hash"] or ""
        if seq != prev_seq + 1:
            missing = f"{prev_seq + 1}" if seq == prev_seq + 2 else f"{prev_seq + 1} to {seq - 1}"
            out.problems.append(f"audit entry {missing} was deleted (missing before entry {seq})")
            out.bad_entries.extend(range(prev_seq + 1, seq))
        if not row["hash"]:
            out.problems.append(f"audit entry {seq} is not sealed (no hash)")
            out.bad_entries.append(seq)
        elif not hmac.compare_digest(entry_hash(key, row), row["hash"]):
            out.problems.append(f"audit entry {seq} was changed (its hash does not match its contents)")
            out.bad_entries.append(seq)
        elif seq == prev_seq + 1 and row["prev_hash"] != prev_hash:
            out.problems.append(f"audit entry {seq} does not follow entry {prev_seq} (the chain is broken)")
            out.bad_entries.append(seq)
        prev_seq, prev_hash = seq, row["hash"] or ""
    counter = audit_log.counter(db)
    if counter > prev_seq:
        missing = f"{counter}" if counter == prev_seq + 1 else f"{prev_seq + 1} to {counter}"
        out.problems.append(f"audit entry {missing} was deleted (the end of the trail is missing)")
        out.bad_entries.extend(range(prev_seq + 1, counter + 1))
    out.head = prev_hash
    if anchor is not None:
        from . import audit_anchor

        found = audit_anchor.check(db, keyring, anchor, hashes)
        out.problems += found.problems
        out.notes += found.notes
    return out


def family_history(db: Tx, agency_id: str, family_id: str, limit: int, before: int | None):
    """Audit entries about one family, newest first, with the acting user's name."""
    return audit_log.family_history(db, agency_id, family_id, limit, before)
