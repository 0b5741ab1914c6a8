"""Checklists as FHIR R4 ``Questionnaire``s, keeping their logic, and the status of a response.

- sections become ``group`` items (linkId ``section:<id>``) holding their questions, so a
  response nests its answers the same way;
- an item's ``show_if`` becomes ``enableWhen`` (with ``enableBehavior``) where R4 can say it:
  equals / in / answered / evidence / grade-at-least, their ``any`` or ``all``, and ``not``
  of one equals. A condition R4 cannot express (history, nested any-inside-all) is kept
  readable in the item's ``extension`` (``show-if``) rather than dropped;
- a response is ``completed`` only when every required item it must answer is answered
  (an item whose ``show_if`` does not hold is not asked, so not required).
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, Iterable

import msgspec

from ..clock import now_iso
from ..content import schema as s
from ..followups.from_visit import _age_band

NS = "urn:hearthside:fhir"
QUESTIONNAIRE_URL = "urn:hearthside:questionnaire:"
EXT_SHOW_IF = f"{NS}:StructureDefinition:show-if"
SECTION_PREFIX = "section:"
NOTE_SUFFIX = ".note"
EVIDENCE_SUFFIX = ".seen-or-told"
SEEN_TOLD_SYSTEM = f"{NS}:seen-or-told"
QUESTION_TYPE = {"yes-no": "choice", "single-choice": "choice", "multi-choice": "choice", "grade": "choice",
                 "seen-told": "choice", "free-text": "text", "child-words": "text"}
YES_NO = [("yes", "Yes"), ("no", "No"), ("not-known", "Not known")]
SEEN_TOLD = [("seen", "Seen by the practitioner"), ("told", "Told by someone else")]


def prune(value: Any) -> Any:
    """Drop empty members: FHIR forbids empty strings, arrays and objects."""
    if isinstance(value, dict):
        out = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        out = [prune(v) for v in value]
        return [v for v in out if v not in (None, "", [], {})]
    return value


def _pascal(text: str) -> str:
    name = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", text) if part)
    return name if name[:1].isalpha() else f"Checklist{name}"


def answer_system(checklist_id: str, item_id: str) -> str:
    return f"{QUESTIONNAIRE_URL}{checklist_id}:{item_id}"


def options(item: Any) -> list[tuple[str, str]]:
    if item.type == "yes-no":
        return YES_NO
    if item.type == "seen-told":
        return SEEN_TOLD
    if item.type == "grade":
        return [(str(g.grade), g.descriptor) for g in item.grades] or [(str(n), f"Grade {n}") for n in range(1, 5)]
    return [(c.id, c.label) for c in item.choices]


def questionnaire_id(checklist: Any) -> str:
    return f"{checklist.id}-v{checklist.version}"


# -- show_if -> enableWhen ----------------------------------------------------------------


def _answer(checklist: Any, item_id: str, value: str) -> dict[str, Any]:
    target = next((i for i in checklist.items if i.id == item_id), None)
    if target is not None and QUESTION_TYPE.get(target.type) == "choice":
        return {"answerCoding": {"system": answer_system(checklist.id, item_id), "code": value}}
    return {"answerString": value}


def _simple(checklist: Any, cond: Any, negate: bool = False) -> list[dict[str, Any]] | None:
    """enableWhen entries for one condition whose entries are OR-ed (``any``); None: not expressible."""
    op = "!=" if negate else "="
    if isinstance(cond, s.Equals) and cond.item and cond.checklist in (None, checklist.id):
        return [{"question": cond.item, "operator": op, **_answer(checklist, cond.item, cond.value)}]
    if negate:
        return None
    if isinstance(cond, s.In) and cond.item and cond.checklist in (None, checklist.id):
        return [{"question": cond.item, "operator": "=", **_answer(checklist, cond.item, v)} for v in cond.values]
    if isinstance(cond, s.Answered) and cond.item and cond.checklist in (None, checklist.id):
        return [{"question": cond.item, "operator": "exists", "answerBoolean": True}]
    if isinstance(cond, s.EvidenceIs) and cond.item and cond.checklist in (None, checklist.id):
        return [{"question": cond.item + EVIDENCE_SUFFIX, "operator": "=",
                 "answerCoding": {"system": SEEN_TOLD_SYSTEM, "code": cond.value}}]
    if (isinstance(cond, s.GradeAtLeast) and cond.item and cond.item != "*" and isinstance(cond.value, int)
            and cond.checklist in (None, checklist.id)):
        target = next((i for i in checklist.items if i.id == cond.item), None)
        grades = [int(c) for c, _ in options(target)] if target is not None else []
        return [{"question": cond.item, "operator": "=", **_answer(checklist, cond.item, str(g))}
                for g in grades if g >= cond.value] or None
    return None


def enable_when(checklist: Any, cond: Any) -> tuple[list[dict[str, Any]], str | None] | None:
    """(enableWhen, enableBehavior) for ``cond``, or None where R4's enableWhen cannot say it."""
    if isinstance(cond, s.Not):
        one = _simple(checklist, cond.of, negate=True)
        return (one, None) if one else None
    if isinstance(cond, s.AnyOf):
        parts = [_simple(checklist, c) for c in cond.of]
        if any(p is None for p in parts):
            return None
        flat = [e for p in parts for e in p]  # type: ignore[union-attr]
        return flat, ("any" if len(flat) > 1 else None)
    if isinstance(cond, s.All):
        parts = [_simple(checklist, c) for c in cond.of]
        if any(p is None or len(p) != 1 for p in parts):
            return None
        flat = [p[0] for p in parts]  # type: ignore[index]
        return flat, ("all" if len(flat) > 1 else None)
    one = _simple(checklist, cond)
    if one is None:
        return None
    return one, ("any" if len(one) > 1 else None)


# -- Questionnaire --------------------------------------------------------------------------


def _children(item_id: str) -> list[dict[str, Any]]:
    return [
        {"linkId": item_id + EVIDENCE_SUFFIX, "text": "Seen or told?", "type": "choice",
         "answerOption": [{"valueCoding": {"system": SEEN_TOLD_SYSTEM, "code": c, "display": d}}
                          for c, d in SEEN_TOLD]},
        {"linkId": item_id + NOTE_SUFFIX, "text": "Practitioner's note", "type": "text"},
    ]


def _question(checklist: Any, item: Any) -> dict[str, Any]:
    q: dict[str, Any] = {"linkId": item.id, "text": item.prompt, "type": QUESTION_TYPE.get(item.type, "string"),
                         "required": bool(item.required), "repeats": item.type == "multi-choice"}
    if item.show_if is not None:
        found = enable_when(checklist, item.show_if)
        if found:
            q["enableWhen"], behavior = found
            if behavior:
                q["enableBehavior"] = behavior
        else:
            q["extension"] = [{"url": EXT_SHOW_IF, "valueString": json.dumps(
                msgspec.to_builtins(item.show_if), sort_keys=True, separators=(",", ":"))}]
    if q["type"] == "choice":
        q["answerOption"] = [{"valueCoding": {"system": answer_system(checklist.id, item.id), "code": c,
                                              "display": d}} for c, d in options(item)]
    q["item"] = _children(item.id)
    return q


def section_of(checklist: Any, item_id: str) -> str | None:
    item = next((i for i in checklist.items if i.id == item_id), None)
    return item.section if item is not None and checklist.sections else None


def nest(checklist: Any, entries: list[tuple[str, dict[str, Any]]], group: Any) -> list[dict[str, Any]]:
    """Items ``[(item id, entry)]`` (in checklist order) nested under their section groups."""
    if not checklist.sections:
        return [e for _, e in entries]
    out = []
    for sec in checklist.sections:
        inner = [e for iid, e in entries if section_of(checklist, iid) == sec.id]
        if inner:
            out.append(group(sec, inner))
    out += [e for iid, e in entries if section_of(checklist, iid) is None]
    return out


def questionnaire(checklist: Any) -> dict[str, Any]:
    subject = {"child": ["Patient"], "carer": ["RelatedPerson", "Patient"],
               "visit": ["Encounter"]}[checklist.applies_to.subject]
    entries = [(i.id, _question(checklist, i)) for i in checklist.items]
    items = nest(checklist, entries, lambda sec, inner: {
        "linkId": SECTION_PREFIX + sec.id, "text": sec.title, "type": "group", "item": inner})
    return prune({
        "resourceType": "Questionnaire",
        "id": questionnaire_id(checklist),
        "url": QUESTIONNAIRE_URL + checklist.id,
        "version": str(checklist.version),
        "name": _pascal(checklist.id),
        "title": checklist.title,
        "status": "active",
        "subjectType": subject,
        "description": checklist.description.strip() if checklist.description else None,
        "item": items,
    })


def questionnaire_bundle(resources: list[dict[str, Any]], base_url: str) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": now_iso(),
        "total": len(resources),
        "link": [{"relation": "self", "url": f"{base_url}/Questionnaire"}],
        "entry": [{"fullUrl": f"{base_url}/Questionnaire/{r['id']}", "resource": r, "search": {"mode": "match"}}
                  for r in resources],
    }


# -- is a response complete? ----------------------------------------------------------------


def _holds(cond: Any, answers: dict[str, dict[str, Any]], checklist_id: str) -> bool | None:
    """Whether a show_if holds on these answers; None where it cannot be told from them."""
    def value(item: str | None) -> Any:
        return (answers.get(item or "") or {}).get("answer")

    def has(v: Any, wanted: Iterable[str]) -> bool:
        got = v if isinstance(v, list) else [v]
        return any(str(g) in set(wanted) for g in got if g is not None)

    if getattr(cond, "checklist", None) not in (None, checklist_id):
        return None
    if isinstance(cond, s.Equals):
        return has(value(cond.item), [cond.value])
    if isinstance(cond, s.In):
        return has(value(cond.item), cond.values)
    if isinstance(cond, s.Answered):
        return value(cond.item) not in (None, "", [])
    if isinstance(cond, s.EvidenceIs):
        return (answers.get(cond.item or "") or {}).get("seen_or_told") == cond.value
    if isinstance(cond, s.Not):
        inner = _holds(cond.of, answers, checklist_id)
        return None if inner is None else not inner
    if isinstance(cond, (s.AnyOf, s.All)):
        parts = [_holds(c, answers, checklist_id) for c in cond.of]
        if isinstance(cond, s.AnyOf):
            return True if True in parts else (None if None in parts else False)
        return False if False in parts else (None if None in parts else True)
    return None


def response_status(checklist: Any, responses: list[dict[str, Any]], subject: dict[str, Any] | None,
                    on: str | None) -> str:
    """``completed`` when every required item asked of this subject is answered, else ``in-progress``.

    An item is asked when it is about this kind of subject (the checklist's, or the item's
    own), fits the subject's age band and role as on the visit's date, and its show_if
    holds (one that cannot be told from the answers is not counted against the response).
    """
    if checklist is None:
        return "completed"
    answers = {r["item_id"]: r for r in responses}
    by_id = {i.id: i for i in checklist.items}
    kinds = {by_id[i].subject or checklist.applies_to.subject for i in answers if i in by_id}
    band = None
    if subject is not None and on:
        band = _age_band(subject, date.fromisoformat(on[:10]))
    for item in checklist.items:
        if not item.required or (item.subject or checklist.applies_to.subject) not in kinds:
            continue
        if item.age_bands is not None and band not in item.age_bands:
            continue
        if item.carer_roles is not None and (subject or {}).get("role") not in item.carer_roles:
            continue
        if item.show_if is not None and _holds(item.show_if, answers, checklist.id) is not True:
            continue
        if (answers.get(item.id) or {}).get("answer") in (None, "", []):
            return "in-progress"
    return "completed"
