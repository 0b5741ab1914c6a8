"""FHIR R4 ``CodeSystem``s for every local ``urn:hearthside:*`` code system the feed codes with.

Published so a core system can see every code it may receive and map it (to SNOMED CT or
its own codes) on its side. No SNOMED CT or LOINC code is asserted here: Hearthside's codes
are its own, and the mapping is the agency's to make. Each list comes from the one place
the fact is declared (``sync/model.py``, the checklist content).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Iterable

from sync import model

from .fhir_questionnaire import QUESTIONNAIRE_URL, SEEN_TOLD, SEEN_TOLD_SYSTEM, answer_system, options

NS = "urn:hearthside:fhir"


def _id(system: str) -> str:
    text = re.sub(r"[^A-Za-z0-9]+", "-", system.removeprefix("urn:hearthside:")).strip("-")
    if len(text) > 64:
        text = text[:47] + "-" + hashlib.sha256(system.encode()).hexdigest()[:16]
    return text


def _cs(system: str, title: str, concepts: Iterable[tuple[str, str]], *, content: str = "complete",
        description: str = "", version: str | None = None) -> dict[str, Any]:
    concepts = [{"code": c, "display": d} for c, d in concepts]
    out: dict[str, Any] = {
        "resourceType": "CodeSystem", "id": _id(system), "url": system, "version": version,
        "name": re.sub(r"[^A-Za-z0-9]", "", title.title())[:100] or "HearthsideCodes", "title": title,
        "status": "active", "experimental": False, "publisher": "Hearthside",
        "description": description or None, "caseSensitive": True, "content": content,
        "count": len(concepts) if content == "complete" else None, "concept": concepts or None,
    }
    return {k: v for k, v in out.items() if v is not None}


def _choices(choices: Iterable[Any]) -> list[tuple[str, str]]:
    return [(c.value, c.label) for c in choices]


def _rules(content: Any) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for c in (content.checklists if content is not None else []):
        for r in [*c.rules, *(r for i in c.items for r in i.rules)]:
            seen.setdefault(r.id, (r.description or r.id).strip()[:250])
    return sorted(seen.items())


def code_systems(content: Any) -> list[dict[str, Any]]:
    out = [
        _cs(f"{NS}:person-role", "Hearthside person role", _choices(model.PERSON_ROLES)),
        _cs(f"{NS}:observation-kind", "Hearthside observation kind",
            [*_choices(model.OBSERVATION_KINDS), ("addendum", "Addendum to a signed visit")]),
        _cs(SEEN_TOLD_SYSTEM, "Hearthside seen or told", SEEN_TOLD),
        _cs(f"{NS}:flag-severity", "Hearthside flag severity", _choices(model.SEVERITIES)),
        _cs(f"{NS}:visit-type", "Hearthside visit type", _choices(model.VISIT_TYPES)),
        _cs(f"{NS}:care-team", "Hearthside care team category", [("caseload", "Practitioner allocated to the family")]),
        _cs(f"{NS}:task", "Hearthside task code", [("resolve-conflict", "Resolve conflicting values")]),
        _cs(f"{NS}:rule", "Hearthside checklist rule", _rules(content), content="fragment",
            description="The rules of the checklists that raise flags and follow-ups; the server's own rules "
                        "(such as repeated no-access) may also appear."),
        _cs(f"{NS}:relationship", "Hearthside relationship", [], content="not-present",
            description="An adult's relationship to a child as the practitioner or agency wrote it (spaces "
                        "replaced by hyphens); the text is in the coding's CodeableConcept."),
    ]
    for c in (content.checklists if content is not None else []):
        for item in c.items:
            if item.type in ("yes-no", "single-choice", "multi-choice", "grade", "seen-told"):
                out.append(_cs(answer_system(c.id, item.id), f"{c.title}: {item.id}"[:200], options(item),
                               version=str(c.version),
                               description=f"Answers to '{item.prompt.strip()}' ({QUESTIONNAIRE_URL}{c.id})"))
    return out
