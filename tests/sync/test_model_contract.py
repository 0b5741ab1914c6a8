"""The contract between the model and the push endpoint, generated from ``sync.model``.

For every field a phone can write (not server-owned; by the role the policy allows,
a practitioner where it may, else a supervisor), every value the PWA can produce — each
option of each choice, text at exactly its limit in characters (Welsh accents and emoji
included), dates, toISOString() date-times, whole numbers, booleans, JSON answers — is
pushed as a phone pushes it, answered ``applied`` and read back from the database exactly
(decrypted, types kept). A value the model does not allow (over a limit, a wrong type, a
choice not in the list) is ``rejected`` with a reason naming the field and never the value,
and changes nothing. A new field or choice in the model is covered without touching this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest

from server.ids import new_id
from server.settings import Settings
from server.storage import records
from sync.model import ENTITIES, MAX_JSON_BYTES, Entity, Field
from sync.values import nhs_number_valid, normalise, same
from tests.factories import build_world
from tests.sync.device import Phone

WRITERS = ("practitioner", "supervisor")
USERNAME = {"practitioner": "prac_a1", "supervisor": "sup_a1"}
# Text a phone types, cut to exactly ``n`` characters: Welsh accents, an emoji (one
# character, two UTF-16 units), a combining accent and a line break.
TEXT_SEED = "Ŵyn a'r ŷd — dywedodd hi: “mae'n iawn” 🙂 é\u0301\n"
SECRET = "Sekrit"  # marks a refused value, so a test can see that no reason repeats it


def text_of(n: int, seed: str = TEXT_SEED) -> str:
    return (seed * (n // len(seed) + 1))[:n]


def js_iso(dt: datetime) -> str:
    """What ``new Date().toISOString()`` gives: milliseconds and a Z."""
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_string_of_bytes(n: int) -> str:
    """A JSON string whose encoding is exactly ``n`` bytes (two-byte letters, then ASCII)."""
    body = n - 2
    return "ŵ" * (body // 2) + "x" * (body % 2)


def nhs_numbers() -> list[str]:
    found = [d for d in (f"94347659{i:02d}" for i in range(100)) if nhs_number_valid(d)]
    return found[:2]


# -- who writes what ---------------------------------------------------------------------


def create_role(entity: Entity) -> str | None:
    return next((r for r in WRITERS if entity.policy.create.get(r, "none") != "none"), None)


def set_role(entity: Entity, f: Field) -> str | None:
    if entity.insert_only or f.immutable:
        return None
    scopes = entity.policy.set.get(f.name, entity.policy.set_default)
    return next((r for r in WRITERS if scopes.get(r, "none") != "none"), None)


def phone_writable(entity: Entity) -> list[Field]:
    return [f for f in entity.fields if not f.server_owned]


def cases() -> list[tuple[str, str, str]]:
    out = []
    for e in ENTITIES.values():
        for f in phone_writable(e):
            if create_role(e):
                out.append((e.name, f.name, "create"))
            if set_role(e, f):
                out.append((e.name, f.name, "set"))
    return out


CASES = cases()


# -- a family with one of every record a reference may name --------------------------------


@dataclass
class Ctx:
    family: str
    child: str
    adult: str
    visit: str
    observation: str


class Seeder:
    """Records as the server already holds them (a phone pulled them before editing)."""

    def __init__(self, store, world) -> None:
        self.store, self.kr, self.w = store, store.keyring, world
        self.agency, self.team = world.agencies["A"], world.teams["A1"]

    def _insert(self, db, entity: str, family: str, values: dict[str, Any]) -> str:
        rid = new_id()
        records.insert(db, self.kr, entity, {"id": rid, "agency_id": self.agency, "family_id": family, **values})
        return rid

    def ctx(self) -> Ctx:
        u = self.w.users
        with self.store.write() as db:
            fam = new_id()
            records.insert(db, self.kr, "family", {"id": fam, "agency_id": self.agency, "team_id": self.team,
                                                   "family_name": "Contract", "status": "active"})
            self._insert(db, "allocation", fam, {"practitioner_id": u["prac_a1"], "active": True})
            child = self._insert(db, "person", fam, {"role": "child", "given_name": "Cai"})
            adult = self._insert(db, "person", fam, {"role": "mother", "given_name": "Mair"})
            visit = self._insert(db, "visit", fam, {"practitioner_id": u["prac_a1"], "type": "targeted",
                                                    "status": "planned"})
            obs = self._insert(db, "observation", fam, {"visit_id": visit, "kind": "fact", "text": "Seen",
                                                        "recorded_by": u["prac_a1"], "recorded_at": js_iso(
                                                            datetime.now(timezone.utc))})
        return Ctx(fam, child, adult, visit, obs)

    def record(self, entity: str, ctx: Ctx) -> str:
        """A record of ``entity`` in its first state, owned by the practitioner."""
        if entity == "family":
            return ctx.family
        with self.store.write() as db:
            return self._insert(db, entity, ctx.family, self.required(entity, ctx, seeded=True))

    def required(self, entity: str, ctx: Ctx, *, seeded: bool = False) -> dict[str, Any]:
        """The least a create of ``entity`` carries (its required fields), as a phone sends it."""
        u, now = self.w.users, js_iso(datetime.now(timezone.utc))
        base = {
            "family": {"family_name": "Pryce"},
            "person": {"role": "child"},
            "relationship": {"adult_id": ctx.adult, "child_id": ctx.child, "relationship": "mother"},
            "allocation": {"practitioner_id": u["prac_a1b"]},
            "visit": {"type": "targeted"},
            "checklist_response": {"visit_id": ctx.visit, "checklist_id": "safe-sleep", "checklist_version": 1,
                                   "subject_id": ctx.child, "item_id": "sleep-place-night"},
            "observation": {"kind": "fact", "text": "Slept well"},
            "addendum": {"visit_id": ctx.visit, "text": "Weight was 4.2 kg"},
            "follow_up": {"due_at": now, "text": "Weigh baby"},
            # A flag is raised by the server's rules; its decision is recorded so it may close.
            "flag": {"severity": "urgent", "reason": "Child not seen alone", "decision": "Joint visit"},
        }[entity]
        if seeded:  # fields the server fills on a create, written here as it would
            base = {**base, **{"visit": {"practitioner_id": u["prac_a1"]},
                               "follow_up": {"assignee_id": u["prac_a1"]}}.get(entity, {})}
        missing = [f.name for f in ENTITIES[entity].fields
                   if f.required and f.name not in base and not (f.name == ENTITIES[entity].owner)]
        assert not missing, f"the contract test needs a value for {entity}.{missing}"
        return base


# -- the values ----------------------------------------------------------------------------


def ref_values(entity: Entity, f: Field, ctx: Ctx, mode: str, role: str, world) -> list[Any]:
    u = world.users
    if f.ref == "user":
        if f.name == entity.owner and role == "practitioner":
            return [u[USERNAME[role]]]  # a practitioner's own records are in their own name
        staff = [u["prac_a1b"]]
        # Who a follow-up is for: anyone who can act on the family (a supervisor too).
        return staff + ([u["sup_a1"]] if f.name == "assignee_id" else [])
    return {
        "team": [world.teams["A1"]],
        "visit": [ctx.visit],
        "person": [ctx.adult if f.name.startswith("adult") else ctx.child],
        # The visit itself is the subject of a visit-level answer (which names its visit).
        "subject": [ctx.child] + ([ctx.visit] if f.name != "visit_id" and entity.field("visit_id")
                                  and entity.field("visit_id").required else []),
        "observation": [ctx.observation],
        None: [new_id()],
    }[f.ref]


def valid_values(entity: Entity, f: Field, ctx: Ctx, mode: str, role: str, world) -> list[Any]:
    now = datetime.now(timezone.utc)
    t = f.type
    # What the PWA answers: a checklist and items of the content the server runs.
    if f.ref == "checklist":
        return ["safe-sleep"]
    if f.ref == "checklist-item":
        return ["sleep-place-night", "sofa-sleeping", "safe-sleep-advice-given"]
    if t == "choice":
        out: list[Any] = list(f.values)
    elif t == "text":
        n = f.max_length or 1000
        out = ["Ada", text_of(n), text_of(n, "x")] + ([] if f.required else [""])
    elif t == "bool":
        out = [True, False]
    elif t == "int":
        out = [1, 3]
    elif t == "date":
        out = ["2025-01-31", "2024-02-29"]
    elif t == "datetime":
        out = [js_iso(now), js_iso(datetime(2024, 7, 1, 23, 30, 5, 120000, tzinfo=timezone.utc)),
               "2025-03-30T02:30:00+01:00"]
    elif t == "json":
        # What the PWA stores: a yes/no or choice id, a grade (a number), a multi-choice
        # list, the child's words, who was present; and the exact types an agency may send.
        out = ["yes", "not-known", 3, 0, 2.5, 1.0, True, False, [], ["sleep", "feeding"], [ctx.child, ctx.adult],
               text_of(200), {"b": [1, True, None], "a": "x"}, json_string_of_bytes(MAX_JSON_BYTES)]
    elif t == "nhs-number":
        a, b = nhs_numbers()
        out = [a, f"{b[:3]} {b[3:6]} {b[6:]}"]
    elif t == "id":
        out = ref_values(entity, f, ctx, mode, role, world)
    else:
        raise AssertionError(f"the contract test has no values for type {t} ({entity.name}.{f.name})")
    if not f.required and f.default is None and f.order is None:
        out.append(None)  # the PWA sends null for an empty answer, note or choice
    return out


def filled_by_server(entity: Entity, f: Field, role: str, world) -> Any:
    """What a create sent with an empty field stores: a supervisor's new family is in their
    own team; a practitioner's own record (a visit, a follow-up) is in their name."""
    if f.ref == "team" and role == "supervisor":
        return world.teams["A1"]
    if f.name == entity.owner and role == "practitioner":
        return world.users[USERNAME[role]]
    return None


def invalid_values(entity: Entity, f: Field) -> list[Any]:
    t = f.type
    out: list[Any] = {
        "choice": [SECRET + "-choice", 1, True],
        "text": [text_of((f.max_length or 1000) + 1, SECRET + " 🙂 "), 42],
        "bool": [1, 0, "true"],
        "int": ["1", True, 1.5],
        "date": ["31/01/2025", "2025-02-30", SECRET + "-date"],
        "datetime": ["2025-06-01T09:30:00", "2025-06-01", SECRET + "-time"],
        "json": [json_string_of_bytes(MAX_JSON_BYTES + 1)],
        "nhs-number": ["9434765918", SECRET + "-nhs"],
        "id": [SECRET + "-id", 7],
    }[t]
    if f.required or f.default is not None or f.order is not None:
        out.append(None)  # a field that is never empty: null is refused, not stored
    return out


# -- the app, once for the module ----------------------------------------------------------


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from litestar.testing import TestClient

    from server.app import create_app

    settings = Settings.from_env(data_dir=tmp_path_factory.mktemp("contract") / "data", demo=True,
                                 scheduler_enabled=False)
    app = create_app(settings)
    with TestClient(app) as client:
        store = app.state.db
        world = build_world(store)
        phones = {role: Phone(client, name) for role, name in USERNAME.items()}
        yield client, store, world, phones, Seeder(store, world)


def push(phone: Phone, ops: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    body = phone.push()  # the whole outbox, as a phone sends it
    return {r["op_id"]: r for r in body["results"] if r["op_id"] in {o["op_id"] for o in ops}}


def describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 60 else f"{text[:40]}… ({len(str(value))} chars)"


@pytest.mark.parametrize(("entity_name", "field_name", "mode"), CASES,
                         ids=[f"{e}.{f}:{m}" for e, f, m in CASES])
def test_every_value_the_pwa_produces_is_applied_and_reads_back_exactly(env, entity_name, field_name, mode):
    _client, store, world, phones, seeder = env
    entity = ENTITIES[entity_name]
    f = entity.field(field_name)
    role = create_role(entity) if mode == "create" else set_role(entity, f)
    phone = phones[role]
    sent: list[tuple[Any, Any, dict[str, Any]]] = []  # (value, expected stored value, op)
    ctx0 = seeder.ctx()
    for value in valid_values(entity, f, ctx0, mode, role, world):
        ctx = seeder.ctx()
        value = _rebase(value, ctx0, ctx)
        if mode == "create":
            values = {**seeder.required(entity_name, ctx), field_name: value}
            fam = None if entity_name == "family" else ctx.family
            eid = new_id()
            op = phone.model.create(entity_name, fam or eid, values, entity_id=eid)
        else:
            rid = seeder.record(entity_name, ctx)
            op = _set(phone, store, entity_name, rid, ctx.family, field_name, value)
        expected = normalise(f, value)
        if value is None and mode == "create":
            expected = filled_by_server(entity, f, role, world)
        sent.append((value, expected, op))
    results = push(phone, [op for _, _, op in sent])
    problems = []
    with store.read() as db:
        for value, expected, op in sent:
            r = results[op["op_id"]]
            if r["status"] != "applied":
                problems.append(f"{describe(value)}: {r['status']} ({r.get('reason')})")
                continue
            row = records.get(db, store.keyring, entity_name, op["entity_id"])
            if row is None or not same(row[field_name], expected):
                problems.append(f"{describe(value)}: read back as {describe(row and row[field_name])}")
            elif f.type == "nhs-number" and value is not None:
                index = db.execute("SELECT nhs_number_index FROM persons WHERE id = ?", [op["entity_id"]]).fetchone()
                if index[0] != store.keyring.blind_index("nhs", expected):
                    problems.append(f"{describe(value)}: the NHS-number index was not kept")
    assert not problems, f"{entity_name}.{field_name} by {mode} as a {role}:\n" + "\n".join(problems)


@pytest.mark.parametrize(("entity_name", "field_name", "mode"), CASES,
                         ids=[f"{e}.{f}:{m}" for e, f, m in CASES])
def test_a_value_the_model_does_not_allow_is_rejected_naming_the_field_and_changes_nothing(
        env, entity_name, field_name, mode):
    _client, store, world, phones, seeder = env
    entity = ENTITIES[entity_name]
    f = entity.field(field_name)
    role = create_role(entity) if mode == "create" else set_role(entity, f)
    phone = phones[role]
    sent = []
    for value in invalid_values(entity, f):
        ctx = seeder.ctx()
        if mode == "create":
            values = {**seeder.required(entity_name, ctx), field_name: value}
            eid = new_id()
            op = phone.model.create(entity_name, eid if entity_name == "family" else ctx.family, values, entity_id=eid)
            before = None
        else:
            rid = seeder.record(entity_name, ctx)
            op = _set(phone, store, entity_name, rid, ctx.family, field_name, value)
            with store.read() as db:
                before = records.get(db, store.keyring, entity_name, rid)
        sent.append((value, op, before))
    results = push(phone, [op for _, op, _ in sent])
    problems = []
    with store.read() as db:
        for value, op, before in sent:
            r = results[op["op_id"]]
            reason = r.get("reason") or ""
            after = records.get(db, store.keyring, entity_name, op["entity_id"], include_deleted=True)
            if r["status"] != "rejected":
                problems.append(f"{describe(value)}: {r['status']} ({reason})")
            elif field_name not in reason:
                problems.append(f"{describe(value)}: the reason does not name the field ({reason})")
            elif SECRET in reason or (isinstance(value, str) and len(value) >= 10 and value in reason):
                problems.append(f"{describe(value)}: the reason repeats the value")
            if before is None and after is not None:
                problems.append(f"{describe(value)}: a record was created")
            elif before is not None and after["version"] != before["version"]:
                problems.append(f"{describe(value)}: the record changed")
    assert not problems, f"{entity_name}.{field_name} by {mode} as a {role}:\n" + "\n".join(problems)


def _rebase(value: Any, old: Ctx, new: Ctx) -> Any:
    """A reference generated for one family, moved to the family the op is sent for."""
    swap = {getattr(old, k): getattr(new, k) for k in Ctx.__dataclass_fields__}
    if isinstance(value, str):
        return swap.get(value, value)
    if isinstance(value, list):
        return [swap.get(v, v) if isinstance(v, str) else v for v in value]
    return value


def _set(phone: Phone, store, entity: str, rid: str, family: str, name: str, value: Any) -> dict[str, Any]:
    """A set op on the field version the phone last pulled."""
    with store.read() as db:
        row = records.get(db, store.keyring, entity, rid)
    version = int((row["field_meta"].get(name) or {}).get("v", 0))
    phone.model.confirmed.setdefault((entity, rid), {})[name] = (row[name], version)
    return phone.model.set(entity, rid, family, name, value)


def test_every_field_a_phone_can_write_is_in_the_contract():
    covered = {(e, f) for e, f, _ in CASES}
    for e in ENTITIES.values():
        for f in phone_writable(e):
            writable = bool(create_role(e)) or bool(set_role(e, f))
            assert writable == ((e.name, f.name) in covered), f"{e.name}.{f.name}"
    # The ones no phone writes are the server's own records (flags' raising, conflicts).
    assert {e for e, _, _ in CASES} >= {"family", "person", "visit", "checklist_response", "observation",
                                        "addendum", "follow_up", "flag"}
