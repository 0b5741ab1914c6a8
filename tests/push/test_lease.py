"""The scheduler's lease with several server processes on one database: of processes that
claim it at the same moment exactly one holds it, its holder renews it, and once it has
expired exactly one other process takes it over."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from server.clock import iso
from server.push.scheduler import LEASE_NAME
from server.storage import push

from tests.conftest import REPO

# One contender: its own process and connection, waiting for the start file so that all
# of them claim at once.
CONTENDER = r"""
import sys, time
from pathlib import Path
from server.storage import push
from server.storage.db import Database

path, name, holder, start, now, until = sys.argv[1:7]
store = Database(Path(path), None)
store.connect()
print("ready", flush=True)
while not Path(start).exists():
    time.sleep(0.001)
with store.write() as db:
    print("won" if push.take_lease(db, name, holder, now, until) else "lost", flush=True)
"""

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _claim_at_once(db_path: Path, tmp_path: Path, holders: list[str], now: datetime,
                   until: datetime) -> dict[str, str]:
    start = tmp_path / "start"
    start.unlink(missing_ok=True)
    procs = {h: subprocess.Popen([sys.executable, "-c", CONTENDER, str(db_path), LEASE_NAME, h, str(start),
                                  iso(now), iso(until)], cwd=REPO, stdout=subprocess.PIPE, text=True)
             for h in holders}
    for p in procs.values():
        assert p.stdout.readline().strip() == "ready"
    start.touch()
    out = {}
    for h, p in procs.items():
        out[h] = p.stdout.readline().strip()
        assert p.wait(60) == 0
    return out


def _holder(store) -> str | None:
    with store.read() as db:
        rows = list(db.query("SELECT holder FROM scheduler_leases WHERE name = ?", [LEASE_NAME]))
    return rows[0]["holder"] if rows else None


def test_of_processes_claiming_a_free_lease_at_once_exactly_one_holds_it(store, settings, tmp_path):
    results = _claim_at_once(settings.db_path, tmp_path, ["p1", "p2", "p3", "p4"], T0, T0 + timedelta(minutes=1))
    winners = [h for h, r in results.items() if r == "won"]
    assert len(winners) == 1 and sorted(results.values()) == ["lost", "lost", "lost", "won"]
    assert _holder(store) == winners[0]


def test_the_holder_renews_and_after_expiry_exactly_one_other_takes_over(store, settings, tmp_path):
    with store.write() as db:
        assert push.take_lease(db, LEASE_NAME, "old", iso(T0), iso(T0 + timedelta(minutes=1)))
    # While it lasts: others are refused, the holder renews.
    live = T0 + timedelta(seconds=30)
    results = _claim_at_once(settings.db_path, tmp_path, ["p1", "p2"], live, live + timedelta(minutes=1))
    assert results == {"p1": "lost", "p2": "lost"}
    with store.write() as db:
        assert push.take_lease(db, LEASE_NAME, "old", iso(live), iso(live + timedelta(minutes=1)))
    # The holder falls silent past its (renewed) expiry: one of the others takes it over,
    # and the old holder cannot take it back while the new one's lasts.
    late = live + timedelta(minutes=1)
    results = _claim_at_once(settings.db_path, tmp_path, ["p1", "p2", "p3"], late, late + timedelta(minutes=1))
    winners = [h for h, r in results.items() if r == "won"]
    assert len(winners) == 1 and _holder(store) == winners[0]
    with store.write() as db:
        assert not push.take_lease(db, LEASE_NAME, "old", iso(late), iso(late + timedelta(minutes=1)))


def test_a_released_lease_is_free_at_once(store):
    with store.write() as db:
        assert push.take_lease(db, LEASE_NAME, "a", iso(T0), iso(T0 + timedelta(minutes=1)))
        assert not push.take_lease(db, LEASE_NAME, "b", iso(T0), iso(T0 + timedelta(minutes=1)))
        push.release_lease(db, LEASE_NAME, "b")  # not b's to release
        assert not push.take_lease(db, LEASE_NAME, "b", iso(T0), iso(T0 + timedelta(minutes=1)))
        push.release_lease(db, LEASE_NAME, "a")
        assert push.take_lease(db, LEASE_NAME, "b", iso(T0), iso(T0 + timedelta(minutes=1)))
    assert _holder(store) == "b"
