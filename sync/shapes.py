"""Request shapes built from the model, so REST, the agency API and OpenAPI validate
exactly what the merge accepts (types, choices, lengths) without a second copy.

``create_shape("person", ...)`` and ``update_shape(...)`` return msgspec Structs; the
server's feature modules name them (``PersonCreate = create_shape(...)``) so OpenAPI shows
readable component names.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from .model import ENTITIES, Field
from .values import DATE_RE, DATETIME_RE, UUID_RE

NHS_NUMBER = r"^\d{3} ?\d{3} ?\d{4}$"


def value_type(f: Field) -> Any:
    """The msgspec type of a field's value (None excluded)."""
    if f.type == "bool":
        return bool
    if f.type == "int":
        return int
    if f.type == "json":
        return Any
    if f.type == "choice":
        return Literal[f.values]  # type: ignore[valid-type]
    meta = {
        "id": msgspec.Meta(pattern=UUID_RE.pattern),
        "date": msgspec.Meta(pattern=DATE_RE.pattern),
        "datetime": msgspec.Meta(pattern=DATETIME_RE.pattern),
        "nhs-number": msgspec.Meta(pattern=NHS_NUMBER),
        "text": msgspec.Meta(max_length=f.max_length) if f.max_length else msgspec.Meta(),
    }[f.type]
    return Annotated[str, meta]


def _fields(entity: str, names: tuple[str, ...] | None) -> list[Field]:
    e = ENTITIES[entity]
    chosen = [f for f in e.fields if (names is None or f.name in names) and not f.server_owned]
    if names is not None and len(chosen) != len(names):
        unknown = set(names) - {f.name for f in chosen}
        raise KeyError(f"not writable fields of {entity}: {sorted(unknown)}")
    return chosen


def create_shape(entity: str, name: str, names: tuple[str, ...] | None = None, *,
                 extra: list[tuple[str, Any, Any]] | None = None) -> type[msgspec.Struct]:
    """A create body: required fields required, the rest optional (model default or null)."""
    members: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for f in sorted(_fields(entity, names), key=lambda f: not f.required):
        t = value_type(f)
        if f.required:
            members.append((f.name, t))
        else:
            members.append((f.name, t | None, f.default))  # type: ignore[operator]
    members.extend(extra or [])
    return msgspec.defstruct(name, members, forbid_unknown_fields=True, kw_only=True)


def update_shape(entity: str, name: str, names: tuple[str, ...] | None = None, *,
                 extra: list[tuple[str, Any, Any]] | None = None) -> type[msgspec.Struct]:
    """A partial update body: every member optional (absent = unchanged)."""
    members: list[tuple[str, Any, Any]] = []
    for f in _fields(entity, names):
        if f.immutable:
            continue
        t = value_type(f) if f.required else value_type(f) | None  # type: ignore[operator]
        members.append((f.name, t | msgspec.UnsetType, msgspec.UNSET))
    members.extend(extra or [])
    return msgspec.defstruct(name, members, forbid_unknown_fields=True, kw_only=True, omit_defaults=True)


def changes(body: msgspec.Struct) -> dict[str, Any]:
    """The members a partial update body sets."""
    return {k: getattr(body, k) for k in body.__struct_fields__ if getattr(body, k) is not msgspec.UNSET}
