"""The synced data model, declared once.

Every layer reads this: the record layer (which columns are personal, JSON, boolean),
the merge's checks (types, allowed values, lengths, references, immutable and
server-owned fields), the write policy (``sync.policy``: who may create, set, delete and
resolve, by role, ownership and record state), the REST and agency request shapes
(``sync.shapes``), the migrations' CHECK constraints, and the PWA's option lists and
length limits (``pwa/js/generated/model.js``, written by ``hearthside model js --write``
and checked for staleness by a test). Add a field or a choice here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FieldType = Literal["id", "text", "choice", "bool", "int", "date", "datetime", "json", "nhs-number"]
# Who may act on a record, per role: nobody, the record's owner (``Entity.owner``), or
# anyone who can see the family.
Scope = Literal["none", "own", "any"]
ROLES = ("practitioner", "supervisor", "admin", "integration", "system")
MANAGERS = ("supervisor", "admin", "integration", "system")

# JSON values (an answer, who was present) are bounded as encoded bytes.
MAX_JSON_BYTES = 32_000
# Whole numbers (fields, versions, sequence numbers, cursors) are SQLite INTEGERs.
INT64_MAX = 2**63 - 1
# Free text a practitioner types: an observation, a note. Long enough for a careful entry,
# short enough that a phone never holds what the server refuses.
LONG_TEXT = 20_000
SHORT_TEXT = 2_000
NAME_TEXT = 100


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    hint: str = ""


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    max_length: int | None = None
    choices: tuple[Choice, ...] = ()
    personal: bool = False
    # Set when the record is created, never after.
    immutable: bool = False
    # Must be present (not null) on create.
    required: bool = False
    # Another record this one names: an entity of the same family, or "user" / "team" of
    # the same agency. "subject" is a person, or the visit itself for visit-level answers
    # (or, for a flag, the follow-up it escalates). "checklist" / "checklist-item": a checklist
    # of the content the server runs, and an item of that checklist.
    ref: str | None = None
    # Written by the server from the principal and the clock; an op's value is ignored.
    server_owned: bool = False
    # Monotonic states, in order; a tuple groups end states of equal rank.
    order: tuple[Any, ...] | None = None
    default: Any = None
    # A technical value two writers may set differently without either being wrong (when a
    # visit started): concurrent values settle by rule, "earliest" or "latest", not by a person.
    resolve: Literal["earliest", "latest"] | None = None

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.choices)


@dataclass(frozen=True)
class Policy:
    """Who may write an entity. ``set`` maps a field to scopes by role; fields not named
    take ``set_default``. The server's own jobs (role "system") may do anything the model
    allows; policy never loosens the model's rules (immutable, insert-only, frozen)."""

    create: dict[str, Scope]
    set_default: dict[str, Scope] = field(default_factory=dict)
    set: dict[str, dict[str, Scope]] = field(default_factory=dict)
    delete: dict[str, Scope] = field(default_factory=dict)


@dataclass(frozen=True)
class Entity:
    name: str
    table: str
    fields: tuple[Field, ...]
    policy: Policy
    # Observations and addenda are appended, never edited: they cannot conflict.
    insert_only: bool = False
    # The field naming the member of staff a record belongs to ("own" in the policy).
    owner: str | None = None
    # The record is frozen once ``frozen_when[0]`` takes one of ``frozen_when[1]``;
    # ``fill_after_freeze`` may still be filled while empty by whoever froze it.
    frozen_when: tuple[str, tuple[str, ...]] | None = None
    fill_after_freeze: frozenset[str] = frozenset()
    # Frozen with the visit it belongs to (a signed visit's answers).
    frozen_with_visit: bool = False
    # The PWA's IndexedDB store for it (defaults to the table's name).
    store: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})
        if not self.store:
            object.__setattr__(self, "store", self.table)

    def field(self, name: str) -> Field | None:
        return self.by_name.get(name)  # type: ignore[attr-defined]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def _c(*pairs: tuple[str, str] | tuple[str, str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(*p) for p in pairs)


ANY_MANAGER: dict[str, Scope] = {r: "any" for r in MANAGERS}
NOBODY_BUT_SYSTEM: dict[str, Scope] = {"system": "any"}
EVERYONE: dict[str, Scope] = {"practitioner": "any", **ANY_MANAGER}
OWNER_OR_MANAGER: dict[str, Scope] = {"practitioner": "own", **ANY_MANAGER}

PERSON_ROLES = _c(("child", "Child"), ("unborn", "Unborn baby"), ("mother", "Mother"), ("father", "Father"),
                  ("male-carer", "Male carer"), ("partner", "Partner"), ("other-adult", "Other adult"))
VISIT_TYPES = _c(("antenatal", "Antenatal"), ("new-birth", "New birth"),
                 ("six-to-eight-week", "6 to 8 week review"), ("targeted", "Targeted"),
                 ("child-protection", "Child protection"), ("no-access", "No access"))
OBSERVATION_KINDS = _c(
    ("fact", "Fact", "What you saw, heard or were told, and by whom."),
    ("professional-judgement", "Professional judgement", "Your view, with the reasons for it."),
    ("child-words", "Child's own words", "Exactly what the child said, in quotation marks."),
    ("parent-view", "Parent's view", "What a parent or carer said or thinks."),
    ("analysis", "Analysis", "What it means for the child: risks, strengths, what next."),
)
# How a child moves about on their own. Which stages count as "not independently mobile"
# (the bruising protocol) is a per-agency content setting (settings.yaml non_mobile_stages).
MOBILITY = _c(("not-yet", "Not yet moving about", "Stays where put down"), ("rolling", "Rolling"),
              ("crawling", "Crawling or bottom-shuffling"), ("cruising", "Pulling up and cruising"),
              ("walking", "Walking"))
SEEN_OR_TOLD = _c(("seen", "I saw it"), ("told", "I was told"))
# What a review looks for at each visit (the 10 Principles: decisions and their rationale,
# information-sharing decisions; LLR: interpreters). Not sharing is a decision too, with a reason.
INFORMATION_SHARED = _c(
    ("shared", "Yes, information was shared", "Say what, with whom and why."),
    ("not-shared", "No: I decided not to share", "Say why not."),
    ("nothing-to-share", "No: nothing needed sharing"),
)
# A family member, friend or child must never interpret: the choice exists so that the
# record says so honestly when it happened (and the phone warns at once).
INTERPRETER = _c(
    ("not-needed", "Not needed: everyone spoke and understood English"),
    ("professional", "A professional interpreter", "In person, by phone or by video."),
    ("not-available", "Needed, but no professional interpreter was available"),
    ("family-or-child", "A family member, friend or child interpreted"),
)
SEVERITIES = _c(("urgent", "Urgent"), ("high", "High"), ("routine", "Routine"))
# Why a kept entry needs a person's attention (set by the server, never by an op).
ATTENTION = _c(("visit-deleted", "Its visit is not on the server (deleted, or never sent)"),
               ("person-deleted", "The person it is about is not on the server (deleted, or never sent)"),
               ("recorded-out-of-reach", "Recorded while the family was not allocated"))


# Who recorded an entry, on which device, when, and why it needs a person's attention:
# the server's to say, for observations and addenda alike.
RECORDED = (
    Field("recorded_by", "id", ref="user", server_owned=True),
    Field("recorded_at", "datetime", server_owned=True),
    Field("device_id", "id", server_owned=True),
    Field("attention", "choice", choices=ATTENTION, server_owned=True),
)


def _status(*states: tuple[str, str]) -> tuple[Choice, ...]:
    return _c(*states)


ENTITIES: dict[str, Entity] = {e.name: e for e in [
    Entity("family", "families", (
        Field("team_id", "id", ref="team"),
        Field("family_name", "text", NAME_TEXT, personal=True, required=True),
        Field("address", "text", SHORT_TEXT, personal=True),
        Field("postcode", "text", 10, personal=True),
        Field("phone", "text", 30, personal=True),
        Field("notes", "text", SHORT_TEXT, personal=True),
        Field("status", "choice", choices=_status(("active", "Active"), ("closed", "Closed")), default="active"),
    ), Policy(create=ANY_MANAGER, set_default=ANY_MANAGER, delete={"admin": "any", "system": "any"})),
    Entity("person", "persons", (
        Field("role", "choice", choices=PERSON_ROLES, required=True),
        Field("given_name", "text", NAME_TEXT, personal=True),
        Field("family_name", "text", NAME_TEXT, personal=True),
        Field("date_of_birth", "date", personal=True),
        Field("expected_date", "date", personal=True),
        Field("sex", "choice", choices=_c(("female", "Female"), ("male", "Male"), ("other", "Other"),
                                          ("unknown", "Not known"))),
        Field("nhs_number", "nhs-number", personal=True),
        Field("ethnicity", "text", NAME_TEXT, personal=True),
        Field("language", "text", NAME_TEXT, personal=True),
        Field("interpreter_needed", "bool", default=False),
        Field("lives_in_household", "bool", default=True),
        Field("protection_plan", "bool", default=False),
        Field("mobility", "choice", choices=MOBILITY, personal=True),
    ), Policy(create=ANY_MANAGER, set_default=EVERYONE, delete=ANY_MANAGER,
              # Who a person is, and whether a child is on a plan, come from the agency's records.
              set={"role": ANY_MANAGER, "nhs_number": ANY_MANAGER, "protection_plan": ANY_MANAGER})),
    Entity("relationship", "relationships", (
        Field("adult_id", "id", ref="person", immutable=True, required=True),
        Field("child_id", "id", ref="person", immutable=True, required=True),
        Field("relationship", "text", NAME_TEXT, personal=True, required=True),
        Field("parental_responsibility", "bool", default=False),
    ), Policy(create=ANY_MANAGER, set_default=ANY_MANAGER, delete=ANY_MANAGER)),
    Entity("allocation", "allocations", (
        Field("practitioner_id", "id", ref="user", immutable=True, required=True),
        Field("active", "bool", default=True),
    ), Policy(create=ANY_MANAGER, set_default=ANY_MANAGER)),
    Entity("visit", "visits", (
        Field("practitioner_id", "id", ref="user", required=True),
        Field("type", "choice", choices=VISIT_TYPES, required=True),
        Field("status", "choice", choices=_status(("planned", "Planned"), ("in-progress", "In progress"),
                                                  ("completed", "Completed")),
              order=("planned", "in-progress", "completed"), default="planned"),
        Field("planned_for", "datetime"),
        Field("started_at", "datetime", resolve="earliest"),
        Field("completed_at", "datetime", server_owned=True),
        Field("signed_by", "id", ref="user", server_owned=True),
        Field("no_access", "bool", default=False),
        Field("present", "json", personal=True),
        Field("summary", "text", LONG_TEXT, personal=True),
        Field("decisions", "text", LONG_TEXT, personal=True),
        Field("rationale", "text", LONG_TEXT, personal=True),
        Field("information_shared", "choice", choices=INFORMATION_SHARED),
        Field("shared_what", "text", SHORT_TEXT, personal=True),
        Field("shared_with", "text", SHORT_TEXT, personal=True),
        Field("shared_why", "text", SHORT_TEXT, personal=True),
        Field("interpreter", "choice", choices=INTERPRETER),
        Field("interpreter_language", "text", NAME_TEXT, personal=True),
    ), Policy(create=OWNER_OR_MANAGER, set_default=OWNER_OR_MANAGER,
              set={"practitioner_id": ANY_MANAGER}, delete=OWNER_OR_MANAGER),
        owner="practitioner_id", frozen_when=("status", ("completed",))),
    Entity("checklist_response", "checklist_responses", (
        Field("visit_id", "id", ref="visit", immutable=True, required=True),
        Field("checklist_id", "text", NAME_TEXT, ref="checklist", immutable=True, required=True),
        Field("checklist_version", "int", immutable=True, required=True),
        Field("subject_id", "id", ref="subject", immutable=True, required=True),
        Field("item_id", "text", NAME_TEXT, ref="checklist-item", immutable=True, required=True),
        Field("answer", "json", personal=True),
        Field("note", "text", SHORT_TEXT, personal=True),
        Field("seen_or_told", "choice", choices=SEEN_OR_TOLD),
    ), Policy(create=EVERYONE, set_default=EVERYONE, delete=EVERYONE), frozen_with_visit=True, store="responses"),
    Entity("observation", "observations", (
        Field("visit_id", "id", ref="visit"),
        Field("about_person_id", "id", ref="person"),
        Field("kind", "choice", choices=OBSERVATION_KINDS, required=True),
        Field("text", "text", LONG_TEXT, personal=True, required=True),
        Field("supersedes_id", "id", ref="observation"),
        *RECORDED,
    ), Policy(create=EVERYONE), insert_only=True, owner="recorded_by"),
    Entity("addendum", "addenda", (
        Field("visit_id", "id", ref="visit", required=True),
        Field("text", "text", LONG_TEXT, personal=True, required=True),
        *RECORDED,
    ), Policy(create=EVERYONE), insert_only=True, owner="recorded_by"),
    Entity("follow_up", "follow_ups", (
        Field("visit_id", "id", ref="visit", immutable=True),
        Field("rule_id", "text", NAME_TEXT, immutable=True),
        Field("subject_id", "id", ref="subject", immutable=True),
        Field("assignee_id", "id", ref="user"),
        Field("due_at", "datetime", required=True),
        Field("text", "text", SHORT_TEXT, personal=True, required=True),
        Field("status", "choice", choices=_status(("open", "Open"), ("done", "Done"), ("cancelled", "Cancelled")),
              order=("open", ("done", "cancelled")), default="open"),
        Field("note", "text", SHORT_TEXT, personal=True),
        Field("completed_at", "datetime", server_owned=True),
    ), Policy(create=OWNER_OR_MANAGER, set_default=ANY_MANAGER,
              set={"status": OWNER_OR_MANAGER, "note": OWNER_OR_MANAGER}),
        owner="assignee_id", frozen_when=("status", ("done", "cancelled")),
        fill_after_freeze=frozenset({"note"})),
    Entity("flag", "flags", (
        Field("visit_id", "id", ref="visit", immutable=True),
        Field("rule_id", "text", NAME_TEXT, immutable=True),
        Field("subject_id", "id", ref="subject", immutable=True),
        Field("severity", "choice", choices=SEVERITIES, immutable=True, required=True),
        Field("reason", "text", SHORT_TEXT, personal=True, immutable=True, required=True),
        Field("answers", "json", personal=True, immutable=True),
        Field("status", "choice", choices=_status(("open", "Open"), ("acknowledged", "Acknowledged"),
                                                  ("closed", "Closed")),
              order=("open", "acknowledged", "closed"), default="open"),
        Field("acknowledged_by", "id", ref="user", server_owned=True),
        Field("acknowledged_at", "datetime", server_owned=True),
        Field("decision", "text", SHORT_TEXT, personal=True),
        Field("rationale", "text", SHORT_TEXT, personal=True),
        Field("decided_by", "id", ref="user", server_owned=True),
        Field("decided_at", "datetime", server_owned=True),
        Field("raised_by", "id", server_owned=True),
    ), Policy(create=NOBODY_BUT_SYSTEM, set_default={"supervisor": "any", "admin": "any", "integration": "any",
                                                      "system": "any"}),
        frozen_when=("status", ("closed",))),
    Entity("conflict", "conflicts", (
        Field("entity", "text", 64, immutable=True, required=True),
        Field("entity_id", "id", immutable=True, required=True),
        Field("field", "text", 64, immutable=True, required=True),
        Field("candidates", "json", personal=True, server_owned=True),
        Field("status", "choice", choices=_status(("open", "Open"), ("resolved", "Resolved")),
              order=("open", "resolved"), server_owned=True, default="open"),
        Field("resolution", "json", personal=True, server_owned=True),
        Field("resolved_by", "id", server_owned=True),
        Field("resolved_at", "datetime", server_owned=True),
    ), Policy(create=NOBODY_BUT_SYSTEM)),
]}


def entity(name: str) -> Entity:
    return ENTITIES[name]


def rank(order: tuple[Any, ...], value: Any) -> int:
    """Position of ``value`` in a monotonic order; a tuple groups equal-rank end states."""
    for i, step in enumerate(order):
        if value == step or (isinstance(step, tuple) and value in step):
            return i
    raise ValueError("not a known state")


def as_data() -> dict[str, Any]:
    """The model as JSON-able data: what the PWA reads (choices, limits, stores)."""
    out: dict[str, Any] = {"max_json_bytes": MAX_JSON_BYTES, "entities": {}}
    for e in ENTITIES.values():
        fields = {}
        for f in e.fields:
            d: dict[str, Any] = {"type": f.type}
            if f.max_length is not None:
                d["max_length"] = f.max_length
            if f.choices:
                d["choices"] = [{"value": c.value, "label": c.label, **({"hint": c.hint} if c.hint else {})}
                                for c in f.choices]
            for flag in ("immutable", "required", "server_owned", "personal"):
                if getattr(f, flag):
                    d[flag] = True
            if f.ref:
                d["ref"] = f.ref
            fields[f.name] = d
        out["entities"][e.name] = {"store": e.store, "insert_only": e.insert_only,
                                   **({"owner": e.owner} if e.owner else {}), "fields": fields}
    return out
