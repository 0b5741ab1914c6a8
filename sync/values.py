"""Values checked against the model, and compared exactly.

JSON ``1``, ``true`` and ``1.0`` are three different values: Python's ``==`` says they
are equal, so comparing that way let two phones keep different values for good. Every
comparison of stored and sent values goes through ``same``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import msgspec

from .model import INT64_MAX, MAX_JSON_BYTES, Entity, Field, rank

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 3339 with a zone: what the phone's toISOString() and the server's clock produce.
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$")
_encode = msgspec.json.Encoder(order="sorted").encode


class Invalid(Exception):
    """A value the model does not allow; ``reason`` names the field, never the value."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field} {reason}")
        self.field = field
        self.reason = f"{field} {reason}"


def canonical(value: Any) -> bytes:
    """One encoding per value: keys sorted, types kept (``1`` ≠ ``true`` ≠ ``1.0``)."""
    return _encode(value)


def same(a: Any, b: Any) -> bool:
    return canonical(a) == canonical(b)


def nhs_number_valid(digits: str) -> bool:
    """The NHS number's modulus 11 check digit."""
    if not re.fullmatch(r"\d{10}", digits):
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def normalise(f: Field, value: Any) -> Any:
    """The stored form of a valid value (an NHS number without its spaces)."""
    if f.type == "nhs-number" and isinstance(value, str):
        return "".join(value.split())
    return value


def check(entity: Entity, name: str, value: Any) -> Any:
    """Raise ``Invalid`` unless ``value`` is allowed for ``entity.name``; return it as stored."""
    f = entity.field(name)
    if f is None:
        raise Invalid(name, "is not a field of " + entity.name)
    if value is None:
        # A field with a default is never empty (its column is NOT NULL): null is refused
        # here, naming the field, not by the database as a record that "could not be stored".
        if f.required or f.default is not None:
            raise Invalid(name, "must be true or false" if f.type == "bool" else "is required")
        if f.order is not None:
            raise Invalid(name, "is not a known state")
        return None
    t = f.type
    if t == "bool":
        if not isinstance(value, bool):
            raise Invalid(name, "must be true or false")
    elif t == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(name, "must be a whole number")
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise Invalid(name, "is beyond the 64-bit range")
    elif t == "json":
        if len(canonical(value)) > MAX_JSON_BYTES:
            raise Invalid(name, f"is longer than {MAX_JSON_BYTES} bytes")
    elif not isinstance(value, str):
        raise Invalid(name, "must be text")
    elif t == "id":
        if not UUID_RE.match(value):
            raise Invalid(name, "must be an id (UUID)")
    elif t == "text":
        if f.max_length is not None and len(value) > f.max_length:
            raise Invalid(name, f"is longer than {f.max_length} characters")
        if "\x00" in value:
            raise Invalid(name, "contains a NUL character")
    elif t == "choice":
        if value not in f.values:
            raise Invalid(name, "is not one of the allowed values")
    elif t == "date":
        try:
            if not DATE_RE.match(value):
                raise ValueError
            date.fromisoformat(value)
        except ValueError:
            raise Invalid(name, "must be a date (YYYY-MM-DD)") from None
    elif t == "datetime":
        try:
            if not DATETIME_RE.match(value):
                raise ValueError
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(name, "must be a date and time with a zone (RFC 3339)") from None
    elif t == "nhs-number":
        if not nhs_number_valid("".join(value.split())):
            raise Invalid(name, "is not a valid NHS number")
    if f.order is not None:
        try:
            rank(f.order, value)
        except ValueError:
            raise Invalid(name, "is not a known state") from None
    return normalise(f, value)
