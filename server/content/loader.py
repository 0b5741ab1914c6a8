"""Load and validate the content folder.

Agencies edit YAML by hand, so every problem is reported with the file, the checklist, the
item (and rule) and what is wrong, and all problems are collected in one pass rather than
stopping at the first.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import msgspec
import yaml

from . import schema as s

CHECKLISTS_DIR = "checklists"
GOLDEN_RULES_DIR = "golden/rules"
GOLDEN_RECORDING_FILE = "golden/recording.yaml"
SETTINGS_FILE = "settings.yaml"
RECORDING_FILE = "recording.yaml"


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    checklist: str | None = None
    item: str | None = None
    rule: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.checklist:
            where.append(f"checklist '{self.checklist}'")
        if self.item:
            where.append(f"item '{self.item}'")
        if self.rule:
            where.append(f"rule '{self.rule}'")
        return f"{', '.join(where)}: {self.message}"


class ContentError(Exception):
    """Invalid content. `problems` lists each one; str() gives one line per problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# ---------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _read_yaml(path: Path, root: Path, problems: list[Problem]) -> Any:
    rel = _rel(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(rel, f"cannot read file: {exc}"))
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        problems.append(Problem(rel, f"invalid YAML{at}: {problem}"))
        return None


_PATH_RE = re.compile(r" - at `(\$[^`]*)`$")
_STEP_RE = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _locate(raw: Any, path: str) -> tuple[str | None, str | None]:
    """Map a msgspec error path such as `$.items[3].rules[0].when` to (item id, rule id)."""
    item = rule = None
    node = raw
    steps = _STEP_RE.findall(path)
    prev_key = None
    for key, index in steps:
        if key:
            prev_key = key
            node = node.get(key) if isinstance(node, dict) else None
        else:
            i = int(index)
            node = node[i] if isinstance(node, list) and i < len(node) else None
            label = node.get("id") if isinstance(node, dict) and isinstance(node.get("id"), str) else f"#{i + 1}"
            if prev_key == "items" and item is None:
                item = label
            elif prev_key == "rules" and rule is None:
                rule = label
    return item, rule


def _convert(raw: Any, typ: type, rel: str, problems: list[Problem], checklist: str | None = None) -> Any:
    try:
        return msgspec.convert(raw, typ)
    except msgspec.ValidationError as exc:
        msg = str(exc)
        m = _PATH_RE.search(msg)
        item = rule = None
        if m:
            item, rule = _locate(raw, m.group(1))
        if "got `bool`" in msg:
            # YAML 1.1 reads bare yes/no/on/off as booleans, a classic trap in hand-written files.
            msg += ' (YAML reads unquoted yes/no as true/false: write "yes" or "no" in quotes)'
        problems.append(Problem(rel, msg, checklist=checklist, item=item, rule=rule))
        return None


# ---------------------------------------------------------------------------------------
# Semantic checks
# ---------------------------------------------------------------------------------------


def item_kind(checklist: s.Checklist, item: s.Item) -> str:
    """Whom an item's answers are about: child, carer or visit."""
    return item.subject or checklist.applies_to.subject


def allowed_values(item: s.Item) -> tuple[str, ...] | None:
    if item.type == "yes-no":
        return s.YES_NO_VALUES
    if item.type == "seen-told":
        return s.SEEN_TOLD_VALUES
    if item.type in ("single-choice", "multi-choice"):
        return tuple(c.id for c in item.choices)
    return None


class _Validator:
    def __init__(self, settings: s.Settings, params: dict[str, int], checklists: dict[str, tuple[str, s.Checklist]]):
        self.settings = settings
        self.params = params
        self.checklists = checklists
        self.problems: list[Problem] = []
        self.max_grade = max((g.grade for g in settings.grade_scale), default=0)

    def add(self, rel: str, c: s.Checklist, message: str, item: str | None = None, rule: str | None = None) -> None:
        self.problems.append(Problem(rel, message, checklist=c.id, item=item, rule=rule))

    # -- settings -----------------------------------------------------------------------
    def settings_problems(self) -> None:
        grades = [g.grade for g in self.settings.grade_scale]
        if grades != list(range(1, len(grades) + 1)) or len(grades) < 2:
            self.problems.append(
                Problem(SETTINGS_FILE, f"grade_scale must list grades 1..N in order (N >= 2), got {grades}")
            )

    # -- checklists ---------------------------------------------------------------------
    def checklist(self, rel: str, c: s.Checklist, rule_ids: dict[str, str]) -> None:
        at = c.applies_to
        if at.age_bands is not None and not at.age_bands:
            self.add(rel, c, "applies_to.age_bands is empty; leave it out to mean every child")
        if at.asked_at != "no-access" and at.subject != "visit":
            self.add(rel, c, "applies_to.asked_at is only for a visit checklist")
        if (at.non_mobile_only or at.or_non_mobile) and at.subject != "child":
            self.add(rel, c, "applies_to.non_mobile_only only makes sense for a child checklist")
        self._roles(rel, c, at.carer_roles, "applies_to.carer_roles")
        if at.carer_roles is not None and at.subject != "carer":
            self.add(rel, c, "applies_to.carer_roles is only for a carer checklist")

        section_ids = [sec.id for sec in c.sections]
        for dup in _dups(section_ids):
            self.add(rel, c, f"duplicate section id '{dup}'")
        for dup in _dups(i.id for i in c.items):
            self.add(rel, c, "duplicate item id", item=dup)

        for item in c.items:
            self.item(rel, c, item, section_ids)

        for item in c.items:
            kind = item_kind(c, item)
            for r in item.rules:
                if r.per is not None and r.per != kind:
                    self.add(rel, c, f"rule per '{r.per}' differs from the item's subject '{kind}'", item.id, r.id)
                self.rule(rel, c, r, kind, item, rule_ids)
        for r in c.rules:
            self.rule(rel, c, r, r.per or at.subject, None, rule_ids)

    def _roles(self, rel: str, c: s.Checklist, roles: list[str] | None, field: str, item: str | None = None) -> None:
        for role in roles or []:
            if role not in self.settings.carer_roles:
                self.add(rel, c, f"{field}: unknown carer role '{role}' (settings.yaml carer_roles: {', '.join(self.settings.carer_roles)})", item)

    def item(self, rel: str, c: s.Checklist, item: s.Item, section_ids: list[str]) -> None:
        iid = item.id
        if item.section is not None and item.section not in section_ids:
            self.add(rel, c, f"unknown section '{item.section}'", iid)
        if c.sections and item.section is None:
            self.add(rel, c, "item has no section although the checklist defines sections", iid)
        kind = item_kind(c, item)
        if c.applies_to.subject == "visit" and kind != "visit":
            self.add(rel, c, f"a visit checklist cannot hold a '{kind}' item", iid)
        if c.applies_to.subject == "carer" and kind == "child":
            self.add(rel, c, "a carer checklist cannot hold a child item", iid)
        if item.age_bands is not None:
            if kind != "child":
                self.add(rel, c, "age_bands is only for child items", iid)
            allowed = c.applies_to.age_bands
            for band in item.age_bands:
                if allowed is not None and band not in allowed:
                    self.add(rel, c, f"age band '{band}' is not among the checklist's ({', '.join(allowed)})", iid)
        if item.carer_roles is not None and kind != "carer":
            self.add(rel, c, "carer_roles is only for carer items", iid)
        self._roles(rel, c, item.carer_roles, "carer_roles", iid)

        if item.type in ("single-choice", "multi-choice"):
            if len(item.choices) < 2:
                self.add(rel, c, f"a {item.type} item needs at least 2 choices", iid)
            for dup in _dups(ch.id for ch in item.choices):
                self.add(rel, c, f"duplicate choice id '{dup}'", iid)
        elif item.choices:
            self.add(rel, c, f"choices are not allowed on a {item.type} item (its values are fixed)", iid)

        if item.type == "grade":
            got = sorted(g.grade for g in item.grades)
            want = list(range(1, self.max_grade + 1))
            if got != want:
                missing = [g for g in want if g not in got]
                extra = [g for g in got if g not in want]
                detail = []
                if missing:
                    detail.append(f"missing a descriptor for grade {', '.join(map(str, missing))}")
                if extra:
                    detail.append(f"grade {', '.join(map(str, extra))} is outside the scale 1-{self.max_grade}")
                if len(set(got)) != len(got):
                    detail.append("a grade is described twice")
                self.add(rel, c, f"grade item must describe each grade 1-{self.max_grade}: {'; '.join(detail)}", iid)
        elif item.grades:
            self.add(rel, c, f"grades are only allowed on a grade item, not {item.type}", iid)

        if item.required_first_contacts is not None:
            if not item.required:
                self.add(rel, c, "required_first_contacts only qualifies a required item", iid)
            n = self.param(rel, c, item.required_first_contacts, "required_first_contacts", iid, None)
            if n == 0:
                self.add(rel, c, "required_first_contacts must be at least 1", iid)
        if item.type == "number":
            if not item.unit:
                self.add(rel, c, "a number item names its unit (e.g. kg, cm)", iid)
            if item.minimum is not None and item.maximum is not None and item.minimum >= item.maximum:
                self.add(rel, c, "minimum must be below maximum", iid)
        elif item.unit or item.minimum is not None or item.maximum is not None:
            self.add(rel, c, "unit, minimum and maximum are only for a number item", iid)
        if item.records is not None and item.type not in ("free-text", "child-words"):
            self.add(rel, c, "records (observation kind) is only for free-text or child-words items", iid)
        if item.type == "child-words" and item.records not in (None, "child-words"):
            self.add(rel, c, "a child-words item records the child's own words", iid)

        if item.show_if is not None:
            self.condition(rel, c, item.show_if, kind, item, iid, None, in_count=False, show_if=True)
        if item.confirms == "mobility":
            if kind != "child" or item.type != "single-choice":
                self.add(rel, c, "an item that confirms mobility is a single-choice item about a child", iid)
            elif tuple(ch.id for ch in item.choices) != s.MOBILITY_VALUES:
                self.add(rel, c, f"an item that confirms mobility offers the model's stages in order: {', '.join(s.MOBILITY_VALUES)}", iid)

    def rule(self, rel: str, c: s.Checklist, r: s.Rule, scope: str, item: s.Item | None, rule_ids: dict[str, str]) -> None:
        iid = item.id if item else None
        if r.id in rule_ids:
            self.add(rel, c, f"duplicate rule id (also in {rule_ids[r.id]})", iid, r.id)
        else:
            rule_ids[r.id] = f"{rel} checklist '{c.id}'"
        self.condition(rel, c, r.when, scope, item, iid, r.id, in_count=False, show_if=False)
        for a in r.then:
            if isinstance(a, s.FollowUpAction):
                if a.assignee not in self.settings.assignees:
                    self.add(rel, c, f"unknown assignee '{a.assignee}' (settings.yaml assignees: {', '.join(self.settings.assignees)})", iid, r.id)
                self.param(rel, c, a.due_in_days, "due_in_days", iid, r.id)

    def param(self, rel: str, c: s.Checklist, v: int | str, field: str, iid: str | None, rid: str | None) -> int | None:
        if isinstance(v, str):
            if v not in self.params:
                self.add(rel, c, f"{field}: unknown param '{v}' (settings.yaml params: {', '.join(sorted(self.params))})", iid, rid)
                return None
            return self.params[v]
        return v

    def condition(self, rel: str, c: s.Checklist, cond: Any, scope: str, item: s.Item | None,
                  iid: str | None, rid: str | None, *, in_count: bool, show_if: bool) -> None:
        def bad(msg: str) -> None:
            self.add(rel, c, msg, iid, rid)

        op = type(cond).__struct_config__.tag
        if isinstance(cond, (s.All, s.AnyOf)):
            for sub in cond.of:
                self.condition(rel, c, sub, scope, item, iid, rid, in_count=in_count, show_if=show_if)
            return
        if isinstance(cond, s.Not):
            self.condition(rel, c, cond.of, scope, item, iid, rid, in_count=in_count, show_if=show_if)
            return
        if show_if and not isinstance(cond, s.ANSWER_CONDITIONS):
            bad(f"show_if may only test answers, not '{op}'")
            return
        if in_count and isinstance(cond, s.HISTORY_CONDITIONS):
            bad(f"'{op}' cannot be used inside count_visits.where")
            return

        if isinstance(cond, s.ANSWER_CONDITIONS):
            target_id = cond.checklist or c.id
            if show_if and target_id != c.id:
                bad("show_if may only refer to items of the same checklist")
                return
            found = self.checklists.get(target_id)
            if found is None:
                bad(f"{op}: unknown checklist '{target_id}'")
                return
            target = found[1]
            ref = cond.item if cond.item is not None else (item.id if item is not None else None)
            if ref is None:
                bad(f"{op}: say which item (a checklist rule has no item of its own)")
                return
            if ref == "*":
                if not isinstance(cond, (s.GradeAtLeast, s.GradeWorsened, s.CountGrades)):
                    bad(f"{op}: item '*' is only for grade conditions")
                    return
                refs = [i for i in target.items if i.type == "grade"]
                if not refs:
                    bad(f"{op}: checklist '{target_id}' has no graded items for item '*'")
                    return
            else:
                refs = [i for i in target.items if i.id == ref][:1]
                if not refs:
                    where = "" if target_id == c.id else f" in checklist '{target_id}'"
                    bad(f"{op}: refers to unknown item '{ref}'{where}")
                    return
            for ref_item in refs:
                kind = item_kind(target, ref_item)
                if kind not in (scope, "visit"):
                    bad(f"{op}: item '{ref_item.id}' is about a {kind}, but the rule is evaluated per {scope}")
                    return
                self.answer_condition(cond, op, ref_item, bad)
            return

        if isinstance(cond, s.SubjectIs):
            if scope == "visit":
                bad("subject: a rule evaluated per visit has no subject")
            if cond.roles is not None:
                if scope != "carer":
                    bad("subject.roles is only for rules evaluated per carer")
                for role in cond.roles:
                    if role not in self.settings.carer_roles:
                        bad(f"subject: unknown carer role '{role}'")
            if scope == "carer" and (cond.protection_plan is not None or cond.age_bands is not None):
                bad("subject.protection_plan and age_bands are only for rules evaluated per child")
            return
        if isinstance(cond, s.VisitIs):
            for t in cond.types or []:
                if t not in self.settings.visit_types:
                    bad(f"visit: unknown visit type '{t}' (settings.yaml visit_types: {', '.join(self.settings.visit_types)})")
            return
        if isinstance(cond, s.CountVisits):
            self.param(rel, c, cond.within_days, "count_visits.within_days", iid, rid)
            n = self.param(rel, c, cond.at_least, "count_visits.at_least", iid, rid)
            if n == 0:
                bad("count_visits.at_least must be at least 1")
            self.condition(rel, c, cond.where, scope, item, iid, rid, in_count=True, show_if=False)
            return
        if isinstance(cond, s.NotSeenInLast):
            if scope == "visit":
                bad("not_seen_in_last needs a person: evaluate the rule per child or per carer")
            n = self.param(rel, c, cond.visits, "not_seen_in_last.visits", iid, rid)
            if n == 0:
                bad("not_seen_in_last.visits must be at least 1")
            return
        bad(f"unsupported condition '{op}'")  # pragma: no cover - the union is closed

    def answer_condition(self, cond: Any, op: str, ref_item: s.Item, bad) -> None:
        if isinstance(cond, (s.Equals, s.In)):
            allowed = allowed_values(ref_item)
            if allowed is None:
                bad(f"{op}: item '{ref_item.id}' is {ref_item.type}; only choice items can be compared with values")
                return
            values = [cond.value] if isinstance(cond, s.Equals) else cond.values
            for v in values:
                if v not in allowed:
                    bad(f"{op}: value '{v}' is not a choice of item '{ref_item.id}' (choices: {', '.join(allowed)})")
        elif isinstance(cond, s.EvidenceIs):
            if not ref_item.ask_seen_or_told:
                bad(f"evidence: item '{ref_item.id}' does not ask whether it was seen or told (set ask_seen_or_told: true)")
        elif isinstance(cond, (s.GradeAtLeast, s.GradeWorsened, s.CountGrades)):
            if ref_item.type != "grade":
                bad(f"{op}: item '{ref_item.id}' is {ref_item.type}, not grade")
                return
            if isinstance(cond, s.CountGrades):
                n = self.params.get(cond.at_least, None) if isinstance(cond.at_least, str) else cond.at_least
                if n is None:
                    bad(f"{op}: unknown param '{cond.at_least}'")
                elif n < 1:
                    bad(f"{op}: at_least must be at least 1")
            v = cond.value if isinstance(cond, (s.GradeAtLeast, s.CountGrades)) else cond.to_at_least
            if v is not None:
                if isinstance(v, str):
                    if v not in self.params:
                        bad(f"{op}: unknown param '{v}'")
                        return
                    v = self.params[v]
                if not 1 <= v <= self.max_grade:
                    bad(f"{op}: grade {v} is outside the scale 1-{self.max_grade}")


def _dups(ids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    dups: list[str] = []
    for i in ids:
        if i in seen and i not in dups:
            dups.append(i)
        seen.add(i)
    return dups


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def content_files(content_dir: Path) -> list[Path]:
    """The files that make up the served content (and so its version), in a stable order."""
    files = [content_dir / SETTINGS_FILE, content_dir / RECORDING_FILE]
    files += sorted((content_dir / CHECKLISTS_DIR).glob("*.yaml"))
    return [f for f in files if f.is_file()]


def content_version(content_dir: Path, release: str = "") -> str:
    h = hashlib.sha256()
    for f in content_files(content_dir):
        h.update(_rel(f, content_dir).encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    digest = h.hexdigest()[:16]
    return f"{release}+{digest}" if release else digest


def load_content(content_dir: Path) -> s.Content:
    """Load every checklist, the settings and the recording prompts, or raise ContentError."""
    content_dir = Path(content_dir)
    problems: list[Problem] = []
    if not (content_dir / CHECKLISTS_DIR).is_dir():
        raise ContentError([Problem(_rel(content_dir / CHECKLISTS_DIR, content_dir), "folder not found")])

    settings = s.Settings()
    sp = content_dir / SETTINGS_FILE
    if sp.is_file():
        raw = _read_yaml(sp, content_dir, problems)
        if raw is not None:
            settings = _convert(raw, s.Settings, SETTINGS_FILE, problems) or settings
    params = {**s.DEFAULT_PARAMS, **settings.params}

    # Without recording.yaml there are simply no recording prompts.
    recording = s.Recording()
    rp = content_dir / RECORDING_FILE
    if rp.is_file():
        raw = _read_yaml(rp, content_dir, problems)
        if raw is not None:
            recording = _convert(raw, s.Recording, RECORDING_FILE, problems) or recording
            for dup in _dups(p.id for p in recording.phrases):
                problems.append(Problem(RECORDING_FILE, f"duplicate phrase id '{dup}'"))

    checklists: dict[str, tuple[str, s.Checklist]] = {}
    files = sorted((content_dir / CHECKLISTS_DIR).glob("*.yaml"))
    if not files:
        problems.append(Problem(CHECKLISTS_DIR, "no checklist files (*.yaml) found"))
    for f in files:
        rel = _rel(f, content_dir)
        raw = _read_yaml(f, content_dir, problems)
        if raw is None:
            if not any(p.file == rel for p in problems):
                problems.append(Problem(rel, "file is empty"))
            continue
        if not isinstance(raw, dict):
            problems.append(Problem(rel, f"expected one checklist (a mapping), got {type(raw).__name__}"))
            continue
        cid = raw.get("id") if isinstance(raw.get("id"), str) else None
        c = _convert(raw, s.Checklist, rel, problems, checklist=cid)
        if c is None:
            continue
        if c.id in checklists:
            problems.append(Problem(rel, f"duplicate checklist id (also in {checklists[c.id][0]})", checklist=c.id))
            continue
        checklists[c.id] = (rel, c)

    v = _Validator(settings, params, checklists)
    v.settings_problems()
    rule_ids: dict[str, str] = {}
    for rel, c in checklists.values():
        v.checklist(rel, c, rule_ids)
    problems += v.problems
    if problems:
        raise ContentError(problems)

    return s.Content(
        version=content_version(content_dir, settings.release),
        agency=settings.agency,
        params=params,
        grade_scale=settings.grade_scale,
        carer_roles=settings.carer_roles,
        assignees=settings.assignees,
        visit_types=settings.visit_types,
        checklists=[c for _, c in checklists.values()],
        recording=recording,
        non_mobile_stages=settings.non_mobile_stages,
    )


def all_rules(content: s.Content) -> list[tuple[s.Checklist, s.Item | None, s.Rule]]:
    """Every rule in evaluation order: per checklist, item rules first (item order), then checklist rules."""
    out = []
    for c in content.checklists:
        for item in c.items:
            for r in item.rules:
                out.append((c, item, r))
        for r in c.rules:
            out.append((c, None, r))
    return out


def load_golden(content_dir: Path) -> list[tuple[str, s.GoldenCase]]:
    content_dir = Path(content_dir)
    problems: list[Problem] = []
    cases: list[tuple[str, s.GoldenCase]] = []
    for f in sorted((content_dir / GOLDEN_RULES_DIR).glob("*.yaml")):
        rel = _rel(f, content_dir)
        raw = _read_yaml(f, content_dir, problems)
        if raw is None:
            continue
        gf = _convert(raw, s.GoldenFile, rel, problems)
        if gf is not None:
            cases += [(rel, c) for c in gf.cases]
    for dup in _dups(c.id for _, c in cases):
        problems.append(Problem(GOLDEN_RULES_DIR, f"duplicate golden case id '{dup}'"))
    if problems:
        raise ContentError(problems)
    return cases


def load_recording_cases(content_dir: Path) -> list[s.RecordingCase]:
    content_dir = Path(content_dir)
    f = content_dir / GOLDEN_RECORDING_FILE
    if not f.is_file():
        return []
    problems: list[Problem] = []
    raw = _read_yaml(f, content_dir, problems)
    rf = _convert(raw, s.RecordingGoldenFile, GOLDEN_RECORDING_FILE, problems) if raw is not None else None
    if problems:
        raise ContentError(problems)
    return rf.cases if rf else []


def answer_problems(content: s.Content, facts: s.Facts) -> list[str]:
    """Answers that do not fit the content: unknown checklist, item or subject, or a value
    the item cannot take. Answers recorded against an older checklist version are checked
    only for shape, since their items may since have changed."""
    out: list[str] = []
    subject_ids = {sub.id for sub in facts.subjects}
    for label, visit in [("visit", facts.visit)] + [(f"history visit '{h.id}'", h) for h in facts.history]:
        for a in visit.answers:
            where = f"{label}: answer {a.checklist}/{a.item} for {a.subject}"
            c = content.checklist(a.checklist)
            if c is None:
                out.append(f"{where}: unknown checklist")
                continue
            if a.version is not None and a.version != c.version:
                continue
            item = next((i for i in c.items if i.id == a.item), None)
            if item is None:
                out.append(f"{where}: unknown item")
                continue
            kind = item_kind(c, item)
            if kind == "visit":
                if a.subject is not None:
                    out.append(f"{where}: a visit item's answer has subject null")
            elif a.subject not in subject_ids:
                out.append(f"{where}: unknown subject")
            v = a.value
            if v is None or v == "" or v == []:
                continue  # blank: clears an earlier answer
            allowed = allowed_values(item)
            if item.type == "multi-choice":
                if not isinstance(v, list) or any(x not in allowed for x in v):
                    out.append(f"{where}: value {v!r} is not a list of choices ({', '.join(allowed)})")
            elif allowed is not None:
                if v not in allowed:
                    out.append(f"{where}: value {v!r} is not one of {', '.join(allowed)}")
            elif item.type == "grade":
                if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= len(content.grade_scale):
                    out.append(f"{where}: grade {v!r} is outside 1-{len(content.grade_scale)}")
            elif item.type == "number":
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    out.append(f"{where}: expected a number, got {v!r}")
                elif (item.minimum is not None and v < item.minimum) or (item.maximum is not None and v > item.maximum):
                    out.append(f"{where}: {v!r} is outside {item.minimum}-{item.maximum} {item.unit}")
            elif not isinstance(v, str):
                out.append(f"{where}: expected text, got {v!r}")
    return out
