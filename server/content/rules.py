"""The rule engine: facts about a visit (and earlier visits) -> follow-ups and flags.

The PWA runs the same rules in ``pwa/js/rules.js`` so the practitioner sees, before leaving
the home, what the visit will raise; the server runs this one on sync as the authority.
Both must give identical output for the golden cases in ``content/golden/rules``, so the
semantics here are deliberately plain: no short-circuiting, no sorting beyond what is
documented, no clock (due dates count from the visit date).

Evaluation order (and so output order): checklists in content order; within a checklist,
item rules in item order, then checklist rules; each rule once per subject, subjects in the
order given in ``facts.subjects`` (``None`` for rules about the visit as a whole); actions
in the order written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from . import schema as s
from .loader import item_kind

_Key = tuple[str, "str | None", str]


def _answered(a: s.Answer) -> bool:
    return a.value is not None and a.value != "" and a.value != []


def _index(visit: s.Visit) -> dict[_Key, s.Answer]:
    # The last record for a key wins, so a corrected answer later in the list replaces
    # the earlier one; blank answers count as not answered.
    idx: dict[_Key, s.Answer] = {}
    for a in visit.answers:
        key = (a.checklist, a.subject, a.item)
        if _answered(a):
            idx[key] = a
        else:
            idx.pop(key, None)
    return idx


def _is_grade(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _fired(a: s.Answer) -> s.FiredAnswer:
    return s.FiredAnswer(checklist=a.checklist, subject=a.subject, item=a.item, value=a.value)


def is_non_mobile(subject: s.Subject, stages: list[str], confirmed: str | None = None) -> bool:
    """Not independently mobile: by the stage confirmed at this visit, else the person's
    recorded stage, else the older yes/no. Nothing recorded counts as non-mobile for a baby
    under 1, because the bruising protocol must not be missed for want of a tick box."""
    stage = confirmed or subject.mobility
    if stage is not None:
        return stage in stages
    if subject.mobile is None:
        return subject.age_band == "under-1"
    return subject.mobile is False


class _Ctx:
    __slots__ = ("visit", "subject", "checklist", "item")

    def __init__(self, visit: s.Visit, subject: s.Subject | None, checklist: s.Checklist, item: s.Item | None):
        self.visit = visit
        self.subject = subject
        self.checklist = checklist
        self.item = item


class _Engine:
    def __init__(self, content: s.Content, facts: s.Facts):
        self.content = content
        self.params = content.params
        self.facts = facts
        self.visit = facts.visit
        # Earlier visits, most recent first; a later position in the list breaks date ties.
        # Visits dated after this one are ignored so that re-running an old visit gives the
        # answer it gave at the time.
        ordered = [(h.date, i, h) for i, h in enumerate(facts.history) if h.date <= self.visit.date]
        ordered.sort(key=lambda t: (t[0], t[1]), reverse=True)
        self.history = [h for _, _, h in ordered]
        self._indexes: dict[int, dict[_Key, s.Answer]] = {}
        self.items: dict[tuple[str, str], tuple[s.Checklist, s.Item]] = {
            (c.id, i.id): (c, i) for c in content.checklists for i in c.items
        }
        self.children = [x for x in facts.subjects if x.kind == "child"]
        self.stages = content.non_mobile_stages
        self.confirms_mobility = [(c.id, i.id) for c in content.checklists for i in c.items if i.confirms == "mobility"]
        self.carers = [x for x in facts.subjects if x.kind == "carer"]

    def param(self, v: int | str) -> int:
        return self.params[v] if isinstance(v, str) else v

    def answers(self, visit: s.Visit) -> dict[_Key, s.Answer]:
        key = id(visit)
        if key not in self._indexes:
            self._indexes[key] = _index(visit)
        return self._indexes[key]

    def non_mobile_at(self, child: s.Subject, visit: s.Visit) -> bool:
        """By the visit's confirmed mobility (the first confirming item answered), else the record."""
        idx = self.answers(visit)
        for cid, iid in self.confirms_mobility:
            a = idx.get((cid, child.id, iid))
            if a is not None and isinstance(a.value, str):
                return is_non_mobile(child, self.stages, a.value)
        return is_non_mobile(child, self.stages)

    # -- who a rule is evaluated for -----------------------------------------------------
    # Which checklists apply follows the person's record, so that the questions asked do
    # not change under the practitioner while they answer; the rules read today's answer.
    def _child_fits(self, c: s.Checklist, item: s.Item | None, child: s.Subject) -> bool:
        bands = c.applies_to.age_bands
        if bands is not None and child.age_band not in bands:
            if not (c.applies_to.or_non_mobile and is_non_mobile(child, self.stages)):
                return False
        if item is not None and item.age_bands is not None and child.age_band not in item.age_bands:
            return False
        if c.applies_to.non_mobile_only and not is_non_mobile(child, self.stages):
            return False
        return True

    def active(self, c: s.Checklist) -> bool:
        if c.applies_to.age_bands is None and not c.applies_to.non_mobile_only:
            return True
        return any(self._child_fits(c, None, ch) for ch in self.children)

    def subjects_for(self, c: s.Checklist, scope: str, item: s.Item | None) -> list[s.Subject | None]:
        if scope == "visit":
            return [None]
        if scope == "child":
            return [ch for ch in self.children if self._child_fits(c, item, ch)]
        roles = item.carer_roles if item is not None and item.carer_roles is not None else c.applies_to.carer_roles
        return [ca for ca in self.carers if roles is None or ca.role in roles]

    # -- conditions ----------------------------------------------------------------------
    def _targets(self, cond: Any, ctx: _Ctx) -> list[tuple[str, str | None, str]]:
        cid = cond.checklist or ctx.checklist.id
        iid = cond.item if cond.item is not None else ctx.item.id
        if iid == "*":
            c = self.content.checklist(cid)
            items = [i for i in c.items if i.type == "grade"] if c else []
        else:
            found = self.items.get((cid, iid))
            items = [found[1]] if found else []
        out = []
        for it in items:
            c, _ = self.items[(cid, it.id)]
            subject = None if item_kind(c, it) == "visit" else (ctx.subject.id if ctx.subject else None)
            out.append((cid, subject, it.id))
        return out

    def _graded_at_least(self, cond: Any, ctx: _Ctx) -> list[Any]:
        """The target answers graded at or above the condition's threshold, as evidence."""
        threshold = self.param(cond.value)
        idx = self.answers(ctx.visit)
        return [_fired(a) for key in self._targets(cond, ctx)
                if (a := idx.get(key)) is not None and _is_grade(a.value) and a.value >= threshold]

    def _answer(self, cond: Any, ctx: _Ctx) -> s.Answer | None:
        keys = self._targets(cond, ctx)
        return self.answers(ctx.visit).get(keys[0]) if keys else None

    def cond(self, cond: Any, ctx: _Ctx) -> tuple[bool, list[s.FiredAnswer]]:
        if isinstance(cond, s.All):
            results = [self.cond(c, ctx) for c in cond.of]
            if all(ok for ok, _ in results):
                return True, [a for _, ev in results for a in ev]
            return False, []
        if isinstance(cond, s.AnyOf):
            results = [self.cond(c, ctx) for c in cond.of]
            if any(ok for ok, _ in results):
                return True, [a for ok, ev in results if ok for a in ev]
            return False, []
        if isinstance(cond, s.Not):
            ok, _ = self.cond(cond.of, ctx)
            return (not ok), []

        if isinstance(cond, s.Equals):
            a = self._answer(cond, ctx)
            if a is None:
                return False, []
            ok = cond.value in a.value if isinstance(a.value, list) else a.value == cond.value
            return (True, [_fired(a)]) if ok else (False, [])
        if isinstance(cond, s.In):
            a = self._answer(cond, ctx)
            if a is None:
                return False, []
            if isinstance(a.value, list):
                ok = any(v in cond.values for v in a.value)
            else:
                ok = a.value in cond.values
            return (True, [_fired(a)]) if ok else (False, [])
        if isinstance(cond, s.Answered):
            a = self._answer(cond, ctx)
            return (True, [_fired(a)]) if a is not None else (False, [])
        if isinstance(cond, s.EvidenceIs):
            a = self._answer(cond, ctx)
            ok = a is not None and a.evidence == cond.value
            return (True, [_fired(a)]) if ok else (False, [])
        if isinstance(cond, s.GradeAtLeast):
            ev = self._graded_at_least(cond, ctx)
            return bool(ev), ev
        if isinstance(cond, s.CountGrades):
            ev = self._graded_at_least(cond, ctx)
            return (True, ev) if len(ev) >= self.param(cond.at_least) else (False, [])
        if isinstance(cond, s.GradeWorsened):
            floor = self.param(cond.to_at_least) if cond.to_at_least is not None else None
            idx = self.answers(ctx.visit)
            ev = []
            for key in self._targets(cond, ctx):
                a = idx.get(key)
                if a is None or not _is_grade(a.value):
                    continue
                for h in self.history:
                    prev = self.answers(h).get(key)
                    if prev is not None and _is_grade(prev.value):
                        if a.value > prev.value and (floor is None or a.value >= floor):
                            ev.append(_fired(a))
                        break
            return bool(ev), ev

        if isinstance(cond, s.SubjectIs):
            sub = ctx.subject
            if sub is None:
                return False, []
            if cond.protection_plan is not None and sub.protection_plan != cond.protection_plan:
                return False, []
            if cond.non_mobile is not None and (sub.kind != "child" or self.non_mobile_at(sub, ctx.visit) != cond.non_mobile):
                return False, []
            if cond.age_bands is not None and sub.age_band not in cond.age_bands:
                return False, []
            if cond.roles is not None and sub.role not in cond.roles:
                return False, []
            return True, []
        if isinstance(cond, s.VisitIs):
            v = ctx.visit
            if cond.no_access is not None and v.no_access != cond.no_access:
                return False, []
            if cond.types is not None and v.type not in cond.types:
                return False, []
            return True, []
        if isinstance(cond, s.CountVisits):
            window = self.param(cond.within_days)
            need = self.param(cond.at_least)
            count = 0
            for v in [self.visit, *self.history]:
                age = (self.visit.date - v.date).days
                if 0 <= age < window:
                    ok, _ = self.cond(cond.where, _Ctx(v, ctx.subject, ctx.checklist, ctx.item))
                    count += 1 if ok else 0
            return count >= need, []
        if isinstance(cond, s.NotSeenInLast):
            n = self.param(cond.visits)
            visits = ([] if self.visit.no_access else [self.visit]) + [h for h in self.history if not h.no_access]
            if ctx.subject is None or len(visits) < n:
                return False, []
            return all(ctx.subject.id not in v.seen for v in visits[:n]), []
        raise TypeError(f"unknown condition {cond!r}")  # pragma: no cover

    # -- running ---------------------------------------------------------------------------
    def run(self) -> s.Outcome:
        out = s.Outcome()
        for c in self.content.checklists:
            if not self.active(c):
                continue
            for item in c.items:
                for r in item.rules:
                    self.fire(out, c, item, r, r.per or item_kind(c, item))
            for r in c.rules:
                self.fire(out, c, None, r, r.per or c.applies_to.subject)
        return out

    def fire(self, out: s.Outcome, c: s.Checklist, item: s.Item | None, r: s.Rule, scope: str) -> None:
        for sub in self.subjects_for(c, scope, item):
            ok, ev = self.cond(r.when, _Ctx(self.visit, sub, c, item))
            if not ok:
                continue
            seen: set[tuple[str, str | None, str]] = set()
            answers = []
            for a in ev:
                key = (a.checklist, a.subject, a.item)
                if key not in seen:
                    seen.add(key)
                    answers.append(a)
            sid = sub.id if sub is not None else None
            for act in r.then:
                if isinstance(act, s.FollowUpAction):
                    days = self.param(act.due_in_days)
                    due = (self.visit.date + dt.timedelta(days=days)).isoformat()
                    out.follow_ups.append(
                        s.FollowUp(rule=r.id, checklist=c.id, subject=sid, assignee=act.assignee,
                                   due_in_days=days, due=due, text=act.text)
                    )
                else:
                    out.flags.append(
                        s.Flag(rule=r.id, checklist=c.id, subject=sid, severity=act.severity,
                               reason=act.reason, answers=list(answers))
                    )


def evaluate(content: s.Content, facts: s.Facts | dict) -> s.Outcome:
    """Run every rule in `content` against `facts` (a Facts Struct or the equivalent dict)."""
    if not isinstance(facts, s.Facts):
        facts = msgspec.convert(facts, s.Facts)
    return _Engine(content, facts).run()


def with_params(content: s.Content, overrides: dict[str, int]) -> s.Content:
    """The same content with some per-agency params changed (used by golden cases)."""
    if not overrides:
        return content
    return msgspec.structs.replace(content, params={**content.params, **overrides})


def project(outcome: s.Outcome) -> dict:
    """The part of an outcome that golden cases pin down (the wording lives in the rules)."""
    return {
        "follow_ups": [
            {"rule": f.rule, "subject": f.subject, "assignee": f.assignee, "due_in_days": f.due_in_days}
            for f in outcome.follow_ups
        ],
        "flags": [
            {"rule": f.rule, "subject": f.subject, "severity": f.severity,
             "answers": [msgspec.to_builtins(a) for a in f.answers]}
            for f in outcome.flags
        ],
    }
