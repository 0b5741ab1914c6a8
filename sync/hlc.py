"""Hybrid logical clock.

A timestamp is ``f"{wall_ms:015d}-{counter:05d}-{node}"``: fixed-width, so comparing the
strings compares the clocks, and the node id (a device id, or ``server``) breaks ties
deterministically. The clock never goes backwards and always moves past every timestamp
it has received, so a write made after seeing another sorts after it even when the
phone's wall clock is behind.
"""

from __future__ import annotations

import re
import threading
import time
from typing import NamedTuple

PATTERN = r"^\d{15}-\d{5}-[A-Za-z0-9._:-]{1,64}$"
_RE = re.compile(PATTERN)
MAX_COUNTER = 99_999
# A remote clock further ahead than this does not drag the server's clock with it: a phone
# whose date is wrong must not make every later server write look older than its own.
MAX_DRIFT_MS = 5 * 60 * 1000


class Timestamp(NamedTuple):
    wall_ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return format_hlc(self.wall_ms, self.counter, self.node)


def format_hlc(wall_ms: int, counter: int, node: str) -> str:
    return f"{wall_ms:015d}-{counter:05d}-{node}"


def parse(text: str) -> Timestamp:
    if not isinstance(text, str) or not _RE.match(text):
        raise ValueError("not a hybrid logical clock timestamp")
    wall, counter, node = text.split("-", 2)
    return Timestamp(int(wall), int(counter), node)


def is_valid(text: str) -> bool:
    return isinstance(text, str) and bool(_RE.match(text))


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Clock:
    """A thread-safe HLC for one node."""

    def __init__(self, node: str, now_ms=_now_ms) -> None:
        self.node = node
        self._now = now_ms
        self._wall = 0
        self._counter = 0
        self._lock = threading.Lock()

    def now(self) -> str:
        """A timestamp for a local event (send rule)."""
        with self._lock:
            physical = self._now()
            if physical > self._wall:
                self._wall, self._counter = physical, 0
            else:
                self._bump()
            return format_hlc(self._wall, self._counter, self.node)

    def observe(self, remote: str) -> str:
        """Move past a received timestamp (receive rule); returns the new local time."""
        ts = parse(remote)
        with self._lock:
            physical = self._now()
            wall = ts.wall_ms if ts.wall_ms <= physical + MAX_DRIFT_MS else self._wall
            if physical > self._wall and physical > wall:
                self._wall, self._counter = physical, 0
            elif wall > self._wall:
                self._wall, self._counter = wall, ts.counter + 1
            elif wall == self._wall:
                self._counter = max(self._counter, ts.counter) + 1
            else:
                self._bump()
            if self._counter > MAX_COUNTER:
                self._wall, self._counter = self._wall + 1, 0
            return format_hlc(self._wall, self._counter, self.node)

    def _bump(self) -> None:
        self._counter += 1
        if self._counter > MAX_COUNTER:
            self._wall, self._counter = self._wall + 1, 0


server_clock = Clock("server")
