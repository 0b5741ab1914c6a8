"""Types for Hearthside content: checklists, rules, settings, recording prompts, golden cases,
and the facts / outcome shapes the rule engines exchange.

Agencies author YAML; the loader converts it into these Structs with ``msgspec.convert`` so
that every file is checked against one definition. The same definitions generate
``content/schema.json`` (see ``content_json_schema``), which editors can use for completion.
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Any, Literal, Union

import msgspec
from msgspec import Meta, Struct

from sync import model as _model

# Ids are kebab-case so that they read well in URLs, records and golden cases, and never
# need quoting in YAML. They are stable: responses and history refer to them for years.
Id = Annotated[
    str,
    Meta(
        pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
        max_length=64,
        description="stable kebab-case id, e.g. sleep-place-night",
    ),
]
Text = Annotated[str, Meta(min_length=1)]
IdOrAll = Annotated[
    str,
    Meta(pattern=r"^(\*|[a-z0-9]+(-[a-z0-9]+)*)$", max_length=64, description='an item id, or "*" for every graded item'),
]
# A parameter reference names a per-agency setting (settings.yaml `params`), so that
# thresholds such as the no-access count live in one place and differ by agency.
ParamName = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]*$", description="name of a param in settings.yaml")]
IntOrParam = Union[Annotated[int, Meta(ge=0)], ParamName]

AgeBand = Literal["unborn", "under-1", "under-5", "school-age"]
AGE_BANDS: tuple[str, ...] = ("unborn", "under-1", "under-5", "school-age")
SubjectKind = Literal["child", "carer", "visit"]
AnswerType = Literal[
    "yes-no",  # yes / no / not-known
    "single-choice",
    "multi-choice",
    "grade",  # 1..N with a descriptor per grade; higher means more concern
    "free-text",
    "child-words",  # the child's own words, verbatim
    "seen-told",  # seen / told
    "number",  # a measurement (weight, length), in the item's `unit`
]
# The synced model's vocabularies (sync.model), not a copy: content names the same values.
OBSERVATION_KINDS: tuple[str, ...] = _model.ENTITIES["observation"].field("kind").values  # type: ignore[union-attr]
ObservationKind = Literal[OBSERVATION_KINDS]  # type: ignore[valid-type]
Severity = Literal[_model.ENTITIES["flag"].field("severity").values]  # type: ignore[union-attr,valid-type]
SEEN_TOLD_VALUES: tuple[str, ...] = _model.ENTITIES["checklist_response"].field("seen_or_told").values  # type: ignore[union-attr]
Evidence = Literal[SEEN_TOLD_VALUES]  # type: ignore[valid-type]
VISIT_TYPES: tuple[str, ...] = _model.ENTITIES["visit"].field("type").values  # type: ignore[union-attr]
MOBILITY_VALUES: tuple[str, ...] = _model.ENTITIES["person"].field("mobility").values  # type: ignore[union-attr]
Mobility = Literal[MOBILITY_VALUES]  # type: ignore[valid-type]

YES_NO_VALUES: tuple[str, ...] = ("yes", "no", "not-known")
CHOICE_TYPES: frozenset[str] = frozenset({"yes-no", "single-choice", "multi-choice", "seen-told"})


class _Base(Struct, forbid_unknown_fields=True, kw_only=True):
    pass


# ---------------------------------------------------------------------------------------
# Conditions: a tiny declarative language. Each condition is evaluated for one subject
# (a child, a carer, or the visit as a whole) in the context of one visit.
# ---------------------------------------------------------------------------------------


class _Cond(_Base, tag_field="op"):
    pass


class Equals(_Cond, tag="equals", kw_only=True):
    """The answer is `value` (for multi-choice: `value` is among those selected)."""

    checklist: Id | None = None
    item: Id | None = None
    value: Text


class In(_Cond, tag="in", kw_only=True):
    """The answer is one of `values` (for multi-choice: any of them is selected)."""

    checklist: Id | None = None
    item: Id | None = None
    values: Annotated[list[Text], Meta(min_length=1)]


class Answered(_Cond, tag="answered", kw_only=True):
    """There is a non-empty answer."""

    checklist: Id | None = None
    item: Id | None = None


class EvidenceIs(_Cond, tag="evidence", kw_only=True):
    """The practitioner recorded that they `seen` it themselves or were only `told`."""

    checklist: Id | None = None
    item: Id | None = None
    value: Evidence


class GradeAtLeast(_Cond, tag="grade_at_least", kw_only=True):
    """A graded answer is at least `value`; `item: "*"` means any graded item in the checklist."""

    checklist: Id | None = None
    item: IdOrAll | None = None
    value: IntOrParam


class GradeWorsened(_Cond, tag="grade_worsened", kw_only=True):
    """A grade is higher (worse) than the last time it was graded for this subject; with
    `to_at_least`, only a change that reaches that grade counts (1 -> 2 is not a picture)."""

    checklist: Id | None = None
    item: IdOrAll | None = None
    to_at_least: IntOrParam | None = None


class CountGrades(_Cond, tag="count_grades", kw_only=True):
    """At least `at_least` graded items (`item: "*"`: every graded item of the checklist)
    are at grade `value` or worse at the visit (inside count_visits: the visit counted)."""

    checklist: Id | None = None
    item: IdOrAll | None = None
    value: IntOrParam
    at_least: IntOrParam


class SubjectIs(_Cond, tag="subject", kw_only=True):
    """Facts about the subject the rule is evaluated for. `non_mobile`: the child is not
    independently mobile, by the mobility confirmed at this visit (an item that `confirms:
    mobility`), else the person's recorded mobility (settings.yaml non_mobile_stages)."""

    protection_plan: bool | None = None
    non_mobile: bool | None = None
    age_bands: list[AgeBand] | None = None
    roles: list[Id] | None = None


class VisitIs(_Cond, tag="visit", kw_only=True):
    """Facts about the visit (this one, or the one being counted inside count_visits)."""

    no_access: bool | None = None
    types: list[Id] | None = None


class CountVisits(_Cond, tag="count_visits", kw_only=True):
    """At least `at_least` visits (this one included) within `within_days` days where `where` holds."""

    within_days: IntOrParam
    at_least: IntOrParam
    where: Condition


class NotSeenInLast(_Cond, tag="not_seen_in_last", kw_only=True):
    """The subject was not seen at any of the last `visits` visits at which the family was seen."""

    visits: IntOrParam


class All(_Cond, tag="all", kw_only=True):
    of: Annotated[list[Condition], Meta(min_length=1)]


class AnyOf(_Cond, tag="any", kw_only=True):
    of: Annotated[list[Condition], Meta(min_length=1)]


class Not(_Cond, tag="not", kw_only=True):
    of: Condition


Condition = Union[
    Equals,
    In,
    Answered,
    EvidenceIs,
    GradeAtLeast,
    GradeWorsened,
    CountGrades,
    SubjectIs,
    VisitIs,
    CountVisits,
    NotSeenInLast,
    All,
    AnyOf,
    Not,
]
ANSWER_CONDITIONS = (Equals, In, Answered, EvidenceIs, GradeAtLeast, GradeWorsened, CountGrades)
HISTORY_CONDITIONS = (CountVisits, NotSeenInLast, GradeWorsened)


# ---------------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------------


class _Action(_Base, tag_field="action"):
    pass


class FollowUpAction(_Action, tag="follow_up", kw_only=True):
    assignee: Id
    due_in_days: IntOrParam
    text: Text


class FlagAction(_Action, tag="flag", kw_only=True):
    severity: Severity
    reason: Text


Action = Union[FollowUpAction, FlagAction]


class Rule(_Base, kw_only=True):
    id: Id
    # Whom the rule is evaluated for. Item rules default to the item's subject, checklist
    # rules to the checklist's subject.
    per: SubjectKind | None = None
    description: str = ""
    when: Condition
    then: Annotated[list[Action], Meta(min_length=1)]


# ---------------------------------------------------------------------------------------
# Checklists
# ---------------------------------------------------------------------------------------


class Choice(_Base, kw_only=True):
    id: Id
    label: Text
    guidance: str = ""


class GradeDescriptor(_Base, kw_only=True):
    grade: int
    descriptor: Text


class Item(_Base, kw_only=True):
    id: Id
    prompt: Text
    guidance: Text
    source: Text
    type: AnswerType
    required: bool = False
    # Required only while the subject has been seen at fewer than this many earlier visits
    # (the first contacts): later, advice is checked for understanding and change, not
    # re-required by rote. A per-agency param name or a number.
    required_first_contacts: IntOrParam | None = None
    section: Id | None = None
    choices: list[Choice] = []
    grades: list[GradeDescriptor] = []
    # Per-item subject, e.g. per-carer advice inside a checklist about the baby.
    subject: SubjectKind | None = None
    age_bands: list[AgeBand] | None = None
    carer_roles: list[Id] | None = None
    # Ask the practitioner whether they saw this themselves or were told it.
    ask_seen_or_told: bool = False
    note_prompt: str = ""
    # For free text: what kind of observation the text is recorded as.
    records: ObservationKind | None = None
    # For a number: the unit it is recorded in, and the plausible range the phone accepts.
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    # Only ask when this condition on answers in the same checklist holds.
    show_if: Condition | None = None
    # The answer confirms a fact about the child for this visit, overriding the person's
    # record for the rules (its choices are the model's values for that fact).
    confirms: Literal["mobility"] | None = None
    rules: list[Rule] = []


class Section(_Base, kw_only=True):
    id: Id
    title: Text
    guidance: str = ""
    source: str = ""


class AppliesTo(_Base, kw_only=True):
    subject: SubjectKind
    # The checklist is used when the family has a child in one of these bands; for a child
    # checklist, it is completed for each such child.
    age_bands: list[AgeBand] | None = None
    non_mobile_only: bool = False
    # Also for a child of any age band whose recorded mobility is not independent (a
    # disabled older child): the bruising protocol follows mobility, not age.
    or_non_mobile: bool = False
    carer_roles: list[Id] | None = None
    # A visit checklist is asked at no-access visits (the default), or at visits where the
    # family was seen ("seen": who lives here, who stays over).
    asked_at: Literal["no-access", "seen"] = "no-access"


class Checklist(_Base, kw_only=True):
    id: Id
    version: Annotated[int, Meta(ge=1)]
    title: Text
    description: str = ""
    source: str = ""
    applies_to: AppliesTo
    sections: list[Section] = []
    items: Annotated[list[Item], Meta(min_length=1)]
    rules: list[Rule] = []


# ---------------------------------------------------------------------------------------
# Per-agency settings and recording prompts
# ---------------------------------------------------------------------------------------

DEFAULT_PARAMS: dict[str, int] = {
    "no_access_threshold": 2,
    "no_access_window_days": 28,
    "no_access_long_threshold": 2,
    "no_access_long_window_days": 56,
    "cancellation_threshold": 2,
    "father_not_seen_visits": 3,
    "father_not_engaged_visits": 6,
    "neglect_flag_grade": 4,
    "neglect_concern_grade": 3,
    "neglect_concern_areas": 3,
    "neglect_persistence_visits": 3,
    "neglect_persistence_areas": 2,
    "neglect_persistence_window_days": 182,
    "da_enquiry_window_days": 84,
    "ng76_repeat_window_days": 90,
    "full_advice_contacts": 2,
}


class GradeLabel(_Base, kw_only=True):
    grade: int
    label: Text


def _default_scale() -> list[GradeLabel]:
    return [
        GradeLabel(grade=1, label="Needs met"),
        GradeLabel(grade=2, label="Some needs not consistently met"),
        GradeLabel(grade=3, label="Needs often not met"),
        GradeLabel(grade=4, label="Needs not met; child harmed or at risk of harm"),
    ]


class Settings(_Base, kw_only=True):
    agency: str = "Default settings"
    # An explicit release label shown with the content version (optional).
    release: str = ""
    params: dict[ParamName, int] = {}
    grade_scale: list[GradeLabel] = msgspec.field(default_factory=_default_scale)
    carer_roles: list[Id] = msgspec.field(
        default_factory=lambda: [
            "mother",
            "father",
            "male-partner",
            "female-partner",
            "male-carer",
            "female-carer",
            "grandparent",
            "other-adult",
            "male-other-adult",
        ]
    )
    assignees: list[Id] = msgspec.field(default_factory=lambda: ["practitioner", "supervisor"])
    # Which of the model's visit types this agency uses (sync.model is the vocabulary).
    visit_types: list[Literal[VISIT_TYPES]] = msgspec.field(default_factory=lambda: list(VISIT_TYPES))  # type: ignore[valid-type]
    # Mobility stages that count as not independently mobile for the bruising protocol.
    non_mobile_stages: list[Mobility] = msgspec.field(default_factory=lambda: ["not-yet", "rolling"])  # type: ignore[valid-type]


class Phrase(_Base, kw_only=True):
    id: Id
    patterns: Annotated[list[Text], Meta(min_length=1)]
    # always: generic wording to avoid in any case; child-not-seen / child-not-spoken-to-alone:
    # only when the record does not show that the child was seen / spoken to alone.
    when: Literal["always", "child-not-seen", "child-not-spoken-to-alone"]
    message: Text
    source: Text


class MarkerCheck(_Base, kw_only=True):
    markers: Annotated[list[Text], Meta(min_length=1)]
    message: Text
    source: Text


class Recording(_Base, kw_only=True):
    phrases: list[Phrase] = []
    # Words that signal opinion; they belong in a professional-judgement or analysis entry.
    judgement: MarkerCheck | None = None
    # Said of untyped text that carries opinion words: say whether it is fact or judgement.
    untyped_message: str = ""
    # Reported speech in an entry typed as the child's own words.
    reported_speech: MarkerCheck | None = None


# ---------------------------------------------------------------------------------------
# Facts (engine input) and outcome (engine output)
# ---------------------------------------------------------------------------------------


class Subject(_Base, kw_only=True):
    id: Text
    kind: Literal["child", "carer"]
    age_band: AgeBand | None = None
    # The person's recorded mobility stage (sync.model). None = not recorded.
    mobility: Mobility | None = None  # type: ignore[valid-type]
    # Older facts' yes/no form; used only when `mobility` is absent. Neither recorded: a
    # baby under 1 is treated as not yet mobile.
    mobile: bool | None = None
    protection_plan: bool = False
    role: Id | None = None


AnswerValue = Union[int, float, str, list[str], None]


class Answer(_Base, kw_only=True):
    checklist: Id
    # null for checklists about the visit as a whole (e.g. no-access)
    subject: str | None = None
    item: Id
    value: AnswerValue = None
    evidence: Evidence | None = None
    note: str = ""
    # The checklist version the answer was recorded against (kept, never rewritten).
    version: int | None = None


class Visit(_Base, kw_only=True):
    id: Text
    date: _dt.date
    type: str = ""
    no_access: bool = False
    seen: list[str] = []
    answers: list[Answer] = []


class Facts(_Base, kw_only=True):
    visit: Visit
    subjects: list[Subject] = []
    history: list[Visit] = []


class FollowUp(_Base, kw_only=True):
    rule: Id
    checklist: Id
    subject: str | None
    assignee: Id
    due_in_days: int
    due: str
    text: str


class FiredAnswer(_Base, kw_only=True):
    checklist: Id
    subject: str | None
    item: Id
    value: AnswerValue


class Flag(_Base, kw_only=True):
    rule: Id
    checklist: Id
    subject: str | None
    severity: Severity
    reason: str
    answers: list[FiredAnswer] = []


class Outcome(_Base, kw_only=True):
    follow_ups: list[FollowUp] = []
    flags: list[Flag] = []


# ---------------------------------------------------------------------------------------
# Golden cases: facts -> the exact follow-ups and flags expected (both engines run them)
# ---------------------------------------------------------------------------------------


class ExpectedFollowUp(_Base, kw_only=True):
    rule: Id
    subject: str | None
    assignee: Id
    due_in_days: int


class ExpectedFlag(_Base, kw_only=True):
    rule: Id
    subject: str | None
    severity: Severity
    answers: list[FiredAnswer] = []


class Expected(_Base, kw_only=True):
    follow_ups: list[ExpectedFollowUp] = []
    flags: list[ExpectedFlag] = []


class GoldenCase(_Base, kw_only=True):
    id: Id
    description: Text
    params: dict[ParamName, int] = {}
    facts: Facts
    expected: Expected


class GoldenFile(_Base, kw_only=True):
    # Free-form: somewhere to define YAML anchors (&family) that cases reuse (*family).
    shared: dict[str, Any] = {}
    cases: list[GoldenCase]


class RecordingContext(_Base, kw_only=True):
    child_seen: bool | None = None
    child_spoken_to_alone: bool | None = None
    kind: ObservationKind | None = None


class RecordingWarning(_Base, kw_only=True):
    code: Id
    match: str
    message: str
    source: str


class RecordingCase(_Base, kw_only=True):
    id: Id
    text: str
    context: RecordingContext
    expected: list[RecordingWarning]


class RecordingGoldenFile(_Base, kw_only=True):
    cases: list[RecordingCase]


class Content(_Base, kw_only=True):
    """Everything the PWA needs to show checklists and run the rules offline."""

    version: str
    agency: str
    params: dict[str, int]
    grade_scale: list[GradeLabel]
    carer_roles: list[str]
    assignees: list[str]
    visit_types: list[str]
    checklists: list[Checklist]
    recording: Recording
    non_mobile_stages: list[str] = msgspec.field(default_factory=lambda: ["not-yet", "rolling"])

    def checklist(self, checklist_id: str) -> Checklist | None:
        for c in self.checklists:
            if c.id == checklist_id:
                return c
        return None


def content_json_schema() -> dict[str, Any]:
    """JSON Schema for the files an agency authors, generated from the Structs above."""
    roots = (Checklist, Settings, Recording, GoldenFile, RecordingGoldenFile, Facts, Outcome)
    refs, components = msgspec.json.schema_components(roots, ref_template="#/$defs/{name}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Hearthside content",
        "description": "Generated from server/content/schema.py by `python -m server.content.cli schema`. Do not edit.",
        "files": {
            "checklists/*.yaml": refs[0],
            "settings.yaml": refs[1],
            "recording.yaml": refs[2],
            "golden/rules/*.yaml": refs[3],
            "golden/recording.yaml": refs[4],
            "engine facts": refs[5],
            "engine outcome": refs[6],
        },
        "$defs": dict(sorted(components.items())),
    }
