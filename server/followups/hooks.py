"""Where rules meet sync: the after-apply hook that runs the content rules for visits a
push has just completed (signed). Kept apart from ``from_visit`` so that importing it
does not need the content package until a visit is actually completed.

Registered by ``create_app``: ``sync.hooks.register_after_apply(on_synced_changes)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..storage.crypto import Keyring
from ..storage.records import Actor
from ..storage.tx import Tx

_content_source: Callable[[], Any] = lambda: None  # noqa: E731


def use_content(source: Callable[[], Any]) -> None:
    """Where the hook finds the loaded content (the app sets ``app.state.content``)."""
    global _content_source
    _content_source = source


def completed_visit_ids(changes: Iterable[Any]) -> list[str]:
    """Visits whose status became ``completed`` in these changes (created signed, or signed
    by a ``set``), each once, in order."""
    out: list[str] = []
    for ch in changes:
        if ch.entity == "visit" and ch.op in ("insert", "update") and ch.values.get("status") == "completed":
            if ch.entity_id not in out:
                out.append(ch.entity_id)
    return out


def on_synced_changes(db: Tx, keyring: Keyring, actor: Actor, changes: list[Any]) -> None:
    visit_ids = completed_visit_ids(changes)
    content = _content_source() if visit_ids else None
    if content is None:
        return
    from .from_visit import apply_visit_outcome

    for visit_id in visit_ids:
        apply_visit_outcome(db, keyring, content, visit_id)  # written as the server's own ops
