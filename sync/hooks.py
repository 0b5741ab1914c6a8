"""After-apply hooks: the one place other features react to synced writes.

The follow-ups / content rules engine registers here to run rules when a visit is
completed. Hooks run inside the push transaction, after every op of the batch, so what
they write (follow-ups, flags) commits together with the ops that caused it. Each hook
runs in its own savepoint: a failing hook is rolled back, logged (exception type only —
messages could hold personal data) and audited as ``sync-hook-failed``; the push still
commits, because a phone whose upload is refused would keep its records off the server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from server import audit
from server.storage.crypto import Keyring
from server.storage.records import Actor
from server.storage.tx import Tx, savepoint

log = logging.getLogger("hearthside.sync")


@dataclass(frozen=True)
class AppliedChange:
    """One write an op made: ``op`` is ``insert``, ``update`` or ``delete``; ``values``
    holds the fields written (all of them for an insert) with their new values."""

    entity: str
    entity_id: str
    family_id: str | None
    op: str
    values: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    agency_id: str | None = None


Hook = Callable[[Tx, Keyring, Actor, list[AppliedChange]], None]

after_apply: list[Hook] = []


def register_after_apply(hook: Hook) -> Hook:
    """Register ``hook(db, keyring, actor, changes)``; usable as a decorator. Registering
    the same function twice has no effect."""
    if hook not in after_apply:
        after_apply.append(hook)
    return hook


def run_after_apply(
    db: Tx, keyring: Keyring, actor: Actor, changes: list[AppliedChange], agency_id: str | None
) -> None:
    if not changes:
        return
    for hook in list(after_apply):
        try:
            with savepoint(db, "sync_hook"):
                hook(db, keyring, actor, changes)
        except Exception as exc:  # noqa: BLE001 - a hook must never lose the push
            name = getattr(hook, "__qualname__", type(hook).__name__)
            log.error("sync hook %s failed: %s", name, type(exc).__name__)
            audit.record(db, "sync-hook-failed", agency_id=agency_id, user_id=actor.user_id,
                         device_id=actor.device_id, client_id=actor.client_id,
                         detail={"hook": name, "error": type(exc).__name__})
