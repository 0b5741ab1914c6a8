"""The in-process scheduler: plans reminders and urgent-flag notifications, escalates
overdue follow-ups, and sends what is due through web push.

Every run (a *tick*) takes ``now`` from a clock the tests control. Only the holder of the
database lease (``scheduler_leases``, taken in a ``BEGIN IMMEDIATE`` transaction) does
anything, so two server processes on one database never both send. Planning is idempotent
(outbox ids derive from the reminder and the device), so a tick repeated, crashed half-way
or run by the other process after a takeover never sends one reminder twice to a device.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio

from sync import merge
from sync.writer import make_create

from ..clock import iso, parse_iso, utcnow
from ..ids import stable_id
from ..settings import Settings
from ..storage import records
from ..storage.db import Database
from ..followups import dates
from . import service
from .schemas import PushPayload
from .sender import Sender, SendResult

log = logging.getLogger("hearthside.push")

LEASE_NAME = "push-scheduler"
# Urgent flags older than this when first seen (e.g. raised before a supervisor
# subscribed) are not pushed: the app shows them when opened.
URGENT_FLAG_WINDOW = timedelta(hours=24)
# Overdue reminders are sent at most this long after the due day; older ones would be noise.
OVERDUE_REMINDER_WINDOW_DAYS = 7
OVERDUE_FLAG_RULE = "follow-up-overdue"

# Kinds of notification (the payload's ``type``): the service worker words them.
FOLLOW_UP_DUE = "follow-up-due"
FOLLOW_UP_OVERDUE = "follow-up-overdue"
FLAG_URGENT = "flag-urgent"


@dataclass
class TickReport:
    leader: bool = False
    planned: int = 0
    flags_raised: int = 0
    visits_applied: int = 0
    attempts: list[tuple[str, int | None, str]] = field(default_factory=list)


class Scheduler:
    def __init__(
        self,
        store: Database,
        settings: Settings,
        sender: Sender,
        *,
        clock: Callable[[], datetime] = utcnow,
        content: Callable[[], Any] | None = None,
        holder: str | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.sender = sender
        self.clock = clock
        self.content = content or (lambda: None)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = timedelta(seconds=settings.scheduler_lease_seconds)

    # -- the lease ---------------------------------------------------------------------
    def take_lease(self, now: datetime) -> bool:
        """Take or renew the lease; False when another live holder has it."""
        with self.store.write() as db:  # BEGIN IMMEDIATE: one process at a time decides
            rows = list(db.query("SELECT holder, expires_at FROM scheduler_leases WHERE name = ?", [LEASE_NAME]))
            if rows and rows[0]["holder"] != self.holder and parse_iso(rows[0]["expires_at"]) > now:
                return False
            db.execute(
                "INSERT INTO scheduler_leases (name, holder, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
                [LEASE_NAME, self.holder, iso(now + self.lease)],
            )
        return True

    def release_lease(self) -> None:
        with self.store.write() as db:
            db.execute("DELETE FROM scheduler_leases WHERE name = ? AND holder = ?", [LEASE_NAME, self.holder])

    # -- one run -----------------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> TickReport:
        now = now or self.clock()
        report = TickReport()
        if not self.take_lease(now):
            return report
        report.leader = True
        content = self.content()
        if content is not None:
            # Safety net for the sync hook: any completed visit whose rules have not run yet.
            from ..followups.from_visit import sweep_completed_visits

            report.visits_applied = sweep_completed_visits(self.store, content)
        with self.store.write() as db:
            report.flags_raised = escalate_overdue(db, self.store.keyring, now)
            report.planned = plan(db, now, self.settings)
        self.send_due(now, report)
        return report

    def send_due(self, now: datetime, report: TickReport) -> None:
        with self.store.read() as db:
            due = list(db.query(
                "SELECT o.*, s.secret, s.id AS sid FROM push_outbox o"
                " LEFT JOIN push_subscriptions s ON s.id = o.subscription_id"
                " WHERE o.status = 'pending' AND o.next_attempt_at <= ?"
                " ORDER BY CASE o.urgency WHEN 'high' THEN 0 ELSE 1 END, o.created_at, o.id",
                [iso(now)],
            ))
        for row in due:
            # Renew before each send: a long batch must not outlive the lease and let
            # another process start sending the same rows.
            if not self.take_lease(now):
                return
            if row["sid"] is None:
                with self.store.write() as db:
                    db.execute("UPDATE push_outbox SET status = 'dropped' WHERE id = ?", [row["id"]])
                continue
            info = service.subscription_info(self.store.keyring, {"id": row["sid"], "secret": row["secret"]})
            payload = PushPayload(type=row["kind"], count=row["count"], id=row["ref_id"])
            result = self.sender.send(info, payload, ttl=row["ttl"], urgency=row["urgency"])
            outcome = self.record(row, result, now)
            report.attempts.append((row["id"], result.status_code, outcome))

    def record(self, row: dict[str, Any], result: SendResult, now: datetime) -> str:
        code = result.status_code
        attempts = row["attempts"] + 1
        with self.store.write() as db:
            if code is not None and 200 <= code < 300:
                outcome = "sent"
                db.execute("UPDATE push_outbox SET status = 'sent', attempts = ?, sent_at = ? WHERE id = ?",
                           [attempts, iso(now), row["id"]])
            elif code in (404, 410):
                # The browser unsubscribed or the subscription expired: it will never work again.
                outcome = "gone"
                db.execute("UPDATE push_outbox SET attempts = ? WHERE id = ?", [attempts, row["id"]])
                service.delete_subscription(db, row["subscription_id"])
            elif code is None or code == 429 or code >= 500:
                if attempts >= self.settings.push_max_attempts:
                    outcome = "failed" if code is not None else "error"
                    db.execute("UPDATE push_outbox SET status = 'failed', attempts = ? WHERE id = ?",
                               [attempts, row["id"]])
                else:
                    outcome = "retry"
                    delay = self.settings.push_backoff_seconds * (2 ** (attempts - 1))
                    delay = max(delay, result.retry_after_seconds or 0.0)
                    db.execute("UPDATE push_outbox SET attempts = ?, next_attempt_at = ? WHERE id = ?",
                               [attempts, iso(now + timedelta(seconds=delay)), row["id"]])
            else:
                # 400 / 403 / 413 ...: resending the same request cannot succeed.
                outcome = "failed"
                db.execute("UPDATE push_outbox SET status = 'failed', attempts = ? WHERE id = ?",
                           [attempts, row["id"]])
            db.execute(
                "INSERT INTO push_attempts (outbox_id, subscription_id, at, status_code, outcome,"
                " retry_after_seconds, holder) VALUES (?,?,?,?,?,?,?)",
                [row["id"], row["subscription_id"], iso(now), code, outcome, result.retry_after_seconds, self.holder],
            )
        if outcome not in ("sent", "retry"):
            log.info("push %s: status %s", outcome, code)
        return outcome

    # -- the loop ----------------------------------------------------------------------
    async def run(self) -> None:
        interval = self.settings.scheduler_interval_seconds
        while True:
            try:
                await anyio.to_thread.run_sync(self.tick)
            except Exception as exc:  # keep running: the next tick may well succeed
                log.error("scheduler tick failed: %s", type(exc).__name__)
            await anyio.sleep(interval)


# -- planning ------------------------------------------------------------------------------


def _enqueue(db, now: datetime, key: str, user_id: str, agency_id: str, kind: str, ref_id: str | None,
             urgency: str, ttl: int) -> int:
    added = 0
    for sub in db.query("SELECT id FROM push_subscriptions WHERE user_id = ?", [user_id]):
        cur = db.execute(
            "INSERT OR IGNORE INTO push_outbox (id, reminder_key, subscription_id, user_id, agency_id, kind, ref_id,"
            " count, urgency, ttl, status, attempts, next_attempt_at, created_at)"
            " VALUES (?,?,?,?,?,?,?,1,?,?,'pending',0,?,?)",
            [stable_id("push", key, sub["id"]), key, sub["id"], user_id, agency_id, kind, ref_id, urgency, ttl,
             iso(now), iso(now)],
        )
        added += cur.rowcount
    return added


def plan(db, now: datetime, settings: Settings) -> int:
    """Queue every notification due at ``now`` that is not queued yet; returns how many."""
    added = 0
    ttl = settings.push_ttl_seconds
    agencies = {r["id"]: dates.zone(r["timezone"]) for r in db.query("SELECT id, timezone FROM agencies")}
    # Follow-up reminders, for people who have a device to receive them.
    open_follow_ups = db.query(
        "SELECT f.id, f.agency_id, f.assignee_id, f.due_at FROM follow_ups f"
        " JOIN users u ON u.id = f.assignee_id AND u.disabled_at IS NULL"
        " WHERE f.status = 'open' AND f.deleted = 0"
        " AND EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = f.assignee_id)"
    )
    for fu in open_follow_ups:
        tz = agencies.get(fu["agency_id"], dates.zone(None))
        due_day = dates.local_date(fu["due_at"], tz)
        morning = dates.at_local(due_day, settings.reminder_hour, tz)
        if morning <= now < parse_iso(fu["due_at"]):
            added += _enqueue(db, now, f"{FOLLOW_UP_DUE}:{fu['id']}:{due_day.isoformat()}", fu["assignee_id"],
                              fu["agency_id"], FOLLOW_UP_DUE, fu["id"], "normal", ttl)
        next_morning = dates.at_local(dates.add_days(due_day, 1), settings.reminder_hour, tz)
        last_day = dates.at_local(dates.add_days(due_day, 1 + OVERDUE_REMINDER_WINDOW_DAYS), 0, tz)
        if next_morning <= now < last_day:
            added += _enqueue(db, now, f"{FOLLOW_UP_OVERDUE}:{fu['id']}:{fu['due_at']}", fu["assignee_id"],
                              fu["agency_id"], FOLLOW_UP_OVERDUE, fu["id"], "normal", ttl)
    # Urgent flags go to the supervisors of the family's team straight away.
    urgent = db.query(
        "SELECT fl.id, fl.agency_id, f.team_id FROM flags fl JOIN families f ON f.id = fl.family_id"
        " WHERE fl.status = 'open' AND fl.severity = 'urgent' AND fl.deleted = 0 AND fl.created_at >= ?",
        [iso(now - URGENT_FLAG_WINDOW)],
    )
    for flag in urgent:
        for sup in db.query(
            "SELECT id FROM users WHERE agency_id = ? AND team_id IS ? AND role = 'supervisor'"
            " AND disabled_at IS NULL", [flag["agency_id"], flag["team_id"]]
        ):
            added += _enqueue(db, now, f"{FLAG_URGENT}:{flag['id']}", sup["id"], flag["agency_id"], FLAG_URGENT,
                              flag["id"], "high", min(ttl, 3600))
    return added


def escalate_overdue(db, keyring, now: datetime) -> int:
    """Raise one flag (to the supervisor) per follow-up overdue by more than the agency's
    ``overdue_flag_days``; the flag's id derives from the follow-up, so it is raised once."""
    raised = 0
    settings_by_agency: dict[str, tuple[Any, int]] = {}
    for fu in list(db.query(
        "SELECT id, agency_id, family_id, visit_id, due_at FROM follow_ups"
        " WHERE status = 'open' AND deleted = 0 AND due_at < ?", [iso(now)]
    )):
        if fu["agency_id"] not in settings_by_agency:
            tz = dates.agency_zone(db, fu["agency_id"])
            settings_by_agency[fu["agency_id"]] = (tz, dates.overdue_flag_days(dates.agency_settings(db, fu["agency_id"])))
        tz, limit = settings_by_agency[fu["agency_id"]]
        late = dates.days_overdue(fu["due_at"], now, tz)
        if late <= limit:
            continue
        flag_id = stable_id("flag", OVERDUE_FLAG_RULE, fu["id"])
        if list(db.query("SELECT 1 FROM flags WHERE id = ?", [flag_id])):
            continue
        # The server's own op through the one write path; the flag's subject is the
        # follow-up it escalates.
        # The op's id derives from the flag's: a refusal is answered once (and quarantined
        # once), not again at every tick.
        op = make_create("flag", flag_id, fu["family_id"], {
            "visit_id": fu["visit_id"], "rule_id": OVERDUE_FLAG_RULE, "subject_id": fu["id"], "severity": "high",
            "status": "open", "reason": f"A follow-up is more than {limit} days overdue.",
            "answers": {"follow_up_id": fu["id"], "days_overdue": late},
        }, op_id=stable_id("op", flag_id))
        result = merge.apply_ops(db, keyring, records.SYSTEM, [op], agency_id=fu["agency_id"])[0]
        raised += result.status == "applied"
    return raised
