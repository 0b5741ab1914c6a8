"""Request shapes from the model: the msgspec type of a field, for REST and agency bodies.

A limit or a choice is declared once (``sync.model``); a REST body over it is refused at
the door (400, naming the field) as the merge would refuse the op. Checks that need more
than a type (an NHS number's check digit, a reference) stay in the merge.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from .model import entity
from .protocol import UUID_PATTERN
from .values import DATE_RE, DATETIME_RE

NHS_NUMBER_PATTERN = r"^\d{3} ?\d{3} ?\d{4}$"
Date = Annotated[str, msgspec.Meta(pattern=DATE_RE.pattern)]


def field_type(entity_name: str, name: str, *, min_length: int | None = None) -> Any:
    """The type a body's value for ``entity_name.name`` must have. ``min_length``: a REST
    form that needs text where the model allows none (a name typed, not left empty)."""
    f = entity(entity_name).field(name)
    if f is None:
        raise KeyError(f"{entity_name}.{name}")
    if f.type == "choice":
        return Literal[f.values]  # type: ignore[valid-type]
    if f.type == "bool":
        return bool
    if f.type == "int":
        return int
    if f.type == "json":
        return Any
    meta: dict[str, Any] = {}
    if f.type == "text":
        meta["max_length"] = f.max_length
        if min_length:
            meta["min_length"] = min_length
    else:
        meta["pattern"] = {"id": UUID_PATTERN, "date": DATE_RE.pattern, "datetime": DATETIME_RE.pattern,
                           "nhs-number": NHS_NUMBER_PATTERN}[f.type]
    return Annotated[str, msgspec.Meta(**{k: v for k, v in meta.items() if v is not None})]


def finished(entity_name: str) -> Any:
    """The end states of a monotonic status (a follow-up's done / cancelled)."""
    order = entity(entity_name).field("status").order  # type: ignore[union-attr]
    last = order[-1]
    return Literal[last if isinstance(last, tuple) else (last,)]  # type: ignore[valid-type]
