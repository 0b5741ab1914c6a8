"""Due dates in the agency's time zone.

A follow-up is due on a local calendar day; it is stored as an instant (UTC) at the end of
that day, so "overdue" means the day has passed where the family lives, whatever the
server's zone and across daylight-saving changes (zoneinfo does the arithmetic).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..clock import iso, parse_iso
from ..storage import followups as follow_up_rows
from ..storage.tx import Tx

DEFAULT_ZONE = "Europe/London"
DEFAULT_OVERDUE_FLAG_DAYS = 2
END_OF_DAY = time(23, 59)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def agency_row(db: Tx, agency_id: str) -> dict[str, Any]:
    return follow_up_rows.agency_time(db, agency_id) or {"id": agency_id, "timezone": DEFAULT_ZONE, "settings": "{}"}


def agency_zone(db: Tx, agency_id: str) -> ZoneInfo:
    return zone(agency_row(db, agency_id)["timezone"])


def agency_settings(db: Tx, agency_id: str) -> dict[str, Any]:
    try:
        value = json.loads(agency_row(db, agency_id)["settings"] or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def overdue_flag_days(settings: dict[str, Any]) -> int:
    """Days past due before an open follow-up raises a flag to the supervisor
    (agency settings key ``overdue_flag_days``)."""
    value = settings.get("overdue_flag_days", DEFAULT_OVERDUE_FLAG_DAYS)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else DEFAULT_OVERDUE_FLAG_DAYS


def due_at_for(day: date, tz: ZoneInfo) -> str:
    """The stored due instant for a local due day: the end of that day, in UTC."""
    return iso(datetime.combine(day, END_OF_DAY, tzinfo=tz))


def local_date(instant: str | datetime, tz: ZoneInfo) -> date:
    dt = parse_iso(instant) if isinstance(instant, str) else instant
    return dt.astimezone(tz).date()


def at_local(day: date, hour: int, tz: ZoneInfo) -> datetime:
    """``hour``:00 local time on ``day``, as an aware UTC datetime. A wall time that does
    not exist (spring forward) resolves forward, one that happens twice takes the first."""
    local = datetime.combine(day, time(hour), tzinfo=tz)
    # Round-trip through UTC normalises a non-existent local time.
    return local.astimezone(timezone.utc)


def days_overdue(due_at: str, now: datetime, tz: ZoneInfo) -> int:
    """Whole local days since the due day (0 on the due day or before)."""
    return max(0, (now.astimezone(tz).date() - local_date(due_at, tz)).days)


def add_days(day: date, n: int) -> date:
    return day + timedelta(days=n)
