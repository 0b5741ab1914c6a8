"""Subject access: everything held about one person, as JSON or a readable HTML page.

Other people named in the person's records (the rest of the household, people present at
a visit) are included where they appear but marked ``third_party`` so the reviewer can
redact them before disclosure; family-level text (family notes, visit summaries,
observations not about the subject) is marked ``third_party_review`` because it may
mention others. The export itself is audited (``subject-access-export``).
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from . import audit, retention, sar_views
from .access import Principal, require_role
from .clock import now_iso
from .errors import NotFound
from .storage import audit_log, records, subject_access
from .storage.crypto import Keyring
from .storage.tx import Tx

_META = {"field_meta", "agency_id", "deleted", "version"}


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in _META}


def _name(p: dict[str, Any]) -> str:
    return " ".join(x for x in (p.get("given_name"), p.get("family_name")) if x) or p["role"]


def build(db: Tx, keyring: Keyring, p: Principal, person_id: str) -> dict[str, Any]:
    require_role(p, "admin")
    person = records.get(db, keyring, "person", person_id, include_deleted=True)
    if person is None or person["agency_id"] != p.agency_id:
        raise NotFound("No such person.")
    family_id = person["family_id"]
    family = records.get(db, keyring, "family", family_id, include_deleted=True) or {}

    def rows(entity: str) -> list[dict[str, Any]]:
        return subject_access.family_records(db, keyring, entity, family_id)

    persons = {q["id"]: q for q in rows("person")}
    rules = retention.rules_for(db, p.agency_id)
    fam_class = retention.family_class(list(persons.values()))
    ended = retention.end_of_care(family) if family else None
    review_on, reason = retention.person_review_date(person, ended, rules)

    def who(pid: str) -> dict[str, Any]:
        other = persons.get(pid)
        if pid == person_id:
            return {"id": pid, "name": _name(person), "third_party": False}
        if other is None:
            return {"id": pid, "name": None, "third_party": True}
        return {"id": pid, "name": _name(other), "role": other["role"], "third_party": True}

    def tagged(row: dict[str, Any], about: str | None) -> dict[str, Any]:
        out = _clean(row)
        out["retention_class"] = fam_class
        out["about_subject"] = about == person_id
        out["third_party_review"] = about != person_id
        return out

    relationships = [
        {**_clean(r), "adult": who(r["adult_id"]), "child": who(r["child_id"])}
        for r in rows("relationship") if person_id in (r["adult_id"], r["child_id"])
    ]
    visits = []
    for v in rows("visit"):
        present = v.get("present") or []
        out = _clean(v)
        out["present"] = [who(x) for x in present]
        out["subject_present"] = person_id in present
        out["retention_class"] = fam_class
        out["third_party_review"] = True
        visits.append(out)
    data = {
        "generated_at": now_iso(),
        "generated_by": {"user_id": p.user_id, "name": p.display_name},
        "notice": ("Entries marked third_party name other people; entries marked third_party_review may mention "
                   "them. Review and redact these before disclosure."),
        "subject": {**_clean(person), "retention_class": retention.person_class(person["role"]),
                    "review_on": review_on.isoformat() if isinstance(review_on, date) else None,
                    "review_reason": reason},
        "household": [
            {"id": q["id"], "role": q["role"], "name": _name(q), "third_party": True}
            for q in persons.values() if q["id"] != person_id
        ],
        "family": {**_clean(family), "retention_class": fam_class, "third_party_review": True} if family else None,
        "relationships": relationships,
        "chronology": sar_views.chronology(person_id, rows),
        "genogram": sar_views.genogram(list(persons.values()), rows("relationship"), who),
        "visits": visits,
        "checklist_responses": [tagged(r, r["subject_id"]) for r in rows("checklist_response")
                                if r["subject_id"] == person_id],
        "observations": [tagged(o, o.get("about_person_id")) for o in rows("observation")
                         if o.get("about_person_id") in (person_id, None)],
        "addenda": [tagged(a, None) for a in rows("addendum")],
        "follow_ups": [tagged(f, f.get("subject_id")) for f in rows("follow_up")
                       if f.get("subject_id") in (person_id, None)],
        "flags": [tagged(f, f.get("subject_id")) for f in rows("flag") if f.get("subject_id") in (person_id, None)],
        "access_history": audit_log.person_history(db, p.agency_id, person_id, family_id),
    }
    audit.record(db, "subject-access-export", entity="person", entity_id=person_id, family_id=family_id,
                 purpose="subject access request", **audit.by(p))
    return data


# -- HTML ---------------------------------------------------------------------------------

_SECTIONS = [
    ("subject", "The person"), ("household", "Other people in the household (third parties)"),
    ("family", "Family record"), ("relationships", "Relationships"),
    ("chronology", "Chronology of significant events"), ("genogram", "Genogram (third parties named)"), ("visits", "Visits"),
    ("checklist_responses", "Checklist answers about the person"), ("observations", "Observations"),
    ("addenda", "Addenda"), ("follow_ups", "Follow-ups"), ("flags", "Flags to the supervisor"),
    ("access_history", "Who has accessed these records"),
]


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        if "third_party" in value and "id" in value:
            mark = " <strong>[third party]</strong>" if value.get("third_party") else ""
            return html.escape(str(value.get("name") or value["id"])) + mark
        return "<dl>" + "".join(f"<dt>{html.escape(str(k))}</dt><dd>{_cell(v)}</dd>" for k, v in value.items()) + "</dl>"
    if isinstance(value, list):
        return "<ul>" + "".join(f"<li>{_cell(v)}</li>" for v in value) + "</ul>" if value else ""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return html.escape(str(value))


def _record(row: dict[str, Any]) -> str:
    flag = ""
    if row.get("third_party"):
        flag = "<p><strong>Third party: review before disclosure.</strong></p>"
    elif row.get("third_party_review"):
        flag = "<p><strong>May mention third parties: review before disclosure.</strong></p>"
    items = "".join(f"<tr><th scope=\"row\">{html.escape(str(k))}</th><td>{_cell(v)}</td></tr>" for k, v in row.items())
    return f"<article>{flag}<table>{items}</table></article>"


def render_html(data: dict[str, Any]) -> str:
    """A plain, readable page. Every value is escaped; no script, no inline style (it is
    served under the same Content-Security-Policy as everything else)."""
    parts = [
        "<!doctype html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Subject access export</title></head><body><main>",
        "<h1>Subject access export</h1>",
        f"<p>Generated {html.escape(data['generated_at'])} by {html.escape(str(data['generated_by']['name']))}.</p>",
        f"<p><strong>{html.escape(data['notice'])}</strong></p>",
    ]
    for key, title in _SECTIONS:
        value = data.get(key)
        parts.append(f"<section><h2>{html.escape(title)}</h2>")
        if key == "chronology":
            parts.append(sar_views.chronology_html(value or []))
        elif key == "genogram" and value and value["people"]:
            parts.append(sar_views.genogram_svg(value))
            parts.extend(_record(v) for v in value["relationships"])
        elif not value:
            parts.append("<p>None held.</p>")
        elif isinstance(value, dict):
            parts.append(_record(value))
        else:
            parts.extend(_record(v) for v in value)
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts)
