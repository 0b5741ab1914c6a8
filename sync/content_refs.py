"""Answers name a checklist and an item of the content the server runs.

``checklist_id`` and ``item_id`` are free text to the database; a phone's answer to an
item no checklist has (or to a checklist that does not exist) would be stored and never
shown, reported or run through the rules. The merge refuses it instead (it is kept in
the quarantine, like every refused op). The app says where the loaded content is.
"""

from __future__ import annotations

from typing import Any, Callable

from .policy import Refused

_source: Callable[[], Any] | None = None


def use_content(source: Callable[[], Any]) -> None:
    global _source
    _source = source


def check(name: str, ref: str, values: dict[str, Any]) -> None:
    content = _source() if _source else None
    if content is None:
        return  # a store used without the app (tests of the record layer, the seeder's own checks)
    checklist = next((c for c in content.checklists if c.id == values.get("checklist_id")), None)
    if checklist is None:
        raise Refused("checklist_id is not a checklist of the content", "invalid", "checklist_id")
    if ref == "checklist-item" and not any(item.id == values.get(name) for item in checklist.items):
        raise Refused("item_id is not an item of that checklist", "invalid", name)
