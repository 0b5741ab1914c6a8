"""Identifiers.

Everything created on a device gets a client-generated UUIDv7 (time-ordered, so ids sort
roughly by creation and index well). Python 3.11 has no uuid7, so it lives here.
"""

from __future__ import annotations

import os
import time
import uuid

_NAMESPACE = uuid.UUID("6c1c3a52-3f0e-4f61-9f1e-6d0f0a6b8e21")


def new_id() -> str:
    """A UUIDv7 (RFC 9562) as a string."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def stable_id(*parts: str) -> str:
    """A deterministic id from its parts, so that the same thing seeded or answered twice
    gets the same id (demo seeding is idempotent; two devices answering one checklist item
    write to one record and so can conflict rather than silently duplicate)."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True
