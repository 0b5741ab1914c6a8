from pathlib import Path
import datetime as dt

import msgspec
import pytest

from server.content.loader import all_rules, answer_problems, load_golden
from server.content.rules import evaluate, project, with_params
from server.content.schema import Facts, FollowUpAction, FlagAction

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"

GOLDEN = load_golden(CONTENT_DIR)


def test_there_are_at_least_forty_golden_cases():
    assert len(GOLDEN) >= 40


@pytest.mark.parametrize("case", [c for _, c in GOLDEN], ids=[c.id for _, c in GOLDEN])
def test_golden_case_gives_exactly_the_expected_outcome(content, case):
    got = project(evaluate(with_params(content, case.params), case.facts))
    want = msgspec.to_builtins(case.expected)
    assert got == {"follow_ups": want.get("follow_ups", []), "flags": want.get("flags", [])}


@pytest.mark.parametrize("case", [c for _, c in GOLDEN], ids=[c.id for _, c in GOLDEN])
def test_golden_case_answers_fit_the_content(content, case):
    # A typo in a golden case would otherwise make it pass by raising nothing.
    # History may hold answers to items an older checklist version had, so only this visit is checked.
    assert answer_problems(content, msgspec.structs.replace(case.facts, history=[])) == []


def test_every_rule_fires_in_at_least_one_golden_case(content):
    fired = set()
    for _, case in GOLDEN:
        fired |= {f["rule"] for f in msgspec.to_builtins(case.expected).get("follow_ups", [])}
        fired |= {f["rule"] for f in msgspec.to_builtins(case.expected).get("flags", [])}
    rule_ids = {r.id for _, _, r in all_rules(content)}
    assert rule_ids - fired == set()


def _exercises(case, checklist_id: str, visit_level: bool) -> bool:
    visits = [case.facts.visit, *case.facts.history]
    if visit_level and any(v.no_access for v in visits):
        return True
    return any(a.checklist == checklist_id for v in visits for a in v.answers)


def test_every_rule_is_silent_in_a_golden_case_that_exercises_its_checklist(content):
    """A rule that fired whenever its checklist was answered would be noise: each one is
    shown, in some golden case about its own checklist, holding its fire."""
    loud = []
    for c, _, r in all_rules(content):
        silent = False
        for _, case in GOLDEN:
            want = msgspec.to_builtins(case.expected)
            raised = {x["rule"] for x in want.get("follow_ups", []) + want.get("flags", [])}
            if r.id not in raised and _exercises(case, c.id, c.applies_to.subject == "visit"):
                silent = True
                break
        if not silent:
            loud.append(r.id)
    assert loud == []


def test_flags_named_in_the_issue_exist_with_their_severity(content):
    severities = {}
    for _, _, r in all_rules(content):
        for a in r.then:
            if isinstance(a, FlagAction):
                severities[r.id] = a.severity
    assert severities["prevented-from-seeing-child-alone"] == "urgent"
    assert severities["injury-in-non-mobile-baby"] == "urgent"
    assert severities["bed-sharing-with-risk-factor"] == "high"
    assert severities["sofa-or-armchair-sleeping"] == "high"
    assert severities["repeated-no-access"] == "high"
    assert severities["no-access-child-on-plan"] == "high"
    assert severities["father-not-engaged"] == "routine"
    assert severities["neglect-grade-serious"] == "high"
    assert severities["neglect-concern-persisting"] == "high"
    # One worsened grade asks for a review, never a flag to the supervisor on its own.
    assert "neglect-grade-worsened" not in severities
    assert severities["domestic-abuse-indicated"] == "high"


def _facts(**visit):
    return {
        "subjects": [{"id": "b1", "kind": "child", "age_band": "under-1", "mobile": False}],
        "visit": {"id": "v1", "date": "2025-03-30", **visit},
    }


def test_outcome_carries_rule_wording_and_due_date_from_the_visit_date(content):
    facts = _facts(answers=[{"checklist": "injury-non-mobile", "subject": "b1", "item": "injury", "value": "yes"}])
    out = evaluate(content, facts)
    (fu,) = out.follow_ups
    (flag,) = out.flags
    rule = next(r for _, _, r in all_rules(content) if r.id == "injury-in-non-mobile-baby")
    action_fu = next(a for a in rule.then if isinstance(a, FollowUpAction))
    action_flag = next(a for a in rule.then if isinstance(a, FlagAction))
    assert fu.text == action_fu.text and fu.due == "2025-03-30" and fu.checklist == "injury-non-mobile"
    assert flag.reason == action_flag.reason
    assert "bruising protocol now" in flag.reason


def test_due_dates_cross_month_ends(content):
    facts = _facts(answers=[{"checklist": "safe-sleep", "subject": "b1", "item": "same-room", "value": "no"}])
    (fu,) = evaluate(content, facts).follow_ups
    assert fu.due == (dt.date(2025, 3, 30) + dt.timedelta(days=7)).isoformat() == "2025-04-06"


def test_evaluate_accepts_a_struct_or_a_dict_and_is_deterministic(content):
    case = next(c for _, c in GOLDEN if c.expected.flags)
    as_dict = msgspec.to_builtins(case.facts)
    a = evaluate(content, case.facts)
    b = evaluate(content, as_dict)
    c = evaluate(content, msgspec.convert(as_dict, Facts))
    assert a == b == c and a.flags


def test_nothing_fires_for_an_empty_visit(content):
    out = evaluate(content, {"visit": {"id": "v1", "date": "2025-03-10"}, "subjects": []})
    assert out.follow_ups == [] and out.flags == []


def test_a_changed_golden_expectation_would_fail(content):
    # Guards the golden test itself: a wrong expectation must not compare equal.
    _, case = next((f, c) for f, c in GOLDEN if c.id == "sofa-sleeping-raises-high-flag")
    got = project(evaluate(content, case.facts))
    wrong = msgspec.to_builtins(case.expected)
    wrong["flags"][0]["severity"] = "routine"
    assert got != {"follow_ups": wrong["follow_ups"], "flags": wrong["flags"]}
