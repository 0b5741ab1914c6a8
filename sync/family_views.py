"""A child's chronology and the family's genogram, declared once.

Both are built from the synced records alone (the same fields the phone holds), so the
phone draws them offline from its encrypted store and the subject-access export
(``server/sar.py``) writes the same events. The event kinds, their labels and order, the
checklist answers that count as an injury or a change in who lives in the home, and the
genogram's symbols are declared here; ``hearthside model js --write`` writes them into
``pwa/js/generated/family-views.js``, and ``pwa/js/chronology.js`` builds the same
events from them (``tests/foundation/test_family_views.py`` runs both builders over the
same records and compares).
"""

from __future__ import annotations

from typing import Any, Iterable

from .model import Choice, _c

# In the order events of one moment are listed (a visit before what it led to).
EVENT_KINDS: tuple[Choice, ...] = _c(
    ("born", "Born"),
    ("visit", "Visit", "A signed visit to the family: whether this child was seen."),
    ("no-access", "No access", "A visit where nobody answered or the practitioner could not get in."),
    ("injury", "Injury or mark recorded"),
    ("household", "Change in who lives here", "An adult recorded as living in the home, or no longer."),
    ("decision", "Practitioner's decisions", "What was decided at the visit, and why."),
    ("information-shared", "Information shared", "What, with whom and why."),
    ("flag", "Flag raised to the supervisor"),
    ("flag-decision", "Supervisor's decision"),
    ("follow-up", "Follow-up"),
    ("follow-up-closed", "Follow-up closed"),
)
KIND_ORDER = {c.value: i for i, c in enumerate(EVENT_KINDS)}

# (checklist, item, answers that mean an injury, item whose answer describes it). A test
# fails when content no longer has the item, so a renamed question cannot drop injuries.
INJURY_ITEMS: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    ("injury-non-mobile", "injury", ("yes",), "injury-description"),
)
# (checklist, item): a carer's "lives in the home" answer; a change between visits (and the
# first answer) is an event. Only "yes" and "no" count: "not known" changes nothing.
HOUSEHOLD_ITEMS: tuple[tuple[str, str], ...] = (
    ("father-male-carer", "lives-in-home"),
)

# The genogram: adults above, children below; the usual symbols (square male, circle
# female, diamond not known, triangle a pregnancy); a solid line to a child where the adult
# has parental responsibility, dashed where not; a dashed outline for someone who does not
# live in the household.
GENERATION = {"mother": 0, "father": 0, "male-carer": 0, "partner": 0, "other-adult": 0, "child": 1, "unborn": 1}
SHAPE_BY_SEX = {"male": "square", "female": "circle"}
SHAPE_DEFAULT = "diamond"
SHAPE_UNBORN = "triangle"


def shape(person: dict[str, Any]) -> str:
    if person.get("role") == "unborn":
        return SHAPE_UNBORN
    return SHAPE_BY_SEX.get(person.get("sex") or "", SHAPE_DEFAULT)


def label(kind: str) -> str:
    return EVENT_KINDS[KIND_ORDER[kind]].label


def _filled(v: Any) -> bool:
    return isinstance(v, str) and v.strip() != ""


def visit_when(v: dict[str, Any]) -> str | None:
    return v.get("completed_at") or v.get("started_at") or v.get("planned_for") or None


def chronology(person_id: str, persons: Iterable[dict[str, Any]], visits: Iterable[dict[str, Any]],
               responses: Iterable[dict[str, Any]], flags: Iterable[dict[str, Any]],
               follow_ups: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The significant events in one person's record, oldest first; undated ones last.
    Only signed visits (and what was recorded at them) count: a visit in progress is not
    yet part of the record."""
    people = {p["id"]: p for p in persons}
    person = people.get(person_id) or {}
    signed = {v["id"]: v for v in visits if v.get("status") == "completed"}
    about = lambda subject: subject == person_id or subject not in people  # noqa: E731 (family- or visit-level)
    events: list[dict[str, Any]] = []

    def add(kind: str, at: str | None, entity: str, rid: str, **detail: Any) -> None:
        events.append({"kind": kind, "label": label(kind), "at": at, "entity": entity, "id": rid, "detail": detail})

    if person.get("date_of_birth"):
        add("born", person["date_of_birth"], "person", person_id)
    for v in signed.values():
        at = visit_when(v)
        if v.get("no_access"):
            add("no-access", at, "visit", v["id"], visit_type=v.get("type"))
            continue
        add("visit", at, "visit", v["id"], visit_type=v.get("type"), seen=person_id in (v.get("present") or []))
        if _filled(v.get("decisions")):
            add("decision", at, "visit", v["id"], decisions=v.get("decisions"), rationale=v.get("rationale"))
        if v.get("information_shared") == "shared":
            add("information-shared", at, "visit", v["id"], what=v.get("shared_what"), shared_with=v.get("shared_with"),
                why=v.get("shared_why"))

    answers = [r for r in responses if r.get("visit_id") in signed]
    by_key = {(r["visit_id"], r["checklist_id"], r["subject_id"], r["item_id"]): r for r in answers}
    for r in answers:
        for checklist, item, values, described_by in INJURY_ITEMS:
            if (r["checklist_id"], r["item_id"]) == (checklist, item) and r["subject_id"] == person_id \
                    and r.get("answer") in values:
                desc = by_key.get((r["visit_id"], checklist, r["subject_id"], described_by)) if described_by else None
                add("injury", visit_when(signed[r["visit_id"]]), "checklist_response", r["id"],
                    description=desc.get("answer") if desc else None)
    for checklist, item in HOUSEHOLD_ITEMS:
        said = sorted((r for r in answers if (r["checklist_id"], r["item_id"]) == (checklist, item)
                       and r.get("answer") in ("yes", "no")),
                      key=lambda r: (visit_when(signed[r["visit_id"]]) or "", r["id"]))
        last: dict[str, str] = {}
        for r in said:
            if last.get(r["subject_id"]) != r["answer"]:
                add("household", visit_when(signed[r["visit_id"]]), "checklist_response", r["id"],
                    person_id=r["subject_id"], lives_here=r["answer"] == "yes")
            last[r["subject_id"]] = r["answer"]

    for f in flags:
        if not about(f.get("subject_id")):
            continue
        v = signed.get(f.get("visit_id") or "")
        add("flag", visit_when(v) if v else None, "flag", f["id"], severity=f.get("severity"), reason=f.get("reason"),
            status=f.get("status"))
        if f.get("decided_at"):
            add("flag-decision", f["decided_at"], "flag", f["id"], decision=f.get("decision"), rationale=f.get("rationale"))
    for f in follow_ups:
        if not about(f.get("subject_id")):
            continue
        v = signed.get(f.get("visit_id") or "")
        add("follow-up", visit_when(v) if v else f.get("due_at"), "follow_up", f["id"], text=f.get("text"),
            due_at=f.get("due_at"), status=f.get("status"))
        if f.get("completed_at") and f.get("status") in ("done", "cancelled"):
            add("follow-up-closed", f["completed_at"], "follow_up", f["id"], status=f.get("status"), note=f.get("note"))

    events.sort(key=lambda e: (e["at"] is None, e["at"] or "", KIND_ORDER[e["kind"]], e["id"]))
    return events


def as_data() -> dict[str, Any]:
    """The declaration as JSON-able data: what the phone's builder reads."""
    return {
        "event_kinds": [{"value": c.value, "label": c.label, **({"hint": c.hint} if c.hint else {})} for c in EVENT_KINDS],
        "injury_items": [{"checklist": c, "item": i, "values": list(v), "described_by": d} for c, i, v, d in INJURY_ITEMS],
        "household_items": [{"checklist": c, "item": i} for c, i in HOUSEHOLD_ITEMS],
        "genogram": {"generation": GENERATION, "shape_by_sex": SHAPE_BY_SEX, "shape_default": SHAPE_DEFAULT,
                     "shape_unborn": SHAPE_UNBORN},
    }
