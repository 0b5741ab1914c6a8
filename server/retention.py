"""Retention classes and the review report. Nothing here deletes anything: records that
have reached their review date are listed for a person to decide.

Defaults follow the NHS Records Management Code of Practice for health visiting records:

- ``child-health`` (a child's or unborn baby's records, and the family records about
  them): keep until the child's 25th birthday, or 26th if they were 17 at the end of care.
- ``adult-health`` (an adult's own records, families with no child): 8 years after the
  end of care.

An agency overrides any of these in ``agencies.settings``::

    {"retention": {"child_until_age": 25, "child_until_age_if_17_at_end": 26,
                   "adult_years_after_end": 8}}

The end of care is when the family's record was closed (the ``status`` field's last
change). An open family is never due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .clock import parse_iso
from .storage import accounts, subject_access
from .storage.crypto import Keyring
from .storage.tx import Tx

DEFAULTS = {"child_until_age": 25, "child_until_age_if_17_at_end": 26, "adult_years_after_end": 8}
CHILD_ROLES = {"child", "unborn"}


def rules_for(db: Tx, agency_id: str) -> dict[str, int]:
    settings = accounts.agency_settings(db, agency_id) or {}
    custom = settings.get("retention") or {}
    return {k: int(custom.get(k, v)) for k, v in DEFAULTS.items()}


def person_class(role: str) -> str:
    return "child-health" if role in CHILD_ROLES else "adult-health"


def family_class(persons: list[dict[str, Any]]) -> str:
    return "child-health" if any(p["role"] in CHILD_ROLES for p in persons) else "adult-health"


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def end_of_care(family: dict[str, Any]) -> date | None:
    if family.get("status") != "closed":
        return None
    meta = (family.get("field_meta") or {}).get("status") or {}
    at = meta.get("at") or family.get("updated_at")
    return parse_iso(at).date() if at else None


def person_review_date(person: dict[str, Any], ended: date | None, rules: dict[str, int]) -> tuple[date | None, str]:
    """When this person's records fall due for review, and why."""
    if ended is None:
        return None, "care has not ended"
    if person["role"] in CHILD_ROLES:
        born_text = person.get("date_of_birth") or person.get("expected_date")
        if not born_text:
            return ended, "no date of birth recorded: review by hand"
        born = date.fromisoformat(born_text)
        if _age_on(born, ended) >= 17:
            age = rules["child_until_age_if_17_at_end"]
        else:
            age = rules["child_until_age"]
        return _add_years(born, age), f"child's {age}th birthday"
    years = rules["adult_years_after_end"]
    return _add_years(ended, years), f"{years} years after the end of care"


@dataclass
class Due:
    agency_id: str
    family_id: str
    retention_class: str
    end_of_care: date | None
    review_on: date | None
    reason: str
    driven_by: str | None  # person id whose rule sets the date

    @property
    def due(self) -> bool:
        return self.review_on is not None


def family_review(db: Tx, keyring: Keyring, family: dict[str, Any],
                  rules: dict[str, int]) -> Due:
    persons = subject_access.family_records(db, keyring, "person", family["id"])
    ended = end_of_care(family)
    klass = family_class(persons)
    review, reason, driver = None, "care has not ended", None
    if ended is not None:
        # The family's records are kept as long as the longest-kept person's.
        candidates = [(person_review_date(p, ended, rules), p["id"]) for p in persons
                      if person_class(p["role"]) == klass]
        if not candidates:
            years = rules["adult_years_after_end"]
            candidates = [((_add_years(ended, years), f"{years} years after the end of care"), None)]
        (review, reason), driver = max(candidates, key=lambda c: c[0][0] or date.min)
    return Due(family["agency_id"], family["id"], klass, ended, review, reason, driver)


def report(db: Tx, keyring: Keyring, as_of: date, agency_id: str | None = None) -> list[Due]:
    """Closed families whose review date is on or before ``as_of``, oldest first."""
    out = []
    rules_cache: dict[str, dict[str, int]] = {}
    for family in subject_access.closed_families(db, keyring, agency_id):
        rules = rules_cache.setdefault(family["agency_id"], rules_for(db, family["agency_id"]))
        item = family_review(db, keyring, family, rules)
        if item.review_on is not None and item.review_on <= as_of:
            out.append(item)
    return sorted(out, key=lambda d: (d.review_on, d.family_id))
