"""The chronology and the genogram come from one declaration (``sync.family_views``): the
phone's module is generated from it, the checklist answers it reads exist in content, the
phone's builder (``pwa/js/chronology.js``, run in Node) and the server's give the same
events for the same records, and the subject-access export of a real server lists a
child's chronology and draws the family's genogram."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest
import yaml

from server.demo import _sid
from server.model_cli import VIEWS_TARGET, render_views
from sync import family_views
from tests.conftest import REPO

PWA = REPO / "pwa"


def test_the_phones_family_views_module_is_generated_from_the_one_declaration():
    assert (PWA / VIEWS_TARGET).read_text(encoding="utf-8") == render_views(), \
        "pwa/js/generated/family-views.js is stale: run `hearthside model js --write`"


def _content_items() -> set[tuple[str, str]]:
    out = set()
    for path in (REPO / "content" / "checklists").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        out |= {(doc["id"], item["id"]) for item in doc.get("items", [])}
    return out


def test_every_checklist_answer_the_chronology_reads_is_a_question_in_content():
    items = _content_items()
    for checklist, item, _values, described_by in family_views.INJURY_ITEMS:
        assert (checklist, item) in items
        assert described_by is None or (checklist, described_by) in items
    for checklist, item in family_views.HOUSEHOLD_ITEMS:
        assert (checklist, item) in items


CHILD, MUM, MAN = "p-child", "p-mum", "p-man"
RECORDS = {
    "persons": [
        {"id": MUM, "role": "mother", "sex": "female"},
        {"id": MAN, "role": "male-carer", "sex": "male"},
        {"id": CHILD, "role": "child", "date_of_birth": "2025-01-02"},
    ],
    "visits": [
        {"id": "v1", "status": "completed", "completed_at": "2025-02-01T11:00:00Z", "type": "new-birth",
         "present": [MUM, CHILD], "decisions": "Refer to the GP", "rationale": "A mark on the ear",
         "information_shared": "shared", "shared_what": "The mark", "shared_with": "GP", "shared_why": "Review"},
        {"id": "v2", "status": "completed", "completed_at": "2025-03-01T11:00:00Z", "type": "targeted",
         "no_access": True, "present": []},
        {"id": "v3", "status": "completed", "completed_at": "2025-04-01T11:00:00Z", "type": "targeted",
         "present": [MUM, MAN]},
        {"id": "v4", "status": "in-progress", "planned_for": "2025-05-01T10:00:00Z", "type": "targeted", "present": [CHILD]},
    ],
    "responses": [
        {"id": "r1", "visit_id": "v1", "checklist_id": "injury-non-mobile", "subject_id": CHILD, "item_id": "injury", "answer": "yes"},
        {"id": "r2", "visit_id": "v1", "checklist_id": "injury-non-mobile", "subject_id": CHILD,
         "item_id": "injury-description", "answer": "Small bruise on the left ear"},
        {"id": "r3", "visit_id": "v1", "checklist_id": "father-male-carer", "subject_id": MAN, "item_id": "lives-in-home", "answer": "no"},
        {"id": "r4", "visit_id": "v3", "checklist_id": "father-male-carer", "subject_id": MAN, "item_id": "lives-in-home", "answer": "yes"},
        {"id": "r5", "visit_id": "v4", "checklist_id": "injury-non-mobile", "subject_id": CHILD, "item_id": "injury", "answer": "yes"},
    ],
    "flags": [
        {"id": "f1", "visit_id": "v1", "subject_id": CHILD, "severity": "urgent", "reason": "Mark", "status": "closed",
         "decided_at": "2025-02-02T09:00:00Z", "decision": "Strategy discussion", "rationale": "Non-mobile"},
        {"id": "f2", "subject_id": MUM, "severity": "high", "reason": "About the mother only", "status": "open"},
        {"id": "f3", "severity": "high", "reason": "Two no-access visits", "status": "open"},
    ],
    "followUps": [
        {"id": "u1", "visit_id": "v1", "subject_id": CHILD, "text": "See again", "due_at": "2025-02-08T09:00:00Z",
         "status": "done", "completed_at": "2025-02-08T15:00:00Z", "note": "Seen, healed"},
    ],
}


def _python(person_id: str) -> list[dict]:
    r = RECORDS
    return family_views.chronology(person_id, r["persons"], r["visits"], r["responses"], r["flags"], r["followUps"])


def _node(person_id: str) -> list[dict]:
    script = (f"import {{ chronology }} from {json.dumps((PWA / 'js' / 'chronology.js').as_uri())};\n"
              "const input = JSON.parse(process.argv[1]);\n"
              "process.stdout.write(JSON.stringify(chronology(input.person, input.records)));\n")
    out = subprocess.run(["node", "--input-type=module", "-e", script, json.dumps({"person": person_id, "records": RECORDS})],
                         capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_the_phone_and_the_server_build_the_same_chronology_from_the_same_records():
    events = _python(CHILD)
    assert _node(CHILD) == events
    assert _node(MUM) == _python(MUM)
    kinds = [(e["kind"], e["id"]) for e in events]
    assert kinds == [
        ("born", CHILD), ("visit", "v1"), ("injury", "r1"), ("household", "r3"), ("decision", "v1"),
        ("information-shared", "v1"), ("flag", "f1"), ("follow-up", "u1"), ("flag-decision", "f1"),
        ("follow-up-closed", "u1"), ("no-access", "v2"), ("visit", "v3"), ("household", "r4"), ("flag", "f3"),
    ]
    # The mark's description travels with it; a visit in progress is not yet the record;
    # a flag about the mother alone is not in the child's chronology.
    assert events[2]["detail"]["description"] == "Small bruise on the left ear"
    assert "r5" not in {e["id"] for e in events} and "f2" not in {e["id"] for e in events}
    assert events[1]["detail"]["seen"] is True and events[11]["detail"]["seen"] is False
    assert [e["label"] for e in events[:2]] == ["Born", "Visit"]


@pytest.fixture(scope="module")
def demo_server(module_server):
    return module_server


def test_the_subject_access_export_of_a_child_lists_their_chronology_and_draws_the_genogram(demo_server):
    mason, kerry = _sid("person", "delaney", "c1"), _sid("person", "delaney", "mum")
    token = demo_server.login("admin1")["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{demo_server.url}/api/v1/admin/persons/{mason}/export"
    data = httpx.get(url, headers=headers, timeout=30).raise_for_status().json()
    events = data["chronology"]
    assert [e["kind"] for e in events].count("no-access") == 2
    visit = next(e for e in events if e["kind"] == "visit")
    assert visit["id"] == _sid("visit", "delaney", "0") and visit["detail"]["seen"] is True
    flag = next(e for e in events if e["kind"] == "flag")
    assert flag["detail"]["reason"] == "Two no-access visits within 28 days." and flag["label"] == "Flag raised to the supervisor"
    assert any(e["kind"] == "follow-up" and "second no-access visit" in e["detail"]["text"] for e in events)
    dated = [e["at"] for e in events if e["at"]]
    assert dated == sorted(dated)
    geno = data["genogram"]
    assert {(p["name"], p["shape"], p["generation"]) for p in geno["people"]} >= {("Kerry Delaney", "diamond", 0), ("Mason Delaney", "diamond", 1)}
    assert [(r["adult"]["id"], r["child"]["id"], r["relationship"]) for r in geno["relationships"]] == [(kerry, mason, "mother")]
    assert next(p for p in geno["people"] if p["id"] == kerry)["third_party"] is True

    page = httpx.get(url, params={"format": "html"}, headers=headers, timeout=30).raise_for_status().text
    assert "Chronology of significant events" in page and "No access" in page
    assert "<svg" in page and ">Kerry Delaney</text>" in page and "<script" not in page


def test_model_js_write_also_writes_the_family_views_module(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from server.cli import main

    monkeypatch.setenv("HEARTHSIDE_PWA_DIR", str(tmp_path))
    written = CliRunner().invoke(main, ["model", "js", "--write"])
    assert written.exit_code == 0, written.output
    assert (tmp_path / VIEWS_TARGET).read_text(encoding="utf-8") == render_views()
