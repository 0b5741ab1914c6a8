"""Alert rate: how many flags (by severity) and follow-ups the rules raise per visit, before
and after a change to the content, in one run.

    python bench/alert_rate.py [--before REV] [--families 300] [--seed 13]

"Before" is the content *and* the rule engine at git revision REV (default: the commit the
clinical-rules work started from), taken with ``git archive`` into a scratch folder and
imported from there, so the old rules run exactly as they ran. "After" is this working
tree. Both run over the same facts:

- the demo data (``server/demo.py`` seeded into a throwaway database, facts built by the
  server's own ``build_facts`` for every completed visit), and
- a generated caseload: families with one to four children and one to three carers, five
  to eight visits over about seven months, answers drawn item by item from the content
  itself - mostly an answer that no rule mentions, now and then one a rule looks for,
  with "concern" families answering so more often.

Figures are the engines' raw output per visit. On the server a rule that still holds at
the next visit does not open a second follow-up while the first is open, so supervisors
see fewer than these; the comparison between before and after is the point.
"""

from __future__ import annotations

import argparse
import importlib
import io
import random
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import msgspec  # noqa: E402

from server.content import loader as now_loader  # noqa: E402
from server.content import rules as now_rules  # noqa: E402

START = "845eb01"
SEVERITIES = ("urgent", "high", "routine")


# -- the two rule sets ---------------------------------------------------------------------

def load_before(rev: str, scratch: Path):
    """The content folder and server/content package at `rev`, importable as `before_content`."""
    data = subprocess.run(["git", "-C", str(REPO), "archive", rev, "content", "server/content"],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(scratch, filter="data")
    pkg = scratch / "before_content"
    (scratch / "server" / "content").rename(pkg)
    sys.path.insert(0, str(scratch))
    b_loader = importlib.import_module("before_content.loader")
    b_rules = importlib.import_module("before_content.rules")
    return b_loader.load_content(scratch / "content"), b_rules


# -- facts: demo data ---------------------------------------------------------------------

def demo_facts(scratch: Path) -> list[dict[str, Any]]:
    from server.app import open_store
    from server.demo import seed_demo
    from server.followups import dates
    from server.followups.from_visit import build_facts
    from server.settings import Settings
    from server.storage import records

    store = open_store(Settings.from_env(data_dir=scratch / "demo-data", demo=True, scheduler_enabled=False))
    seed_demo(store)
    out = []
    with store.read() as db:
        for v in records.find(db, store.keyring, "visit", "status = 'completed'"):
            out.append(build_facts(db, store.keyring, v, dates.agency_zone(db, v["agency_id"])))
    return out


# -- facts: a generated caseload ----------------------------------------------------------

# How much rarer an answer is than an ordinary concern, by the gravest thing it raises: a
# finding that raises an urgent flag is far rarer in a real caseload than one that raises
# a follow-up.
RARITY = {"urgent": 0.05, "high": 0.25, "routine": 0.6, None: 1.0}


def _gravest(r) -> str | None:
    sev = [a.severity for a in r.then if isinstance(a, now_rules.s.FlagAction)]
    return min(sev, key=("urgent", "high", "routine").index) if sev else None


def _mentioned(content) -> dict[tuple[str, str], dict]:
    """Values each item's answers are compared with in the rules, outside a `not` (the
    concerning ones, mostly; under a `not` they are the reassuring ones); an answer outside
    these is one no rule reacts to."""
    found: dict[tuple[str, str], dict] = {}
    order = ("urgent", "high", "routine", None)

    def walk(cond: Any, c, item, sev) -> None:
        if isinstance(cond, (now_rules.s.All, now_rules.s.AnyOf)):
            for x in cond.of:
                walk(x, c, item, sev)
        elif isinstance(cond, now_rules.s.Not):
            pass
        elif isinstance(cond, now_rules.s.CountVisits):
            walk(cond.where, c, item, sev)
        elif isinstance(cond, (now_rules.s.Equals, now_rules.s.In)):
            iid = cond.item or (item.id if item else None)
            vals = [cond.value] if isinstance(cond, now_rules.s.Equals) else cond.values
            seen = found.setdefault((cond.checklist or c.id, iid), {})
            for v in vals:
                if v not in seen or order.index(sev) < order.index(seen[v]):
                    seen[v] = sev

    for c, item, r in now_loader.all_rules(content):
        walk(r.when, c, item, _gravest(r))
    return found


def _shows(cond: Any, answers: dict[str, Any]) -> bool:
    if cond is None:
        return True
    op = type(cond).__struct_config__.tag
    if op == "all":
        return all(_shows(x, answers) for x in cond.of)
    if op == "any":
        return any(_shows(x, answers) for x in cond.of)
    if op == "not":
        return not _shows(cond.of, answers)
    v = answers.get(cond.item)
    if v is None:
        return False
    if op == "answered":
        return True
    want = [cond.value] if op == "equals" else list(getattr(cond, "values", []))
    return any(x in want for x in v) if isinstance(v, list) else v in want


def _grade(rng: random.Random, last: int | None, concern: bool) -> int:
    """A child's grade in one area: drawn once, then drifting a step now and then, so
    that grades are as steady across visits as a child's circumstances are."""
    if last is None:
        return rng.choices([1, 2, 3, 4], weights=[45, 35, 17, 3] if concern else [85, 14, 1, 0.1])[0]
    if rng.random() < 0.15:
        return min(4, max(1, last + rng.choice([-1, 1])))
    return last


def _answer(rng: random.Random, item, concerning: dict, p: float):
    if item.type == "number":
        return round(rng.uniform(max(item.minimum or 1, 2), min(item.maximum or 40, 40)), 1) if rng.random() < 0.3 else None
    if item.type in ("free-text", "child-words"):
        return "Recorded in the practitioner's words." if rng.random() < 0.6 else None
    values = (["yes", "no", "not-known"] if item.type == "yes-no" else ["seen", "told"] if item.type == "seen-told"
              else [ch.id for ch in item.choices])
    calm = [v for v in values if v not in concerning and v != "not-known"] or values
    worry = [v for v in values if v in concerning]
    pick = rng.choice(calm)
    if worry:
        v = rng.choice(worry)
        if rng.random() < p * RARITY[concerning[v]]:
            pick = v
    return [pick] if item.type == "multi-choice" else pick


def generated_facts(content, families: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    mentioned = _mentioned(content)
    stages = ["not-yet", "rolling", "crawling", "cruising", "walking"]
    out = []
    for f in range(families):
        concern = rng.random() < 0.2
        p = 0.15 if concern else 0.03
        kids = []
        for i in range(rng.choices([1, 2, 3, 4], weights=[45, 30, 17, 8])[0]):
            band = rng.choices(["unborn", "under-1", "under-5", "school-age"], weights=[8, 30, 37, 25])[0]
            mob = {"unborn": None, "under-1": rng.choice(stages[:4]), "under-5": rng.choice(stages[2:]),
                   "school-age": "walking" if rng.random() > 0.04 else "not-yet"}[band]
            kid = {"id": f"f{f}c{i}", "kind": "child", "age_band": band, "protection_plan": concern and rng.random() < 0.4}
            if mob:
                kid["mobility"] = mob
            kids.append(kid)
        carers = [{"id": f"f{f}m", "kind": "carer", "role": "mother"}]
        if rng.random() < 0.7:
            carers.append({"id": f"f{f}d", "kind": "carer", "role": rng.choice(["father", "father", "male-partner"])})
        if rng.random() < 0.15:
            carers.append({"id": f"f{f}g", "kind": "carer", "role": "grandparent"})
        subjects = kids + carers
        start = date(2025, 1, 6) + timedelta(days=rng.randint(0, 30))
        visits: list[dict[str, Any]] = []
        grades: dict[tuple[str | None, str], int] = {}
        day = start
        for v in range(rng.randint(5, 8)):
            day += timedelta(days=rng.randint(10, 45))
            no_access = rng.random() < (0.15 if concern else 0.05)
            seen = [] if no_access else [s["id"] for s in subjects
                                         if s["kind"] == "child" or s["role"] == "mother" or rng.random() < 0.55]
            visit = {"id": f"f{f}v{v}", "date": day.isoformat(), "type": "targeted", "no_access": no_access,
                     "seen": seen, "answers": []}
            engine = now_rules._Engine(content, msgspec.convert({"visit": visit, "subjects": subjects}, now_rules.s.Facts))
            for c in content.checklists:
                if (c.applies_to.subject == "visit") != no_access or not engine.active(c):
                    continue
                # The neglect toolkit is graded at some visits, more often where there is concern.
                if any(i.type == "grade" for i in c.items) and rng.random() > (0.7 if concern else 0.25):
                    continue
                for item in c.items:
                    kind = now_loader.item_kind(c, item)
                    for sub in engine.subjects_for(c, kind, item):
                        sid = sub.id if sub is not None else None
                        given = {a["item"]: a["value"] for a in visit["answers"] if a["checklist"] == c.id and a["subject"] == sid}
                        # Optional questions are not all answered at every visit.
                        if not _shows(item.show_if, given) or (not item.required and rng.random() < 0.4):
                            continue
                        if item.type == "grade":
                            value = grades[(sid, item.id)] = _grade(rng, grades.get((sid, item.id)), concern)
                        else:
                            value = _answer(rng, item, mentioned.get((c.id, item.id), {}), p)
                        if value is not None:
                            visit["answers"].append({"checklist": c.id, "subject": sid, "item": item.id, "value": value,
                                                     "evidence": rng.choice(["seen", "told"]) if item.ask_seen_or_told else None})
            visits.append(visit)
        for k, visit in enumerate(visits):
            out.append({"visit": visit, "subjects": subjects, "history": visits[:k]})
    return out


# -- running ------------------------------------------------------------------------------

def _for_before(facts: dict[str, Any], known: set[tuple[str, str]]) -> dict[str, Any]:
    """The same visits as the old content saw them: no mobility stage (the field did not
    exist), and no answers to questions it did not ask."""
    def visit(v: dict[str, Any]) -> dict[str, Any]:
        return {**v, "answers": [a for a in v.get("answers", []) if (a["checklist"], a["item"]) in known]}
    return {"visit": visit(facts["visit"]), "history": [visit(h) for h in facts.get("history", [])],
            "subjects": [{k: v for k, v in s.items() if k != "mobility"} for s in facts["subjects"]]}


def rate(content, engine, facts_list, *, before: bool) -> dict[str, float]:
    counts: Counter = Counter()
    by_rule: Counter = Counter()
    known = {(c.id, i.id) for c in content.checklists for i in c.items}
    for facts in facts_list:
        out = engine.evaluate(content, _for_before(facts, known) if before else facts)
        for fl in out.flags:
            counts[fl.severity] += 1
            by_rule[(fl.rule, fl.severity)] += 1
        counts["follow_ups"] += len(out.follow_ups)
    n = max(len(facts_list), 1)
    return {"visits": len(facts_list), **{k: counts[k] / n for k in (*SEVERITIES, "follow_ups")}, "_rules": by_rule}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", default=START, help="git revision whose content and engine are 'before'")
    ap.add_argument("--families", type=int, default=300)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--top", type=int, default=8, help="rules to list with the largest change")
    args = ap.parse_args()
    after_content = now_loader.load_content(REPO / "content")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        before_content, before_rules = load_before(args.before, scratch)
        sets = {"demo data": demo_facts(scratch),
                f"generated caseload ({args.families} families)": generated_facts(after_content, args.families, args.seed)}
    print(f"before: {args.before} (content {before_content.version}); after: working tree (content {after_content.version})")
    print("per visit:            visits  urgent    high  routine  follow-ups")
    changes: Counter = Counter()
    for name, facts_list in sets.items():
        b = rate(before_content, before_rules, facts_list, before=True)
        a = rate(after_content, now_rules, facts_list, before=False)
        print(name)
        for label, r in (("  before", b), ("  after", a)):
            print(f"{label:<20}{r['visits']:>8}{r['urgent']:>8.3f}{r['high']:>8.3f}{r['routine']:>9.3f}{r['follow_ups']:>12.3f}")
        for key in set(a["_rules"]) | set(b["_rules"]):
            changes[key] += (a["_rules"][key] - b["_rules"][key]) / max(a["visits"], 1)
    print("flags per visit, largest changes by rule (after - before, both sets):")
    for (rule, sev), d in sorted(changes.items(), key=lambda kv: -abs(kv[1]))[: args.top]:
        if d:
            print(f"  {rule:<40} {sev:<8} {d:+.3f}")


if __name__ == "__main__":
    main()
