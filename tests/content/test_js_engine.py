from pathlib import Path
"""The browser engines (pwa/js/rules.js, pwa/js/recording.js) in real headless Chromium,
held to the same golden files as the Python engine, plus randomised visits compared
field for field with Python."""

import json
import random

import msgspec
import pytest

from server.content.loader import load_golden, load_recording_cases
from server.content.recording import check_recording
from server.content.rules import evaluate, with_params

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"

pytestmark = pytest.mark.browser

# Data crosses into the page as JSON text: far faster than Playwright's object serialisation.
RUN_GOLDEN = """async ([contentJson, casesJson]) => {
  const m = await import('/pwa/js/rules.js');
  const content = JSON.parse(contentJson);
  return JSON.stringify(JSON.parse(casesJson).map((c) => {
    const out = m.evaluate(m.withParams(content, c.params), c.facts);
    return {id: c.id, full: out, projected: m.project(out)};
  }));
}"""


def _json(obj) -> str:
    return msgspec.json.encode(obj).decode()


def test_js_rules_engine_passes_every_golden_case(page, content):
    golden = [c for _, c in load_golden(CONTENT_DIR)]
    cases = [msgspec.to_builtins(c) for c in golden]
    payload = msgspec.to_builtins(content)
    results = json.loads(page.evaluate(RUN_GOLDEN, [_json(payload), _json(cases)]))
    assert len(results) == len(cases) >= 40
    for g, case, res in zip(golden, cases, results):
        want = {"follow_ups": case["expected"].get("follow_ups", []), "flags": case["expected"].get("flags", [])}
        assert res["projected"] == want, case["id"]
        # ...and identical, wording and due dates included, to the Python engine.
        py = msgspec.to_builtins(evaluate(with_params(content, g.params), g.facts))
        assert res["full"] == py, case["id"]


def test_js_recording_check_passes_every_shared_case(page, content):
    cases = [msgspec.to_builtins(c) for c in load_recording_cases(CONTENT_DIR)]
    got = page.evaluate(
        """async ([rules, cases]) => {
          const m = await import('/pwa/js/recording.js');
          return cases.map((c) => m.checkRecording(c.text, c.context, rules));
        }""",
        [msgspec.to_builtins(content.recording), cases],
    )
    assert got == [c["expected"] for c in cases]
    for case in load_recording_cases(CONTENT_DIR):
        py = [msgspec.to_builtins(w) for w in check_recording(case.text, case.context, content.recording)]
        assert py == msgspec.to_builtins(case.expected)


def _random_visits(content, n, seed):
    """Random but valid visits: every checklist, random answers, random history."""
    rng = random.Random(seed)
    bands = ["unborn", "under-1", "under-5", "school-age"]
    out = []
    for k in range(n):
        children = [
            {"id": f"c{i}", "kind": "child", "age_band": rng.choice(bands),
             "mobile": rng.choice([True, False, None]), "protection_plan": rng.random() < 0.3,
             "mobility": rng.choice([None, "not-yet", "rolling", "crawling", "cruising", "walking"])}
            for i in range(rng.randint(1, 3))
        ]
        carers = [{"id": f"a{i}", "kind": "carer", "role": rng.choice(content.carer_roles)} for i in range(rng.randint(1, 3))]
        people = children + carers

        def answers():
            res = []
            for c in content.checklists:
                for item in c.items:
                    if rng.random() < 0.6:
                        continue
                    kind = item.subject or c.applies_to.subject
                    subs = [None] if kind == "visit" else [p["id"] for p in (children if kind == "child" else carers)]
                    for sid in subs:
                        if item.type in ("single-choice", "multi-choice"):
                            ids = [ch.id for ch in item.choices]
                            v = rng.sample(ids, rng.randint(1, 2)) if item.type == "multi-choice" else rng.choice(ids)
                        elif item.type == "yes-no":
                            v = rng.choice(["yes", "no", "not-known"])
                        elif item.type == "seen-told":
                            v = rng.choice(["seen", "told"])
                        elif item.type == "grade":
                            v = rng.randint(1, 4)
                        elif item.type == "number":
                            v = rng.choice([None, 7, 9.85, 82.5])
                        else:
                            v = rng.choice(["", "some words"])
                        res.append({"checklist": c.id, "subject": sid, "item": item.id, "value": v,
                                    "evidence": rng.choice(["seen", "told", None])})
            return res

        def visit(i, day):
            no_access = rng.random() < 0.3
            return {"id": f"v{i}", "date": f"2025-{rng.randint(1, 3):02d}-{day:02d}", "no_access": no_access,
                    "type": rng.choice(content.visit_types),
                    "seen": [] if no_access else [p["id"] for p in people if rng.random() < 0.6],
                    "answers": answers()}

        current = visit(0, 28)
        current["date"] = "2025-03-28"
        history = [visit(i, rng.randint(1, 28)) for i in range(1, rng.randint(1, 8))]
        out.append({"subjects": people, "visit": current, "history": history})
    return out


def test_js_and_python_engines_agree_on_random_visits(page, content):
    facts = _random_visits(content, 150, seed=20250310)
    js = json.loads(page.evaluate(
        """async ([contentJson, allJson]) => {
          const m = await import('/pwa/js/rules.js');
          const content = JSON.parse(contentJson);
          return JSON.stringify(JSON.parse(allJson).map((f) => m.evaluate(content, f)));
        }""",
        [_json(content), _json(facts)],
    ))
    fired = 0
    for f, got in zip(facts, js):
        py = msgspec.to_builtins(evaluate(content, f))
        assert got == py, f
        fired += len(py["flags"]) + len(py["follow_ups"])
    assert fired > 100  # the random visits really exercise the rules


def test_safer_sleep_and_icon_are_required_at_the_first_contacts_then_asked_not_demanded(page, content):
    """The phone's task list (pwa/js/screens/visit-facts.js): a carer seen at fewer than
    full_advice_contacts earlier visits must answer the advice items; after that they are
    optional, and the check-in items are there instead."""
    got = json.loads(page.evaluate(
        """async (contentJson) => {
          const m = await import('/pwa/js/screens/visit-facts.js');
          const content = JSON.parse(contentJson);
          const subjects = [{id: 'b1', kind: 'child', age_band: 'under-1'}, {id: 'm1', kind: 'carer', role: 'mother'}];
          const req = (seen) => m.visitTasks(content, subjects, {seenBefore: new Map([['m1', seen], ['b1', seen]])})
            .filter((t) => t.subjectId === 'm1')
            .flatMap((t) => t.items.filter((i) => i.required).map((i) => t.checklist.id + '/' + i.id)).sort();
          return JSON.stringify({first: req(0), second: req(1), later: req(2)});
        }""", _json(content)))
    advice = {"icon/icon-crying-is-normal", "icon/icon-comforting", "icon/icon-ok-to-walk-away",
              "icon/icon-never-shake", "safe-sleep/safe-sleep-advice-given"}
    assert advice <= set(got["first"]) and advice <= set(got["second"])
    assert not advice & set(got["later"])


def test_a_babys_age_is_given_in_days_then_weeks_then_months(page):
    got = page.evaluate(
        """async () => {
          const m = await import('/pwa/js/screens/visit-facts.js');
          const on = '2025-03-10';
          return ['2025-02-27', '2025-01-20', '2024-06-10', '2022-01-01'].map((d) => m.ageLabel({date_of_birth: d}, on));
        }""")
    assert got == ["11 days", "7 weeks", "9 months", "3 years"]


def test_a_man_recorded_as_another_adult_is_reached_by_the_father_and_male_carer_checklist(page, content):
    got = json.loads(page.evaluate(
        """async (contentJson) => {
          const m = await import('/pwa/js/screens/visit-facts.js');
          const content = JSON.parse(contentJson);
          const persons = [{id: 'b1', role: 'child', date_of_birth: '2025-01-01'},
                           {id: 'g1', role: 'other-adult', sex: 'male'}, {id: 'n1', role: 'other-adult', sex: 'female'}];
          const subjects = m.subjectsFor(persons, [], '2025-03-10');
          return JSON.stringify(m.visitTasks(content, subjects).map((t) => t.checklist.id + '/' + t.subjectId));
        }""", _json(content)))
    assert "father-male-carer/g1" in got and "father-male-carer/n1" not in got
    assert "household/visit" in got  # asked at a visit where the family is seen
