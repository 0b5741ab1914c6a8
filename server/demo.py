"""Synthetic demo data: one agency, one team, four staff, twelve invented families.

Every name, address and number here is invented. NHS numbers use the 999 range the NHS
reserves for testing. Ids are derived from stable keys and the whole seed runs in one
transaction, so seeding twice adds nothing and a failed seed leaves nothing behind. The
families' records are the server's own ops (the ``system`` writer) through the one write
path, so the seed meets the same model and checks as every other write.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sync import merge
from sync.protocol import Op
from sync.writer import make_create

from .accounts.service import create_user
from .auth.passwords import DEMO_PASSWORD
from .clock import now_iso, utcnow
from .ids import stable_id
from .storage import accounts, records
from .storage.crypto import Keyring
from .storage.db import Database
from .storage.tx import Tx

AGENCY = "Demo Health Visiting Service"
USERS = [
    ("practitioner1", "Sam Practitioner", "practitioner"),
    ("practitioner2", "Alex Practitioner", "practitioner"),
    ("supervisor1", "Jo Supervisor", "supervisor"),
    ("admin1", "Pat Admin", "admin"),
]


def _sid(*parts: str) -> str:
    return stable_id("demo", *parts)


def _nhs(seed: int) -> str:
    """A synthetic NHS number in the 999 test range with a valid check digit."""
    n = seed
    while True:
        digits = [9, 9, 9] + [int(c) for c in f"{n % 1_000_000:06d}"]
        total = sum(d * w for d, w in zip(digits, range(10, 1, -1)))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            return "".join(map(str, digits)) + str(check)
        n += 1


# (key, family name, address, postcode, practitioner, people, visit history)
# people: (key, role, given, family, age_days or None, extras); negative age = expected in N days
FAMILIES: list[dict[str, Any]] = [
    {"key": "ashworth", "name": "Ashworth", "address": "14 Larch Row, Elmbridge Vale", "postcode": "EV1 2AB",
     "practitioner": "practitioner1",
     "people": [("mum", "mother", "Megan", "Ashworth", 9100, {}),
                ("dad", "father", "Tomasz", "Rudd", 9800, {"lives_in_household": False}),
                ("baby", "unborn", "Baby", "Ashworth", -42, {})],
     "visits": [("antenatal", 21, "completed", [])], "next": ("antenatal", 1),
     "note": "Father not yet seen: he works away and was out at the first contact."},
    {"key": "brennan", "name": "Brennan", "address": "3 Quarry Lane, Elmbridge Vale", "postcode": "EV2 5HD",
     "practitioner": "practitioner1",
     "people": [("mum", "mother", "Chloe", "Brennan", 8200, {}),
                ("partner", "partner", "Jordan", "Pike", 8900, {}),
                ("baby", "child", "Ivy", "Brennan", 11, {"mobility": "not-yet"})],
     "visits": [("antenatal", 60, "completed", ["mum"])], "next": ("new-birth", 0),
     "note": "Mother's partner moved in during the pregnancy; he is not the baby's father."},
    {"key": "castellano", "name": "Castellano", "address": "27 Weaver Street, Elmbridge Vale", "postcode": "EV3 1QP",
     "practitioner": "practitioner1",
     "people": [("mum", "mother", "Rosa", "Castellano", 12400, {}),
                ("dad", "father", "Marco", "Castellano", 13100, {}),
                ("c1", "child", "Luca", "Castellano", 4800, {}),
                ("c2", "child", "Sofia", "Castellano", 3300, {}),
                ("c3", "child", "Nico", "Castellano", 2200, {}),
                ("c4", "child", "Gianna", "Castellano", 1100, {}),
                ("c5", "child", "Teo", "Castellano", 380, {"mobility": "cruising"})],
     "visits": [("targeted", 40, "completed", ["mum", "c4", "c5"]), ("targeted", 12, "completed", ["mum", "c5"])],
     "next": ("targeted", 2),
     "note": "Five children: each to be seen and weighed up on their own, not as a group."},
    {"key": "delaney", "name": "Delaney", "address": "Flat 6, Kestrel House, Elmbridge Vale", "postcode": "EV1 8LN",
     "practitioner": "practitioner1",
     "people": [("mum", "mother", "Kerry", "Delaney", 8600, {}),
                ("c1", "child", "Mason", "Delaney", 760, {"mobility": "walking"})],
     "visits": [("targeted", 50, "completed", ["mum", "c1"]), ("no-access", 20, "completed", []),
                ("no-access", 6, "completed", [])],
     "next": ("targeted", 1),
     "note": "Two visits in the last month with no answer at the door."},
    {"key": "ellery", "name": "Ellery", "address": "9 Orchard Close, Elmbridge Vale", "postcode": "EV4 3RT",
     "practitioner": "practitioner1",
     "people": [("mum", "mother", "Hannah", "Ellery", 10500, {}),
                ("dad", "father", "Owen", "Ellery", 11000, {}),
                ("c1", "child", "Freya", "Ellery", 1150, {}),
                ("baby", "child", "Arlo", "Ellery", 49, {"mobility": "not-yet"})],
     "visits": [("new-birth", 35, "completed", ["mum", "dad", "baby", "c1"])], "next": ("six-to-eight-week", 3),
     "note": ""},
    {"key": "fairbairn", "name": "Fairbairn", "address": "52 Mill Road, Elmbridge Vale", "postcode": "EV2 7GG",
     "practitioner": "practitioner1",
     "people": [("dad", "father", "Gareth", "Fairbairn", 15500, {}),
                ("c1", "child", "Callum", "Fairbairn", 5500, {}),
                ("c2", "child", "Isla", "Fairbairn", 4100, {})],
     "visits": [("targeted", 30, "completed", ["dad", "c2"])], "next": ("targeted", 7),
     "note": "Single father; the older child has not been seen alone yet."},
    {"key": "greaves", "name": "Greaves", "address": "11 Tannery Court, Elmbridge Vale", "postcode": "EV3 9DS",
     "practitioner": "practitioner1",
     "people": [("mum", "mother", "Leanne", "Greaves", 9400, {}),
                ("carer", "male-carer", "Craig", "Holt", 10200, {}),
                ("c1", "child", "Kayden", "Greaves", 1500, {"protection_plan": True})],
     "visits": [("child-protection", 14, "completed", ["mum", "c1"]), ("child-protection", 4, "completed", ["mum", "c1"])],
     "next": ("child-protection", 0),
     "note": "Child protection plan (neglect). Mother's partner has not been seen at recent visits."},
    {"key": "hollis", "name": "Hollis", "address": "7 Beacon Walk, Elmbridge Vale", "postcode": "EV5 2JW",
     "practitioner": "practitioner2",
     "people": [("mum", "mother", "Tia", "Hollis", 7000, {}),
                ("nan", "other-adult", "Sandra", "Hollis", 18500, {}),
                ("baby", "child", "Reggie", "Hollis", 150, {"mobility": "rolling"})],
     "visits": [("new-birth", 140, "completed", ["mum", "baby"]), ("six-to-eight-week", 100, "completed", ["mum", "nan", "baby"])],
     "next": ("targeted", 1),
     "note": "Young mother living with her own mother."},
    {"key": "iqbal", "name": "Iqbal", "address": "40 Sycamore Avenue, Elmbridge Vale", "postcode": "EV4 6NB",
     "practitioner": "practitioner2",
     "people": [("mum", "mother", "Ayesha", "Iqbal", 10900, {"language": "Urdu", "interpreter_needed": True}),
                ("dad", "father", "Imran", "Iqbal", 11700, {}),
                ("t1", "child", "Zara", "Iqbal", 275, {"mobility": "crawling"}),
                ("t2", "child", "Zayn", "Iqbal", 275, {"mobility": "rolling"})],
     "visits": [("new-birth", 260, "completed", ["mum", "t1", "t2"]), ("targeted", 90, "completed", ["mum", "dad", "t1", "t2"])],
     "next": ("targeted", 5),
     "note": "Twins. Mother prefers Urdu: book an interpreter, not a family member."},
    {"key": "jarvis", "name": "Jarvis", "address": "2 Foundry Yard, Elmbridge Vale", "postcode": "EV1 4TT",
     "practitioner": "practitioner2",
     "people": [("mum", "mother", "Nicola", "Jarvis", 13500, {}),
                ("dad", "father", "Lee", "Jarvis", 14000, {"lives_in_household": False}),
                ("c1", "child", "Ethan", "Jarvis", 3000, {})],
     "visits": [("targeted", 45, "completed", ["mum", "c1"])], "next": ("targeted", 10),
     "note": "Ethan has a learning disability and uses signs and a picture board."},
    {"key": "kowalczyk", "name": "Kowalczyk", "address": "18 Heron Way, Elmbridge Vale", "postcode": "EV5 8PL",
     "practitioner": "practitioner2",
     "people": [("mum", "mother", "Agnieszka", "Kowalczyk", 10000, {"language": "Polish"}),
                ("dad", "father", "Piotr", "Kowalczyk", 10600, {"language": "Polish"}),
                ("baby", "child", "Lena", "Kowalczyk", 62, {"mobility": "not-yet"})],
     "visits": [("new-birth", 48, "completed", ["mum", "dad", "baby"])], "next": ("six-to-eight-week", 0),
     "note": ""},
    {"key": "lindqvist", "name": "Lindqvist", "address": "33 Bell Street, Elmbridge Vale", "postcode": "EV2 1CE",
     "practitioner": "practitioner2",
     "people": [("mum", "mother", "Karin", "Lindqvist", 14200, {}),
                ("c1", "child", "Elsa", "Lindqvist", 4500, {}),
                ("c2", "child", "Nils", "Lindqvist", 2600, {})],
     "visits": [("targeted", 70, "completed", ["mum", "c1", "c2"]), ("targeted", 25, "completed", ["mum", "c2"])],
     "next": ("targeted", 4),
     "note": "School raised concerns about Nils's attendance."},
]


def seed_demo(store: Database) -> bool:
    """Seed the demo data; returns False (changing nothing) when it is already there."""
    agency_id = _sid("agency")
    with store.write() as db:
        if accounts.agency_exists(db, agency_id):
            return False
        _seed(db, store.keyring, agency_id)
    return True


class _Ops(list):
    """The seed's ops, in order: each record after the records it names."""

    def create(self, entity: str, record_id: str, family_id: str, values: dict[str, Any]) -> None:
        self.append(make_create(entity, record_id, family_id, {k: v for k, v in values.items() if v is not None}))


def _seed(db: Tx, keyring: Keyring, agency_id: str) -> None:
    at = now_iso()
    today = utcnow().date()
    team_id = _sid("team")
    accounts.insert_agency(db, {"id": agency_id, "name": AGENCY, "timezone": "Europe/London", "settings": "{}",
                                "created_at": at})
    accounts.insert_team(db, {"id": team_id, "agency_id": agency_id, "name": "Elmbridge Vale Health Visiting",
                              "created_at": at})
    user_ids = {}
    for username, display, role in USERS:
        row = create_user(db, agency_id=agency_id, username=username, display_name=display, role=role,
                          password=DEMO_PASSWORD, team_id=team_id, demo=True, user_id=_sid("user", username))
        user_ids[username] = row["id"]

    ops = _Ops()
    for n, fam in enumerate(FAMILIES):
        fid = _sid("family", fam["key"])
        ops.create("family", fid, fid, {
            "team_id": team_id, "family_name": fam["name"], "address": fam["address"], "postcode": fam["postcode"],
            "phone": f"07700 900{n:03d}", "notes": fam["note"] or None, "status": "active"})
        people = {}
        for i, (key, role, given, surname, age, extra) in enumerate(fam["people"]):
            pid = _sid("person", fam["key"], key)
            people[key] = (pid, role)
            values: dict[str, Any] = {"role": role, "given_name": given, "family_name": surname, **extra}
            if age < 0:
                values["expected_date"] = (today + timedelta(days=-age)).isoformat()
            else:
                values["date_of_birth"] = (today - timedelta(days=age)).isoformat()
                values["nhs_number"] = _nhs(n * 10 + i)
            values.setdefault("sex", "male" if role in ("father", "male-carer", "partner") else None)
            ops.create("person", pid, fid, values)
        _relate(ops, fam["key"], fid, people)
        practitioner = user_ids[fam["practitioner"]]
        ops.create("allocation", _sid("allocation", fam["key"]), fid, {"practitioner_id": practitioner, "active": True})
        for j, (vtype, days_ago, status, present) in enumerate(fam["visits"]):
            when = today - timedelta(days=days_ago)
            ops.create("visit", _sid("visit", fam["key"], str(j)), fid, {
                "practitioner_id": practitioner, "type": vtype, "status": status,
                "planned_for": f"{when.isoformat()}T10:00:00Z", "completed_at": f"{when.isoformat()}T11:00:00Z",
                "signed_by": practitioner, "no_access": vtype == "no-access",
                "present": [people[k][0] for k in present]})
        vtype, in_days = fam["next"]
        when = today + timedelta(days=in_days)
        ops.create("visit", _sid("visit", fam["key"], "next"), fid, {
            "practitioner_id": practitioner, "type": vtype, "status": "planned",
            "planned_for": f"{when.isoformat()}T{9 + n % 7:02d}:30:00Z", "no_access": False, "present": []})
    _seed_follow_ups(ops, user_ids, today)
    _apply(db, keyring, agency_id, ops)


def _apply(db: Tx, keyring: Keyring, agency_id: str, ops: list[Op]) -> None:
    """Apply the seed as the server's own writes. No hooks: the rules are not run over
    invented history (the seed's follow-ups and flags are written out below). Anything the
    merge refuses is a defect in the seed: the whole seed fails and leaves nothing."""
    results = merge.apply_ops(db, keyring, records.SYSTEM, ops, agency_id=agency_id, run_hooks=False, strict=True)
    if any(r.status != "applied" for r in results):
        raise RuntimeError("the demo seed did not apply as written")


def _relate(ops: _Ops, fkey: str, fid: str, people: dict[str, tuple[str, str]]) -> None:
    children = [(k, pid) for k, (pid, role) in people.items() if role in ("child", "unborn")]
    for akey, (aid, role) in people.items():
        if role in ("child", "unborn"):
            continue
        for ckey, cid in children:
            relationship = {"mother": "mother", "father": "father", "male-carer": "mother's partner",
                            "partner": "mother's partner", "other-adult": "grandmother"}[role]
            ops.create("relationship", _sid("rel", fkey, akey, ckey), fid, {
                "adult_id": aid, "child_id": cid, "relationship": relationship,
                "parental_responsibility": role in ("mother", "father")})


def _seed_follow_ups(ops: _Ops, users: dict[str, str], today: date) -> None:
    items = [
        ("delaney", "practitioner1", -2, "Contact the family after the second no-access visit and agree a time."),
        ("greaves", "practitioner1", 1, "Arrange to meet the mother's partner; he has not been seen."),
        ("ashworth", "practitioner1", 3, "Offer an evening antenatal contact so the father can attend."),
        ("lindqvist", "practitioner2", 0, "Speak to the school nurse about attendance."),
        ("hollis", "practitioner2", -1, "Give safer-sleep advice to the baby's grandmother, who often babysits."),
    ]
    for key, who, days, text in items:
        ops.create("follow_up", _sid("follow_up", key), _sid("family", key), {
            "assignee_id": users[who], "due_at": f"{(today + timedelta(days=days)).isoformat()}T09:00:00Z",
            "text": text, "status": "open"})
    ops.create("flag", _sid("flag", "delaney"), _sid("family", "delaney"), {
        "rule_id": "repeated-no-access", "severity": "high", "status": "open",
        "reason": "Two no-access visits within 28 days.", "answers": {"no_access_visits_28_days": 2},
        "raised_by": users["practitioner1"]})
