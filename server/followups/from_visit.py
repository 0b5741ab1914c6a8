"""Rules on the server: when a visit is completed (signed), run the content's rule engine
and record the follow-ups and flags it yields.

Idempotent: each follow-up's and flag's id derives from the visit, the rule and the
subject, so running a visit twice (sync retry, the scheduler's sweep after the sync hook)
creates nothing new. Call it inside the transaction that completed the visit, so the
outcome commits with it:

    apply_visit_outcome(db, keyring, content, visit_id)

What the rules yield is written as the server's own ops (the ``system`` writer) through
the one write path, ``sync.merge.apply_ops``: the same checks as any other writer's
create, and an op the merge refuses is quarantined for an admin to see, never lost.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ..clock import iso, now_iso, utcnow
from ..content.rules import evaluate, with_params
from ..ids import stable_id
from sync import merge
from sync.writer import make_create

from ..storage import families as family_rows, followups as follow_up_rows, records
from ..storage.crypto import Keyring
from ..storage.db import Database
from ..storage.tx import Tx
from . import dates

# Person roles in the record -> carer roles in content (settings.yaml carer_roles).
CARER_ROLES = {"mother": "mother", "father": "father", "male-carer": "male-carer", "other-adult": "other-adult"}


def follow_up_id(visit_id: str, rule: str, subject: str | None) -> str:
    return stable_id("rule-follow-up", visit_id, rule, subject or "")


def flag_id(visit_id: str, rule: str, subject: str | None) -> str:
    return stable_id("rule-flag", visit_id, rule, subject or "")


def _age_band(person: dict[str, Any], on: date) -> str | None:
    if person["role"] == "unborn":
        return "unborn"
    dob = person.get("date_of_birth")
    if not dob:
        return "unborn" if person.get("expected_date") else None
    born = date.fromisoformat(dob[:10])
    if born > on:
        return "unborn"
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return "under-1" if years < 1 else "under-5" if years < 5 else "school-age"


def _subjects(persons: list[dict[str, Any]], on: date) -> list[dict[str, Any]]:
    out = []
    for p in persons:
        if p["role"] in ("child", "unborn"):
            child = {"id": p["id"], "kind": "child", "age_band": _age_band(p, on),
                     "protection_plan": bool(p.get("protection_plan"))}
            if p.get("mobility"):
                child["mobility"] = p["mobility"]
            out.append(child)
        else:
            role = CARER_ROLES.get(p["role"])
            if role == "other-adult" and p.get("sex") == "male":
                role = "male-other-adult"  # reached by the father / male carer checklist
            if role is None:  # partner: the content distinguishes by sex
                role = "male-partner" if p.get("sex") == "male" else "female-partner"
            out.append({"id": p["id"], "kind": "carer", "role": role})
    return out


def _visit_date(visit: dict[str, Any], tz) -> date:
    when = visit.get("completed_at") or visit.get("started_at") or visit.get("planned_for") or visit["created_at"]
    return dates.local_date(when, tz)


def _visit_facts(db: Tx, keyring: Keyring, visit: dict[str, Any], tz) -> dict[str, Any]:
    answers = []
    for r in follow_up_rows.visit_answers(db, keyring, visit["id"]):
        subject = r["subject_id"]
        # Checklists about the visit as a whole record the visit (or nothing) as subject.
        if subject in ("", "visit", visit["id"]):
            subject = None
        version = r.get("checklist_version")
        answers.append({
            "checklist": r["checklist_id"], "subject": subject, "item": r["item_id"], "value": r.get("answer"),
            "evidence": r.get("seen_or_told") if r.get("seen_or_told") in ("seen", "told") else None,
            "note": r.get("note") or "", "version": int(version) if str(version or "").isdigit() else None,
        })
    present = visit.get("present") or []
    return {"id": visit["id"], "date": _visit_date(visit, tz).isoformat(), "type": visit["type"],
            "no_access": bool(visit.get("no_access")), "seen": [x for x in present if isinstance(x, str)],
            "answers": answers}


def build_facts(db: Tx, keyring: Keyring, visit: dict[str, Any], tz) -> dict[str, Any]:
    """The rule engine's facts for a visit: its answers, the family's people, and the
    family's earlier completed visits (history)."""
    on = _visit_date(visit, tz)
    persons = family_rows.of_family(db, keyring, "person", visit["family_id"])
    history = [_visit_facts(db, keyring, v, tz)
               for v in follow_up_rows.earlier_completed_visits(db, keyring, visit["family_id"], visit["id"])]
    return {"visit": _visit_facts(db, keyring, visit, tz), "subjects": _subjects(persons, on), "history": history}


def apply_visit_outcome(db: Tx, keyring: Keyring, content: Any, visit_id: str) -> dict[str, list[str]]:
    """Run the rules for a completed visit; create the follow-ups and flags not yet there.
    Returns the ids created (``follow_ups``, ``flags``); empty when nothing is new or the
    visit is not completed."""
    created: dict[str, list[str]] = {"follow_ups": [], "flags": []}
    visit = records.get(db, keyring, "visit", visit_id)
    if visit is None or visit["status"] != "completed":
        return created
    tz = dates.agency_zone(db, visit["agency_id"])
    params = dates.agency_settings(db, visit["agency_id"]).get("content_params")
    if isinstance(params, dict) and params:
        content = with_params(content, {k: v for k, v in params.items() if isinstance(v, int)})
    outcome = evaluate(content, build_facts(db, keyring, visit, tz))
    family_id = visit["family_id"]
    ops = []
    for fu in outcome.follow_ups:
        fid = follow_up_id(visit_id, fu.rule, fu.subject)
        # A rule fires at every visit while its condition holds (a father not seen, say):
        # one open follow-up per rule and subject is enough until it is dealt with.
        if family_rows.exists(db, "follow_up", fid) or follow_up_rows.rule_still_open(
            db, "follow_up", family_id, fu.rule, fu.subject
        ):
            continue
        assignee = (visit["practitioner_id"] if fu.assignee != "supervisor"
                    else follow_up_rows.family_supervisor(db, family_id))
        ops.append(("follow_ups", make_create("follow_up", fid, family_id, {
            "visit_id": visit_id, "rule_id": fu.rule, "subject_id": fu.subject,
            "assignee_id": assignee or visit["practitioner_id"],
            # The engine counts days from the visit's local date; due at the end of that day.
            "due_at": dates.due_at_for(date.fromisoformat(fu.due), tz),
            "text": fu.text, "status": "open"}, op_id=stable_id("op", fid))))
    for fl in outcome.flags:
        xid = flag_id(visit_id, fl.rule, fl.subject)
        if family_rows.exists(db, "flag", xid) or follow_up_rows.rule_still_open(
            db, "flag", family_id, fl.rule, fl.subject
        ):
            continue
        ops.append(("flags", make_create("flag", xid, family_id, {
            "visit_id": visit_id, "rule_id": fl.rule, "subject_id": fl.subject, "severity": fl.severity,
            "reason": fl.reason, "answers": [
                {"checklist": a.checklist, "subject": a.subject, "item": a.item, "value": a.value}
                for a in fl.answers],
            "status": "open", "raised_by": visit["practitioner_id"]}, op_id=stable_id("op", xid))))
    results = merge.apply_ops(db, keyring, records.SYSTEM, [op for _, op in ops], agency_id=visit["agency_id"])
    for (kind, op), result in zip(ops, results):
        if result.status == "applied":
            created[kind].append(op.entity_id)
    follow_up_rows.record_outcome(db, visit_id, now_iso(), len(created["follow_ups"]), len(created["flags"]))
    return created


SWEEP_WINDOW = timedelta(hours=48)


def sweep_completed_visits(store: Database, content: Any, limit: int = 200) -> int:
    """Apply the rules to recently completed visits that have not had them yet (the safety
    net for a visit completed by a path that did not call ``apply_visit_outcome``). Older
    visits (imported history, demo data) are left alone: raising follow-ups for them now
    would only make noise."""
    with store.read() as db:
        pending = follow_up_rows.visits_awaiting_rules(db, iso(utcnow() - SWEEP_WINDOW), limit)
    for visit_id in pending:
        with store.write() as db:
            apply_visit_outcome(db, store.keyring, content, visit_id)
    return len(pending)
