"""Scheduler throughput: plan and send N due reminders to a local push service (real
aes128gcm encryption and ES256 VAPID signing per request). Prints figures; not a test.

    .venv/bin/python bench/push_scheduler.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from litestar.testing import TestClient  # noqa: E402

from server.app import create_app  # noqa: E402
from server.ids import new_id  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.storage import records  # noqa: E402
from tests.factories import PASSWORD, build_world  # noqa: E402
from tests.push.helpers import Clock, login, scheduler, subscribe  # noqa: E402
from tests.push.pushservice import PushService  # noqa: E402


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({}, data_dir=Path(tmp) / "data", scheduler_enabled=False, log_level="WARNING")
        app = create_app(settings)
        store = app.state.db
        world = build_world(store)
        service = PushService().start()
        try:
            with TestClient(app) as client:
                subscribe(client, login(client, "prac_a1", PASSWORD), service.browser("bench"))
            now = datetime(2026, 10, 24, 9, 0, tzinfo=timezone.utc)
            with store.write() as db:
                for _ in range(n):
                    records.insert(db, store.keyring, "follow_up", {
                        "id": new_id(), "agency_id": world.agencies["A"], "family_id": world.families["own"],
                        "assignee_id": world.users["prac_a1"], "due_at": "2026-10-24T22:59:00.000Z",
                        "text": "Bench", "status": "open"})
            sched = scheduler(app, Clock(now))
            t0 = time.perf_counter()
            report = sched.tick()
            elapsed = time.perf_counter() - t0
            t1 = time.perf_counter()
            again = sched.tick()
            idle = time.perf_counter() - t1
        finally:
            service.stop()
    sent = sum(1 for _, _, o in report.attempts if o == "sent")
    print(f"reminders planned: {report.planned}  sent: {sent}  received: {len(service.received)}")
    print(f"first tick (plan + encrypt + sign + POST each): {elapsed:.2f} s  = {sent / elapsed:.0f} pushes/s")
    print(f"second tick (nothing new to send): {idle * 1000:.0f} ms, sent {len(again.attempts)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
