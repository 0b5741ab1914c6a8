"""How FHIR output is validated in these tests.

1. Structure: every resource is parsed in strict mode by ``fhirclient`` 4.4 (SMART on FHIR),
   whose model classes are generated from the FHIR R4 4.0.1 StructureDefinitions: unknown
   elements, wrong data types, a list where one value belongs (or the reverse), and missing
   mandatory elements (1..1, e.g. ``Encounter.class``, ``Flag.code``, ``Task.intent``,
   ``RelatedPerson.patient``) all raise ``FHIRValidationError``; primitive formats
   (dateTime, date, instant) are checked by its parsers.
2. Required value-set bindings the library does not check (status codes and the like) and
   the id pattern and ``bdl-7`` (unique fullUrl) invariants are checked below against the
   R4 value sets.
"""

from __future__ import annotations

import re
from typing import Any

from fhirclient.models.fhirelementfactory import FHIRElementFactory

ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
REQUIRED_CODES: dict[tuple[str, str], set[str]] = {
    ("Bundle", "type"): {"document", "message", "transaction", "transaction-response", "batch", "batch-response",
                         "history", "searchset", "collection"},
    ("Encounter", "status"): {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
                              "entered-in-error", "unknown"},
    ("QuestionnaireResponse", "status"): {"in-progress", "completed", "amended", "entered-in-error", "stopped"},
    ("Observation", "status"): {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                                "entered-in-error", "unknown"},
    ("Flag", "status"): {"active", "inactive", "entered-in-error"},
    ("Task", "status"): {"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
                         "in-progress", "on-hold", "failed", "completed", "entered-in-error"},
    ("Task", "intent"): {"unknown", "proposal", "plan", "order", "original-order", "reflex-order", "filler-order",
                         "instance-order", "option"},
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
    ("RelatedPerson", "gender"): {"male", "female", "other", "unknown"},
    ("Questionnaire", "status"): {"draft", "active", "retired", "unknown"},
    ("CareTeam", "status"): {"proposed", "active", "suspended", "inactive", "entered-in-error"},
    ("Group", "type"): {"person", "animal", "practitioner", "device", "medication", "substance"},
}
ITEM_TYPES = {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time", "string", "text",
              "url", "choice", "open-choice", "attachment", "reference", "quantity"}


def _walk_empty(value: Any, path: str, problems: list[str]) -> None:
    if value in ("", [], {}, None):
        problems.append(f"{path}: empty")
    elif isinstance(value, dict):
        for k, v in value.items():
            _walk_empty(v, f"{path}.{k}", problems)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _walk_empty(v, f"{path}[{i}]", problems)


def _q_items(items, problems, path):
    for it in items or []:
        if it.get("type") not in ITEM_TYPES:
            problems.append(f"{path}.item {it.get('linkId')}: type {it.get('type')}")
        _q_items(it.get("item"), problems, path)


def resource_problems(res: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    kind = res.get("resourceType", "?")
    try:
        FHIRElementFactory.instantiate(kind, res)  # strict=True by default
    except Exception as exc:  # FHIRValidationError, or an unknown resourceType
        problems.append(f"{kind}/{res.get('id')}: {exc}")
    if "id" in res and not ID_RE.match(res["id"]):
        problems.append(f"{kind}: bad id {res['id']}")
    for (rtype, fld), codes in REQUIRED_CODES.items():
        if rtype == kind and fld in res and res[fld] not in codes:
            problems.append(f"{kind}.{fld}: {res[fld]!r} is not in the required value set")
    for ident in res.get("identifier", []) if isinstance(res.get("identifier"), list) else []:
        if ident.get("use") not in (None, "usual", "official", "temp", "secondary", "old"):
            problems.append(f"{kind}.identifier.use {ident.get('use')}")
    if kind == "Questionnaire":
        _q_items(res.get("item"), problems, kind)
    _walk_empty(res, kind, problems)
    return problems


def bundle_problems(bundle: dict[str, Any]) -> list[str]:
    problems = resource_problems(bundle)
    urls = [e.get("fullUrl") for e in bundle.get("entry", [])]
    if len(urls) != len(set(urls)):
        problems.append("bdl-7: fullUrl repeated")
    for e in bundle.get("entry", []):
        problems += resource_problems(e["resource"])
    return problems


def questionnaire_link_ids(q: dict[str, Any]) -> set[str]:
    out: set[str] = set()

    def walk(items):
        for it in items or []:
            out.add(it["linkId"])
            walk(it.get("item"))
    walk(q.get("item"))
    return out


def response_link_ids(qr: dict[str, Any]) -> list[str]:
    out: list[str] = []

    def walk(items):
        for it in items or []:
            out.append(it["linkId"])
            walk(it.get("item"))
            for a in it.get("answer", []):
                walk(a.get("item"))
    walk(qr.get("item"))
    return out
