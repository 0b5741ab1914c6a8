"""Web push: subscriptions (``push_subscriptions``), the outbox of notifications
(``push_outbox``) with every sending attempt (``push_attempts``), what the scheduler plans
from, and the scheduler's lease (``scheduler_leases``).

The lease: one row per name, holding who has it and until when. It is claimed with a
conditional write whose row count says who won (renewed by its holder, or taken over once
expired), so of several server processes on one database exactly one holds it at a time,
whichever engine is behind and whatever its isolation level.
"""

from __future__ import annotations

from typing import Any

from .tx import Tx

# -- the lease ----------------------------------------------------------------------------


def take_lease(db: Tx, name: str, holder: str, now: str, until: str) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``until``; False when another
    holder has it and it has not expired by ``now`` (times are ``clock.iso`` text, which
    sorts as time)."""
    cur = db.execute("UPDATE scheduler_leases SET holder = ?, expires_at = ?"
                     " WHERE name = ? AND (holder = ? OR expires_at <= ?)", [holder, until, name, holder, now])
    if cur.rowcount == 1:
        return True
    # No row to renew or take over: the first to insert it wins; a row there means a live holder.
    cur = db.execute("INSERT INTO scheduler_leases (name, holder, expires_at) VALUES (?, ?, ?)"
                     " ON CONFLICT (name) DO NOTHING", [name, holder, until])
    return cur.rowcount == 1


def release_lease(db: Tx, name: str, holder: str) -> None:
    db.execute("DELETE FROM scheduler_leases WHERE name = ? AND holder = ?", [name, holder])


# -- subscriptions ------------------------------------------------------------------------


def subscription_of_device(db: Tx, device_id: str) -> dict[str, Any] | None:
    """The device's subscription (id, created_at, updated_at)."""
    rows = list(db.query("SELECT id, created_at, updated_at FROM push_subscriptions WHERE device_id = ?",
                         [device_id]))
    return rows[0] if rows else None


def subscription_ids_of_device(db: Tx, device_id: str) -> list[str]:
    return [r[0] for r in db.execute("SELECT id FROM push_subscriptions WHERE device_id = ?", [device_id]).fetchall()]


def renew_subscription(db: Tx, subscription_id: str, endpoint_hash: str, secret: str, user_id: str, at: str) -> None:
    """Point a subscription at a new endpoint (its queued notifications follow it)."""
    db.execute("UPDATE push_subscriptions SET endpoint_hash = ?, secret = ?, user_id = ?, updated_at = ? WHERE id = ?",
               [endpoint_hash, secret, user_id, at, subscription_id])


def add_subscription(db: Tx, subscription_id: str, device_id: str, user_id: str, agency_id: str,
                     endpoint_hash: str, secret: str, at: str) -> None:
    db.execute("INSERT INTO push_subscriptions (id, device_id, user_id, agency_id, endpoint_hash, secret,"
               " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
               [subscription_id, device_id, user_id, agency_id, endpoint_hash, secret, at, at])


def drop_other_endpoint_rows(db: Tx, endpoint_hash: str, keep_id: str) -> None:
    """Remove any other subscription to the same endpoint (a re-enrolled phone's old row)."""
    db.execute("DELETE FROM push_subscriptions WHERE endpoint_hash = ? AND id != ?", [endpoint_hash, keep_id])


def delete_subscription(db: Tx, subscription_id: str) -> None:
    """Remove a subscription; what it still had queued is dropped, never sent elsewhere."""
    db.execute("DELETE FROM push_subscriptions WHERE id = ?", [subscription_id])
    db.execute("UPDATE push_outbox SET status = 'dropped' WHERE subscription_id = ? AND status = 'pending'",
               [subscription_id])


def subscription_ids_of_user(db: Tx, user_id: str) -> list[str]:
    return [r[0] for r in db.execute("SELECT id FROM push_subscriptions WHERE user_id = ?", [user_id]).fetchall()]


# -- the outbox ---------------------------------------------------------------------------


def enqueue(db: Tx, outbox_id: str, reminder_key: str, subscription_id: str, user_id: str, agency_id: str,
            kind: str, ref_id: str | None, urgency: str, ttl: int, at: str) -> bool:
    """Queue one notification for one subscription, due at ``at``; False when that id is
    queued already (ids derive from the reminder and the subscription)."""
    cur = db.execute(
        "INSERT INTO push_outbox (id, reminder_key, subscription_id, user_id, agency_id, kind, ref_id,"
        " count, urgency, ttl, status, attempts, next_attempt_at, created_at)"
        " VALUES (?,?,?,?,?,?,?,1,?,?,'pending',0,?,?) ON CONFLICT (id) DO NOTHING",
        [outbox_id, reminder_key, subscription_id, user_id, agency_id, kind, ref_id, urgency, ttl, at, at])
    return cur.rowcount == 1


def due(db: Tx, now: str) -> list[dict[str, Any]]:
    """Pending notifications due by ``now``, urgent first, then oldest; each with its
    subscription's (encrypted) secret and id as ``sid`` (None: the subscription is gone)."""
    return list(db.query(
        "SELECT o.*, s.secret, s.id AS sid FROM push_outbox o"
        " LEFT JOIN push_subscriptions s ON s.id = o.subscription_id"
        " WHERE o.status = 'pending' AND o.next_attempt_at <= ?"
        " ORDER BY CASE o.urgency WHEN 'high' THEN 0 ELSE 1 END, o.created_at, o.id", [now]))


def mark_dropped(db: Tx, outbox_id: str) -> None:
    db.execute("UPDATE push_outbox SET status = 'dropped' WHERE id = ?", [outbox_id])


def mark_sent(db: Tx, outbox_id: str, attempts: int, at: str) -> None:
    db.execute("UPDATE push_outbox SET status = 'sent', attempts = ?, sent_at = ? WHERE id = ?",
               [attempts, at, outbox_id])


def mark_failed(db: Tx, outbox_id: str, attempts: int) -> None:
    db.execute("UPDATE push_outbox SET status = 'failed', attempts = ? WHERE id = ?", [attempts, outbox_id])


def count_attempts(db: Tx, outbox_id: str, attempts: int) -> None:
    db.execute("UPDATE push_outbox SET attempts = ? WHERE id = ?", [attempts, outbox_id])


def schedule_retry(db: Tx, outbox_id: str, attempts: int, next_at: str) -> None:
    db.execute("UPDATE push_outbox SET attempts = ?, next_attempt_at = ? WHERE id = ?", [attempts, next_at, outbox_id])


def log_attempt(db: Tx, outbox_id: str, subscription_id: str, at: str, status_code: int | None, outcome: str,
                retry_after_seconds: float | None, holder: str) -> None:
    db.execute("INSERT INTO push_attempts (outbox_id, subscription_id, at, status_code, outcome,"
               " retry_after_seconds, holder) VALUES (?,?,?,?,?,?,?)",
               [outbox_id, subscription_id, at, status_code, outcome, retry_after_seconds, holder])


# -- what the scheduler plans from --------------------------------------------------------


def agency_zones(db: Tx) -> dict[str, str | None]:
    """Each agency's time zone name (None: not set)."""
    return {r[0]: r[1] for r in db.execute("SELECT id, timezone FROM agencies").fetchall()}


def open_follow_ups_with_devices(db: Tx) -> list[dict[str, Any]]:
    """Open follow-ups whose (enabled) assignee has a device to be reminded on: id,
    agency_id, assignee_id, due_at."""
    return list(db.query(
        "SELECT f.id, f.agency_id, f.assignee_id, f.due_at FROM follow_ups f"
        " JOIN users u ON u.id = f.assignee_id AND u.disabled_at IS NULL"
        " WHERE f.status = 'open' AND f.deleted = 0"
        " AND EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = f.assignee_id)"))


def urgent_flags_since(db: Tx, since: str) -> list[dict[str, Any]]:
    """Open urgent flags raised at or after ``since``: id, agency_id and the family's team_id."""
    return list(db.query(
        "SELECT fl.id, fl.agency_id, f.team_id FROM flags fl JOIN families f ON f.id = fl.family_id"
        " WHERE fl.status = 'open' AND fl.severity = 'urgent' AND fl.deleted = 0 AND fl.created_at >= ?", [since]))


def team_supervisors(db: Tx, agency_id: str, team_id: str | None) -> list[str]:
    """Ids of the enabled supervisors of a team (of no team, for ``team_id`` None)."""
    team = "team_id IS NULL" if team_id is None else "team_id = ?"
    args = [agency_id] + ([] if team_id is None else [team_id])
    return [r[0] for r in db.execute(
        f"SELECT id FROM users WHERE agency_id = ? AND {team} AND role = 'supervisor' AND disabled_at IS NULL",
        args).fetchall()]
