"""The in-process scheduler: plans reminders and urgent-flag notifications, escalates
overdue follow-ups, and sends what is due through web push.

Every run (a *tick*) takes ``now`` from a clock the tests control. Only the holder of the
database lease (``storage.push.take_lease``: a conditional claim with an expiry, renewed
before each send) does anything, so two server processes on one database never both send. Planning is idempotent
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
from ..storage import families as family_rows, followups as follow_up_rows, push as push_rows, records
from ..storage.db import Database
from ..storage.tx import Tx
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
        with self.store.write() as db:
            return push_rows.take_lease(db, LEASE_NAME, self.holder, iso(now), iso(now + self.lease))

    def release_lease(self) -> None:
        with self.store.write() as db:
            push_rows.release_lease(db, LEASE_NAME, self.holder)

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
            due = push_rows.due(db, iso(now))
        for row in due:
            # Renew before each send: a long batch must not outlive the lease and let
            # another process start sending the same rows.
            if not self.take_lease(now):
                return
            if row["sid"] is None:
                with self.store.write() as db:
                    push_rows.mark_dropped(db, row["id"])
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
                push_rows.mark_sent(db, row["id"], attempts, iso(now))
            elif code in (404, 410):
                # The browser unsubscribed or the subscription expired: it will never work again.
                outcome = "gone"
                push_rows.count_attempts(db, row["id"], attempts)
                service.delete_subscription(db, row["subscription_id"])
            elif code is None or code == 429 or code >= 500:
                if attempts >= self.settings.push_max_attempts:
                    outcome = "failed" if code is not None else "error"
                    push_rows.mark_failed(db, row["id"], attempts)
                else:
                    outcome = "retry"
                    delay = self.settings.push_backoff_seconds * (2 ** (attempts - 1))
                    delay = max(delay, result.retry_after_seconds or 0.0)
                    push_rows.schedule_retry(db, row["id"], attempts, iso(now + timedelta(seconds=delay)))
            else:
                # 400 / 403 / 413 ...: resending the same request cannot succeed.
                outcome = "failed"
                push_rows.mark_failed(db, row["id"], attempts)
            push_rows.log_attempt(db, row["id"], row["subscription_id"], iso(now), code, outcome,
                                  result.retry_after_seconds, self.holder)
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


def _enqueue(db: Tx, now: datetime, key: str, user_id: str, agency_id: str, kind: str, ref_id: str | None,
             urgency: str, ttl: int) -> int:
    added = 0
    for sid in push_rows.subscription_ids_of_user(db, user_id):
        added += push_rows.enqueue(db, stable_id("push", key, sid), key, sid, user_id, agency_id, kind, ref_id,
                                   urgency, ttl, iso(now))
    return added


def plan(db: Tx, now: datetime, settings: Settings) -> int:
    """Queue every notification due at ``now`` that is not queued yet; returns how many."""
    added = 0
    ttl = settings.push_ttl_seconds
    agencies = {agency_id: dates.zone(name) for agency_id, name in push_rows.agency_zones(db).items()}
    # Follow-up reminders, for people who have a device to receive them.
    for fu in push_rows.open_follow_ups_with_devices(db):
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
    for flag in push_rows.urgent_flags_since(db, iso(now - URGENT_FLAG_WINDOW)):
        for supervisor_id in push_rows.team_supervisors(db, flag["agency_id"], flag["team_id"]):
            added += _enqueue(db, now, f"{FLAG_URGENT}:{flag['id']}", supervisor_id, flag["agency_id"], FLAG_URGENT,
                              flag["id"], "high", min(ttl, 3600))
    return added


def escalate_overdue(db: Tx, keyring, now: datetime) -> int:
    """Raise one flag (to the supervisor) per follow-up overdue by more than the agency's
    ``overdue_flag_days``; the flag's id derives from the follow-up, so it is raised once."""
    raised = 0
    settings_by_agency: dict[str, tuple[Any, int]] = {}
    for fu in follow_up_rows.overdue_open(db, iso(now)):
        if fu["agency_id"] not in settings_by_agency:
            tz = dates.agency_zone(db, fu["agency_id"])
            settings_by_agency[fu["agency_id"]] = (tz, dates.overdue_flag_days(dates.agency_settings(db, fu["agency_id"])))
        tz, limit = settings_by_agency[fu["agency_id"]]
        late = dates.days_overdue(fu["due_at"], now, tz)
        if late <= limit:
            continue
        flag_id = stable_id("flag", OVERDUE_FLAG_RULE, fu["id"])
        if family_rows.exists(db, "flag", flag_id):
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
