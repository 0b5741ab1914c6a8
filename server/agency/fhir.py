"""FHIR R4 (4.0.1, the version UK Core profiles) for the feed and the checklists.

Mapping (see docs/integration.md):
- signed visit -> ``Encounter`` (subject: the household as a ``Group``), one
  ``QuestionnaireResponse`` per checklist per subject, one ``Observation`` per observation
  (the child's own words verbatim in ``valueString``); children and unborn babies ->
  ``Patient``; mothers, fathers, male carers, partners and other adults -> ``RelatedPerson``
  (an adult with no child to relate to, an expectant mother, -> ``Patient``); every member of
  staff a record names -> ``Practitioner``, in the same bundle
- flag -> ``Flag`` (severity in the core ``flag-priority`` extension, the supervisor's
  decision in ours); follow-up -> ``Task``; addendum -> ``Observation`` on the encounter;
  conflict on family details -> ``Task`` asking a person to resolve it
- checklists -> ``Questionnaire`` (``url|version``), whose items the responses' ``linkId``s
  name; the practitioner's note and seen/told are child items of each question.

Every resource made for a feed item carries ``meta.tag`` ``FEED_ITEM_SYSTEM`` with code
``<item type>/<id>/<version>``: a file-importing core system acknowledges by those. Its
``meta.versionId`` is a digest of its content (``version_of``), set when it is finished.
Every item carries the household as it now stands (feed.py), so a resource is built the
same whichever item it comes with, and a read (fhir_read.py) rebuilds the same one.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Iterable

from sync import model

from ..clock import now_iso
from ..ids import stable_id
from .fhir_questionnaire import (EVIDENCE_SUFFIX, NOTE_SUFFIX, QUESTION_TYPE, QUESTIONNAIRE_URL, SECTION_PREFIX,
                                 SEEN_TOLD, SEEN_TOLD_SYSTEM, answer_system, nest, options, response_status)
from .fhir_questionnaire import prune as _prune

NS = "urn:hearthside:fhir"
FEED_ITEM_SYSTEM = f"{NS}:feed-item"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
EXT_NEXT_CURSOR = f"{NS}:StructureDefinition:feed-next-cursor"
EXT_HAS_MORE = f"{NS}:StructureDefinition:feed-has-more"
EXT_FLAG_DECISION = f"{NS}:StructureDefinition:flag-decision"
EXT_EXPECTED_DATE = f"{NS}:StructureDefinition:expected-date"
FLAG_PRIORITY = "http://hl7.org/fhir/StructureDefinition/flag-priority"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
ADULT_ROLES = {"mother", "father", "male-carer", "partner", "other-adult"}
CHILD_ROLES = {"child", "unborn"}
_ROLE_V3 = {"mother": ("MTH", "mother"), "father": ("FTH", "father"), "partner": ("SIGOTHR", "significant other")}
_ROLE_TEXT = {c.value: c.label for c in model.PERSON_ROLES}
OBSERVATION_KINDS = {c.value: c.label for c in model.OBSERVATION_KINDS}
_TASK_STATUS = {"open": "requested", "done": "completed", "cancelled": "cancelled"}
def _ref(kind: str, rid: str | None, display: str | None = None) -> dict[str, Any] | None:
    if not rid:
        return None
    ref: dict[str, Any] = {"reference": f"{kind}/{rid}"}
    if display:
        ref["display"] = display
    return ref


def _identifiers(own_system: str, rid: str, ext: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [{"system": e["system"], "value": e["value"], "use": "usual"} for e in ext]
    ids.append({"system": own_system, "value": rid, "use": "secondary"})
    return ids


def _meta(version: int | None, updated: str | None, tags: Iterable[str] = ()) -> dict[str, Any]:
    return {"versionId": str(version) if version is not None else None, "lastUpdated": updated,
            "tag": [{"system": FEED_ITEM_SYSTEM, "code": t} for t in tags]}


def version_of(resource: dict[str, Any]) -> str:
    """A resource's ``versionId``: a digest of everything in it but ``meta``, so it changes
    exactly when the content does, whichever records (person, family, relationships,
    staff, ...) that content was built from."""
    body = {k: v for k, v in resource.items() if k != "meta"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def finish(resource: dict[str, Any]) -> dict[str, Any]:
    resource.setdefault("meta", {})["versionId"] = version_of(resource)
    return resource


# -- feed items ----------------------------------------------------------------------------


class _Builder:
    def __init__(self, content: Any, own_system: str) -> None:
        self.content = content
        self.own = own_system
        self.resources: dict[tuple[str, str], dict[str, Any]] = {}
        self.order: list[tuple[str, str]] = []
        self.staff: dict[str, dict[str, Any]] = {}

    def add(self, resource: dict[str, Any], tag: str | None = None) -> None:
        resource = _prune(resource)
        key = (resource["resourceType"], resource["id"])
        if key in self.resources:
            existing = self.resources[key]
            if tag:
                tags = existing.setdefault("meta", {}).setdefault("tag", [])
                if not any(t["code"] == tag for t in tags):
                    tags.append({"system": FEED_ITEM_SYSTEM, "code": tag})
            return
        if tag:
            resource.setdefault("meta", {}).setdefault("tag", []).append({"system": FEED_ITEM_SYSTEM, "code": tag})
        self.resources[key] = resource
        self.order.append(key)

    # people ----------------------------------------------------------------------------
    def people(self, family: dict[str, Any], people: list[dict[str, Any]], rels: list[dict[str, Any]],
               tag_for: dict[str, str] | None = None, only: set[str] | None = None) -> dict[str, dict[str, Any]]:
        by_id = {p["id"]: p for p in people}
        children = [p for p in people if p["role"] in CHILD_ROLES and not p.get("deleted")]
        for p in people:
            if only is not None and p["id"] not in only:
                continue
            tag = (tag_for or {}).get(p["id"])
            related = None if p["role"] in CHILD_ROLES else self.related_person(p, family, rels, children)
            # An adult with no child to relate to (an antenatal mother) is a patient herself.
            self.add(related or self.patient(p, family), tag)
        self.add(self.group(family, children))
        return by_id

    def _common_person(self, p: dict[str, Any], family: dict[str, Any]) -> dict[str, Any]:
        ids = _identifiers(f"{self.own}:person", p["id"], p.get("external_ids", []))
        if p.get("nhs_number"):
            ids.insert(0, {"system": NHS_NUMBER_SYSTEM, "value": p["nhs_number"], "use": "official"})
        out = {
            "id": p["id"],
            "meta": _meta(p.get("version"), None),
            "identifier": ids,
            "active": not p.get("deleted", False),
            "name": [{"use": "usual", "family": p.get("family_name"),
                      "given": [p["given_name"]] if p.get("given_name") else None}],
            "gender": {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}.get(
                p.get("sex") or "", None),
            "birthDate": p.get("date_of_birth"),
        }
        if p.get("lives_in_household", True) and (family.get("address") or family.get("postcode")):
            out["address"] = [{"use": "home", "text": family.get("address"), "postalCode": family.get("postcode")}]
        return out

    def patient(self, p: dict[str, Any], family: dict[str, Any]) -> dict[str, Any]:
        out = {"resourceType": "Patient", **self._common_person(p, family)}
        if p.get("expected_date"):
            out["extension"] = [{"url": EXT_EXPECTED_DATE, "valueDate": p["expected_date"]}]
        return out

    def related_person(self, p: dict[str, Any], family: dict[str, Any], rels: list[dict[str, Any]],
                       children: list[dict[str, Any]]) -> dict[str, Any] | None:
        mine = [r for r in rels if r["adult_id"] == p["id"] and not r.get("deleted")]
        child_id = next((r["child_id"] for r in mine), None)
        child_id = child_id or (children[0]["id"] if children else None)
        if child_id is None:
            return None  # RelatedPerson needs a patient
        codings = []
        if p["role"] in _ROLE_V3:
            code, display = _ROLE_V3[p["role"]]
            codings.append({"system": ROLE_CODE, "code": code, "display": display})
        codings.append({"system": f"{NS}:person-role", "code": p["role"], "display": _ROLE_TEXT.get(p["role"])})
        relationship = [{"coding": codings, "text": _ROLE_TEXT.get(p["role"], p["role"])}]
        for r in mine:
            relationship.append({"coding": [{"system": f"{NS}:relationship", "code": _code(r["relationship"])}],
                                 "text": f"{r['relationship']} of {r['child_id']}"
                                 + (" (parental responsibility)" if r.get("parental_responsibility") else "")})
        return {"resourceType": "RelatedPerson", **self._common_person(p, family),
                "patient": _ref("Patient", child_id), "relationship": relationship}

    def group(self, family: dict[str, Any], children: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "resourceType": "Group", "id": family["id"], "meta": _meta(family.get("version"), None),
            "identifier": _identifiers(f"{self.own}:family", family["id"], family.get("external_ids", [])),
            "active": family.get("status", "active") != "closed" and not family.get("deleted", False),
            "type": "person", "actual": True, "name": family.get("family_name"),
            "quantity": len(children),
            "member": [{"entity": _ref("Patient", c["id"])} for c in children],
        }

    def practitioner(self, user_id: str | None) -> dict[str, Any] | None:
        """A reference to the Practitioner, emitted in the same bundle; a user the server no
        longer knows is named by identifier only (a logical reference, nothing to follow)."""
        if not user_id:
            return None
        staff = self.staff.get(user_id)
        if not staff:
            return {"identifier": {"system": f"{NS}:user-id", "value": user_id}}
        self.add(practitioner_resource(staff))
        return _ref("Practitioner", user_id)

    def subject_ref(self, person_id: str | None, by_id: dict[str, dict[str, Any]], family_id: str,
                    allow_related: bool = True) -> dict[str, Any]:
        p = by_id.get(person_id or "")
        if p and (p["role"] in CHILD_ROLES or ("Patient", p["id"]) in self.resources):
            return _ref("Patient", p["id"])  # type: ignore[return-value]
        if p and allow_related and (("RelatedPerson", p["id"]) in self.resources):
            return _ref("RelatedPerson", p["id"])  # type: ignore[return-value]
        return _ref("Group", family_id)  # type: ignore[return-value]

    # items -----------------------------------------------------------------------------
    def item(self, item: dict[str, Any]) -> None:
        tag = f"{item['type']}/{item['id']}/{item['version']}"
        data = item["data"]
        kind = item["type"]
        self.staff.update(data.get("staff") or {})
        if kind == "family":
            family = {**data, "external_ids": item.get("external_ids", []), "deleted": item["deleted"]}
            by_id = self.people(family, data.get("people", []), data.get("relationships", []))
            children = [p for p in by_id.values() if p["role"] in CHILD_ROLES]
            self.add(self.group(family, children), tag)
            return
        family = data.get("family") or {"id": item["family_id"]}
        if kind == "person":
            person = {**data, "external_ids": item.get("external_ids", []), "deleted": item["deleted"]}
            people = [p for p in data.get("people", []) if p["id"] != person["id"]] + [person]
            self.people(family, people, data.get("relationships", []), {person["id"]: tag}, only={person["id"]})
            return
        by_id = self.people(family, data.get("people", []), data.get("relationships", []))
        if kind == "relationship":
            # filed as the adult's RelatedPerson, which lists the relationship
            for key in (("RelatedPerson", data["adult_id"]), ("Group", family["id"])):
                if key in self.resources:
                    self.add(self.resources[key], tag)
                    break
            return
        if kind == "allocation":
            self.care_team(item, data, family, tag)
            return
        if kind == "visit":
            self.visit(item, data, family, by_id, tag)
        elif kind == "observation":
            self.observation(data, family, by_id, tag, item["deleted"])
        elif kind == "addendum":
            self.addendum(item, data, family, tag)
        elif kind == "flag":
            self.flag(item, data, family, by_id, tag)
        elif kind == "follow_up":
            self.task(item, data, family, by_id, tag)
        elif kind == "conflict":
            self.conflict(item, data, family, by_id, tag)

    def visit(self, item, data, family, by_id, tag) -> None:
        author = self.practitioner(data.get("practitioner_id"))
        participants = [{"individual": author}] if author else []
        for pid in data.get("present") or []:
            pid = pid.get("id") if isinstance(pid, dict) else pid
            if ("RelatedPerson", pid) in self.resources:
                participants.append({"individual": _ref("RelatedPerson", pid)})
        self.add({
            "resourceType": "Encounter", "id": item["id"], "meta": _meta(item["version"], item["changed_at"]),
            "identifier": _identifiers(f"{self.own}:visit", item["id"], item.get("external_ids", [])),
            "status": "entered-in-error" if item["deleted"] else "finished",
            "class": {"system": ACT_CODE, "code": "HH", "display": "home health"},
            "type": [{"coding": [{"system": f"{NS}:visit-type", "code": _code(data.get("type") or "visit")}],
                      "text": ("No access: " if data.get("no_access") else "") + (data.get("type") or "visit")}],
            "subject": _ref("Group", family["id"]),
            "participant": participants,
            "period": {"start": _dt(data.get("started_at") or data.get("planned_for")),
                       "end": _dt(data.get("completed_at"))},
        }, tag)
        for qr in self.questionnaire_responses(item, data, by_id, author):
            self.add(qr, tag)
        for o in data.get("observations", []):
            self.observation(o, family, by_id, tag, False)

    def questionnaire_responses(self, item, data, by_id, author) -> list[dict[str, Any]]:
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for r in data.get("checklist_responses", []):
            groups.setdefault((r["checklist_id"], str(r["checklist_version"]), r["subject_id"]), []).append(r)
        out = []
        for (cid, version, subject_id), responses in sorted(groups.items()):
            checklist = self.content.checklist(cid) if self.content is not None else None
            if checklist is not None and str(checklist.version) != version:
                checklist = None  # answered under another version: its items, order and sections are not these
            order = [i.id for i in checklist.items] if checklist else []
            items_by_id = {i.id: i for i in checklist.items} if checklist else {}
            responses.sort(key=lambda r: (order.index(r["item_id"]) if r["item_id"] in order else len(order),
                                          r["item_id"]))
            entries = []
            for r in responses:
                entry = self.qr_item(cid, items_by_id.get(r["item_id"]), r)
                if entry:
                    entries.append((r["item_id"], entry))
            qr_items = nest(checklist, entries, lambda sec, inner: {
                "linkId": SECTION_PREFIX + sec.id, "text": sec.title, "item": inner}) if checklist else [
                e for _, e in entries]
            subject = None
            if subject_id in by_id:
                subject = self.subject_ref(subject_id, by_id, data["family_id"])
            out.append({
                "resourceType": "QuestionnaireResponse",
                "id": response_id(item["id"], cid, version, subject_id),
                "meta": _meta(item["version"], item["changed_at"]),
                "identifier": {"system": f"{self.own}:checklist-response",
                               "value": f"{item['id']}/{cid}/{version}/{subject_id}"},
                "questionnaire": f"{QUESTIONNAIRE_URL}{cid}|{version}",
                "status": response_status(checklist, responses, by_id.get(subject_id),
                                          data.get("completed_at") or data.get("started_at")),
                "subject": subject,
                "encounter": _ref("Encounter", item["id"]),
                "authored": _dt(data.get("completed_at")) or item["changed_at"],
                "author": author,
                "item": qr_items,
            })
        return out

    def qr_item(self, cid: str, spec: Any, r: dict[str, Any]) -> dict[str, Any] | None:
        value = r.get("answer")
        answers: list[dict[str, Any]] = []
        values = value if isinstance(value, list) else ([] if value in (None, "") else [value])
        qtype = QUESTION_TYPE.get(spec.type, "string") if spec else ("text" if isinstance(value, str) else "string")
        labels = dict(options(spec)) if spec and qtype == "choice" else {}
        for v in values:
            if qtype == "choice":
                answers.append({"valueCoding": {"system": answer_system(cid, r["item_id"]), "code": str(v),
                                                "display": labels.get(str(v))}})
            else:
                answers.append({"valueString": v if isinstance(v, str) else json.dumps(v)})
        nested = []
        if r.get("seen_or_told") in ("seen", "told"):
            nested.append({"linkId": r["item_id"] + EVIDENCE_SUFFIX, "answer": [{"valueCoding": {
                "system": SEEN_TOLD_SYSTEM, "code": r["seen_or_told"], "display": dict(SEEN_TOLD)[r["seen_or_told"]]}}]})
        if r.get("note"):
            nested.append({"linkId": r["item_id"] + NOTE_SUFFIX, "answer": [{"valueString": r["note"]}]})
        if not answers and not nested:
            return None
        if nested:
            if not answers:
                answers = [{}]
            answers[0]["item"] = nested
        return {"linkId": r["item_id"], "text": spec.prompt if spec else None, "answer": answers}

    def observation(self, o, family, by_id, tag, deleted) -> None:
        about = by_id.get(o.get("about_person_id") or "")
        subject = self.subject_ref(o.get("about_person_id"), by_id, family["id"], allow_related=False)
        focus = []
        if about and about["role"] not in CHILD_ROLES and ("RelatedPerson", about["id"]) in self.resources:
            focus.append(_ref("RelatedPerson", about["id"]))
        label = OBSERVATION_KINDS.get(o["kind"], o["kind"])
        coding = {"system": f"{NS}:observation-kind", "code": o["kind"], "display": label}
        status = "entered-in-error" if deleted or o.get("deleted") else ("amended" if o.get("supersedes_id") else "final")
        self.add({
            "resourceType": "Observation", "id": o["id"], "meta": _meta(o.get("version"), None),
            "identifier": _identifiers(f"{self.own}:observation", o["id"], o.get("external_ids", [])),
            "status": status,
            "category": [{"coding": [coding], "text": label}],
            "code": {"coding": [coding], "text": label},
            "subject": subject,
            "focus": focus,
            "encounter": _ref("Encounter", o.get("visit_id")),
            "effectiveDateTime": _dt(o.get("recorded_at")),
            "performer": [self.practitioner(o.get("recorded_by"))],
            "derivedFrom": [_ref("Observation", o.get("supersedes_id"))],
            "valueString": o["text"],
        }, tag)

    def addendum(self, item, data, family, tag) -> None:
        coding = {"system": f"{NS}:observation-kind", "code": "addendum", "display": "Addendum to a signed visit"}
        self.add({
            "resourceType": "Observation", "id": item["id"], "meta": _meta(item["version"], item["changed_at"]),
            "identifier": _identifiers(f"{self.own}:addendum", item["id"], item.get("external_ids", [])),
            "status": "entered-in-error" if item["deleted"] else "final",
            "category": [{"coding": [coding]}], "code": {"coding": [coding], "text": coding["display"]},
            "subject": _ref("Group", family["id"]), "encounter": _ref("Encounter", data.get("visit_id")),
            "effectiveDateTime": _dt(data.get("recorded_at")),
            "performer": [self.practitioner(data.get("recorded_by"))],
            "valueString": data["text"],
        }, tag)

    def flag(self, item, data, family, by_id, tag) -> None:
        subject = self.subject_ref(data.get("subject_id"), by_id, family["id"], allow_related=False)
        decision = [{"url": "status", "valueCode": data.get("status")},
                    {"url": "decision", "valueString": data.get("decision")},
                    {"url": "rationale", "valueString": data.get("rationale")},
                    {"url": "decidedBy", "valueReference": self.practitioner(data.get("decided_by"))},
                    {"url": "decidedAt", "valueDateTime": _dt(data.get("decided_at"))},
                    {"url": "acknowledgedBy", "valueReference": self.practitioner(data.get("acknowledged_by"))},
                    {"url": "acknowledgedAt", "valueDateTime": _dt(data.get("acknowledged_at"))}]
        decision = [d for d in decision if len(_prune(d)) == 2]
        self.add({
            "resourceType": "Flag", "id": item["id"], "meta": _meta(item["version"], item["changed_at"]),
            "identifier": _identifiers(f"{self.own}:flag", item["id"], item.get("external_ids", [])),
            "extension": [
                {"url": FLAG_PRIORITY, "valueCodeableConcept": {
                    "coding": [{"system": f"{NS}:flag-severity", "code": data["severity"]}], "text": data["severity"]}},
                {"url": EXT_FLAG_DECISION, "extension": decision},
            ],
            "status": "entered-in-error" if item["deleted"] else (
                "inactive" if data.get("status") == "closed" else "active"),
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/flag-category",
                                      "code": "safety", "display": "Safety"}]}],
            "code": {"coding": [{"system": f"{NS}:rule", "code": data["rule_id"]}] if data.get("rule_id") else None,
                     "text": data["reason"]},
            "subject": subject,
            "period": {"start": _dt(data.get("raised_at") or data.get("created_at")),
                       "end": _dt(data.get("decided_at")) if data.get("status") == "closed" else None},
            "encounter": _ref("Encounter", data.get("visit_id")),
            "author": self.practitioner(data.get("raised_by")),
        }, tag)

    def task(self, item, data, family, by_id, tag) -> None:
        self.add({
            "resourceType": "Task", "id": item["id"], "meta": _meta(item["version"], item["changed_at"]),
            "identifier": _identifiers(f"{self.own}:follow-up", item["id"], item.get("external_ids", [])),
            "status": "entered-in-error" if item["deleted"] else _TASK_STATUS.get(data.get("status"), "requested"),
            "intent": "order",
            "code": {"coding": [{"system": f"{NS}:rule", "code": data["rule_id"]}], "text": "Follow-up from a rule"}
            if data.get("rule_id") else {"text": "Follow-up"},
            "description": data.get("text"),
            "for": self.subject_ref(data.get("subject_id"), by_id, family["id"]),
            "encounter": _ref("Encounter", data.get("visit_id")),
            "authoredOn": _dt(data.get("created_at")),
            "lastModified": item["changed_at"],
            "owner": self.practitioner(data.get("assignee_id")),
            "restriction": {"period": {"end": _dt(data.get("due_at"))}},
            "executionPeriod": {"end": _dt(data.get("completed_at"))},
            "note": [{"text": data["note"]}] if data.get("note") else None,
        }, tag)

    def care_team(self, item, data, family, tag) -> None:
        member = self.practitioner(data["practitioner_id"])
        active = bool(data.get("active")) and not item["deleted"]
        self.add({
            "resourceType": "CareTeam", "id": item["id"], "meta": _meta(item["version"], item["changed_at"]),
            "identifier": _identifiers(f"{self.own}:allocation", item["id"], item.get("external_ids", [])),
            "status": "active" if active else ("entered-in-error" if item["deleted"] else "inactive"),
            "category": [{"coding": [{"system": f"{NS}:care-team", "code": "caseload"}],
                          "text": "Practitioner allocated to the family"}],
            "subject": _ref("Group", family["id"]),
            "participant": [{"member": member}],
        }, tag)

    def conflict(self, item, data, family, by_id, tag) -> None:
        focus = {"family": _ref("Group", data["entity_id"])}.get(data["entity"]) or (
            self.subject_ref(data["entity_id"], by_id, family["id"]) if data["entity"] == "person"
            else _ref("Group", family["id"]))
        inputs = []
        for c in data.get("candidates") or []:
            inputs.append({"type": {"text": "candidate value"},
                           "valueString": json.dumps(c, sort_keys=True, separators=(",", ":"))})
        self.add({
            "resourceType": "Task", "id": item["id"], "meta": _meta(item["version"], item["changed_at"]),
            "status": "entered-in-error" if item["deleted"] else (
                "completed" if data.get("status") == "resolved" else "requested"),
            "intent": "proposal",
            "code": {"coding": [{"system": f"{NS}:task", "code": "resolve-conflict"}],
                     "text": "Resolve conflicting values"},
            "description": f"Conflicting values for {data['entity']}.{data['field']}",
            "focus": focus, "for": _ref("Group", family["id"]),
            "lastModified": item["changed_at"],
            "input": inputs,
        }, tag)


def response_id(visit_id: str, checklist_id: str, version: str, subject_id: str) -> str:
    """One response per visit, checklist version and subject; the version is readable in it."""
    return f"{stable_id('qr', visit_id, checklist_id, subject_id)}-v{re.sub(r'[^A-Za-z0-9]', '', version)[:20]}"


def _code(text: str) -> str:
    return re.sub(r"\s+", "-", text.strip())


def _dt(value: str | None) -> str | None:
    """Our timestamps are ISO 8601 in UTC; dates pass through."""
    if not value:
        return None
    return value


def feed_bundle(items: list[dict[str, Any]], content: Any, own_system: str, *, base_url: str,
                next_cursor: int, has_more: bool, self_url: str, next_url: str | None) -> dict[str, Any]:
    b = _Builder(content, own_system)
    for item in items:
        b.item(item)
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return {
        "resourceType": "Bundle",
        "meta": {"lastUpdated": now_iso(), "extension": [{"url": EXT_NEXT_CURSOR, "valueInteger": next_cursor},
                                                         {"url": EXT_HAS_MORE, "valueBoolean": has_more}]},
        "type": "collection",
        "timestamp": now_iso(),
        "link": links,
        "entry": [{"fullUrl": f"{base_url}/{t}/{i}", "resource": finish(b.resources[(t, i)])} for t, i in b.order],
    }


def practitioner_resource(staff: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Practitioner", "id": staff["id"],
            "identifier": [{"system": f"{NS}:user", "value": staff.get("username") or staff["id"]}],
            "name": [{"text": staff.get("display_name")}] if staff.get("display_name") else None}


def build_resources(items: list[dict[str, Any]], content: Any, own_system: str) -> list[dict[str, Any]]:
    """Every resource the items make, finished (``versionId`` set), in bundle order."""
    b = _Builder(content, own_system)
    for item in items:
        b.item(item)
    return [finish(b.resources[key]) for key in b.order]
