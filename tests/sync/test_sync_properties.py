"""Property-based sync tests: three devices (two users) and an agency writer interleave
edits, observations, pushes of any batch size (replayed at random), pulls of any page
size, resolutions, visit signing, allocation changes and deletions, against a real SQLite
file through the same functions the HTTP handlers call.

Checked after every step or at the end of each run:
- replaying a push changes nothing; every op gets one lasting answer;
- every change is returned exactly once, in order, from any cursor with any page size;
- no set silently overwrites a value its writer had not seen; a conflict keeps both values;
- edits to different fields never conflict;
- no observation is ever lost; tombstones never come back; a signed visit never changes;
- after everyone syncs, every device holds exactly what the server holds (convergence),
  and a device whose allocation ended holds nothing of that family.

Run size: HEARTHSIDE_SYNC_EXAMPLES (default 200) runs × up to 45 steps: about 8,000 steps, some 20 s.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from server.access import Principal
from server.clock import now_iso
from server.ids import new_id
from server.storage import records
from server.storage.crypto import Keyring
from server.storage.db import open_database
from server.storage.records import Actor
from sync import merge, pull as pull_mod, push as push_mod
from tests.sync.device import DeviceModel

EXAMPLES = int(os.environ.get("HEARTHSIDE_SYNC_EXAMPLES", "200"))
SKEW_MS = [-4000, 0, 2500]  # phones' clocks are wrong in both directions
SHARED = [("person", "given_name"), ("visit", "summary")]
PRIVATE = {0: ("person", "ethnicity"), 1: ("person", "sex"), 2: ("person", "language")}
AGENCY_PRIVATE = ("person", "nhs_number")
VALUES = st.sampled_from(["amber", "birch", "cedar"])


def _insert_user(db, agency, team, username, role) -> str:
    uid = new_id()
    db["users"].insert({"id": uid, "agency_id": agency, "team_id": team, "username": username,
                        "display_name": username, "role": role, "password_hash": "x", "demo": 0,
                        "disabled_at": None, "created_at": now_iso()})
    return uid


def _principal(uid, username, role, agency, team, device) -> Principal:
    return Principal(user_id=uid, username=username, display_name=username, role=role, agency_id=agency,
                     team_id=team, device_id=device)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="hs-sync-"))
        self.store = open_database(self.tmp / "h.db", Keyring.generate())
        self.kr = self.store.keyring
        self.results: dict[str, dict[str, Any]] = {}  # op_id -> first answer
        self.ops: dict[str, tuple[int, dict[str, Any]]] = {}  # op_id -> (device index, op)
        self.observations: dict[str, str] = {}
        self.deleted: set[tuple[str, str]] = set()
        self.signed_summary: Any = msgspec.UNSET
        self.agency_ops: list[Any] = []

    def teardown(self) -> None:
        try:
            if hasattr(self, "devices"):
                self._final_checks()
        finally:
            self.store.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    @initialize()
    def world(self) -> None:
        with self.store.write() as db:
            self.agency = new_id()
            db["agencies"].insert({"id": self.agency, "name": "A", "timezone": "Europe/London", "settings": "{}",
                                   "created_at": now_iso()})
            self.team = new_id()
            db["teams"].insert({"id": self.team, "agency_id": self.agency, "name": "T", "created_at": now_iso()})
            p1 = _insert_user(db, self.agency, self.team, "p1", "practitioner")
            p2 = _insert_user(db, self.agency, self.team, "p2", "practitioner")
            sup = _insert_user(db, self.agency, self.team, "sup", "supervisor")
            self.client_id = new_id()
            db["integration_clients"].insert({"id": self.client_id, "agency_id": self.agency, "name": "core",
                                              "token_hash": new_id(), "scopes": "[]", "created_at": now_iso()})
            self.f1, self.f2 = new_id(), new_id()
            for fam in (self.f1, self.f2):
                records.insert(db, self.kr, "family", {"id": fam, "agency_id": self.agency, "team_id": self.team,
                                                       "family_name": "Fam", "status": "active"})
            self.person = new_id()
            records.insert(db, self.kr, "person", {"id": self.person, "agency_id": self.agency, "family_id": self.f1,
                                                   "role": "child", "given_name": "Kit"})
            self.scratch = new_id()  # the record the agency deletes
            records.insert(db, self.kr, "person", {"id": self.scratch, "agency_id": self.agency,
                                                   "family_id": self.f1, "role": "other-adult",
                                                   "given_name": "Lodger"})
            self.visit = new_id()
            records.insert(db, self.kr, "visit", {"id": self.visit, "agency_id": self.agency, "family_id": self.f1,
                                                  "practitioner_id": p1, "type": "targeted",
                                                  "status": "in-progress"})
            self.f2_person = new_id()
            records.insert(db, self.kr, "person", {"id": self.f2_person, "agency_id": self.agency,
                                                   "family_id": self.f2, "role": "child", "given_name": "Wren"})
            self.alloc: dict[tuple[str, str], str] = {}
            for fam, uid in ((self.f1, p1), (self.f1, p2), (self.f2, p1), (self.f2, p2)):
                aid = new_id()
                self.alloc[(fam, uid)] = aid
                records.insert(db, self.kr, "allocation", {"id": aid, "agency_id": self.agency, "family_id": fam,
                                                           "practitioner_id": uid, "active": True})
            self.principals = []
            self.devices = []
            for i, (uid, name) in enumerate(((p1, "p1"), (p1, "p1"), (p2, "p2"))):
                did = new_id()
                db["devices"].insert({"id": did, "user_id": uid, "agency_id": self.agency, "name": f"d{i}",
                                      "escrow_key": "x", "enrolled_at": now_iso()})
                self.principals.append(_principal(uid, name, "practitioner", self.agency, self.team, did))
                skew = SKEW_MS[i]
                self.devices.append(DeviceModel(did, lambda s=skew: time.time_ns() // 1_000_000 + s))
            self.p2 = p2
            self.sup = _principal(sup, "sup", "supervisor", self.agency, self.team, "")
        self.p2_on_f2 = True
        for i in range(3):
            self._pull(i, 50)

    # -- helpers --------------------------------------------------------------------------

    def _record_id(self, entity: str) -> str:
        return self.person if entity == "person" else self.visit

    def _push(self, i: int, ops: list[dict[str, Any]]) -> dict[str, Any]:
        body = msgspec.json.encode({"ops": ops})
        with self.store.write() as db:
            answer = msgspec.to_builtins(push_mod.push(db, self.kr, self.principals[i], body))
        self.devices[i].take_push_response(answer, ops)
        return answer

    def _visible_seqs(self, i: int, after: int) -> list[int]:
        from server.access import family_condition

        cond, params = family_condition(self.principals[i], "family_id")
        with self.store.read() as db:
            return [r["seq"] for r in db.query(
                f"SELECT seq FROM change_log WHERE seq > ? AND {cond} ORDER BY seq", [after, *params])]

    def _pull(self, i: int, page: int) -> None:
        device = self.devices[i]
        expected = self._visible_seqs(i, device.cursor)
        got: list[int] = []
        for _ in range(10_000):
            with self.store.read() as db:
                answer = msgspec.to_builtins(pull_mod.pull(db, self.kr, self.principals[i], device.cursor, page))
            got.extend(c["seq"] for c in answer["changes"] if not c["backfill"])
            device.take_pull_response(answer)
            if not answer["has_more"]:
                break
        assert got == expected, "pull must return every visible change exactly once, in order"

    def _field_history(self, db, entity: str, entity_id: str) -> dict[int, tuple[set[str], str | None]]:
        out = {}
        for r in db.query("SELECT * FROM change_log WHERE entity_id = ? ORDER BY seq", [entity_id]):
            fields = set(records.decode_changes(self.kr, r)) if r["op"] != "delete" else set()
            out[r["version"]] = (fields, r["actor_device_id"] or r["actor_client_id"])
        return out

    def _check_answers(self, i: int | None, ops: list[dict[str, Any]], answer_results: list[dict[str, Any]]) -> None:
        with self.store.read() as db:
            for op, r in zip(ops, answer_results):
                assert r["op_id"] == op["op_id"]
                first = self.results.setdefault(op["op_id"], r)
                if first is not r:
                    assert r["status"] == "duplicate", "a replay is answered as a duplicate"
                    continue
                assert r["status"] != "duplicate"
                if op["type"] != "set" or r["status"] == "rejected":
                    continue
                key = (op["entity"], op["field"])
                if r["status"] == "conflict":
                    conflict = records.get(db, self.kr, "conflict", r["conflict_id"])
                    values = [c["value"] for c in conflict["candidates"]]
                    later_own = [o for o in ops if o["type"] == "set" and (o["entity"], o["field"]) == key
                                 and o["client_seq"] > op["client_seq"]]
                    assert op["value"] in values or later_own, "a conflict keeps the competing value"
                    if conflict["status"] == "open":
                        assert len(set(map(repr, values))) >= 2, "a conflict holds at least two values"
                elif r["status"] == "applied" and r.get("reason") is None and r["field_version"] and \
                        r["field_version"] == r["version"]:
                    # It changed the field: its writer must have seen the value it replaced.
                    history = self._field_history(db, op["entity"], op["entity_id"])
                    if r["version"] not in history or op["field"] not in history[r["version"]][0]:
                        continue
                    prior = [v for v, (fields, _) in history.items() if v < r["version"] and op["field"] in fields]
                    prev = max(prior) if prior else 0
                    writer = self.devices[i].device_id if i is not None else self.client_id
                    same_writer = prev and history[prev][1] == writer
                    assert op["base_version"] == prev or same_writer, "no silent overwrite"
                if i is not None and (op["entity"], op["field"]) == PRIVATE[i]:
                    assert r["status"] != "conflict", "edits to different fields never conflict"

    # -- rules ----------------------------------------------------------------------------

    @rule(i=st.integers(0, 2), which=st.integers(0, 1), value=VALUES)
    def edit_shared_field(self, i: int, which: int, value: str) -> None:
        entity, field = SHARED[which]
        self.devices[i].set(entity, self._record_id(entity), self.f1, field, value)

    @rule(i=st.integers(0, 2), value=VALUES)
    def edit_own_field(self, i: int, value: str) -> None:
        entity, field = PRIVATE[i]
        self.devices[i].set(entity, self.person, self.f1, field, f"{value}-{i}")

    @rule(i=st.integers(0, 2))
    def observe(self, i: int) -> None:
        op = self.devices[i].create("observation", self.f1, {"kind": "fact", "text": f"seen by {i} {new_id()}"})
        self.observations[op["entity_id"]] = op["values"]["text"]

    @rule(i=st.integers(0, 2), value=VALUES)
    def edit_deleted_candidate(self, i: int, value: str) -> None:
        self.devices[i].set("person", self.scratch, self.f1, "given_name", value)

    @rule(i=st.integers(0, 2), n=st.integers(1, 6), replay=st.booleans())
    def push(self, i: int, n: int, replay: bool) -> None:
        device = self.devices[i]
        ops = device.outbox[:n]
        if not ops:
            return
        answer = self._push(i, ops)
        self._check_answers(i, ops, answer["results"])
        if replay:
            before = self._fingerprint()
            again = self._push(i, ops)
            assert all(r["status"] == "duplicate" for r in again["results"])
            self._check_answers(i, ops, again["results"])
            assert self._fingerprint() == before, "replaying a push changes nothing"

    @rule(i=st.integers(0, 2), page=st.integers(1, 7))
    def pull(self, i: int, page: int) -> None:
        self._pull(i, page)

    @rule(which=st.integers(0, 2), value=VALUES, stale=st.booleans())
    def agency_write(self, which: int, value: str, stale: bool) -> None:
        entity, field = (SHARED + [AGENCY_PRIVATE])[which]
        eid = self._record_id(entity)
        with self.store.write() as db:
            row = records.get(db, self.kr, entity, eid)
            fv = int((row["field_meta"].get(field) or {}).get("v", 0))
            op = merge.make_set(entity, eid, self.f1, field, f"{value}-agency" if which == 2 else value,
                                max(0, fv - 1) if stale else fv)
            (result,) = merge.apply_ops(db, self.kr, Actor(client_id=self.client_id), [op])
        r = msgspec.to_builtins(result)
        opd = msgspec.to_builtins(op)
        self._check_answers(None, [opd], [r])
        if which == 2:
            assert r["status"] != "conflict"

    @rule(i=st.integers(0, 2), pick=st.integers(0, 5))
    def resolve(self, i: int, pick: int) -> None:
        device = self.devices[i]
        if device.conflicts:
            c = device.conflicts[pick % len(device.conflicts)]
            device.resolve(c["id"], c["candidates"][pick % len(c["candidates"])]["value"])

    @rule(i=st.integers(0, 1))
    def sign_visit(self, i: int) -> None:
        self.devices[i].set("visit", self.visit, self.f1, "status", "completed")

    @rule()
    def delete_scratch(self) -> None:
        with self.store.write() as db:
            (r,) = merge.apply_ops(db, self.kr, Actor(client_id=self.client_id),
                                   [merge.make_delete("person", self.scratch, self.f1)])
        assert r.status == "applied"
        self.deleted.add(("person", self.scratch))

    @rule()
    def toggle_p2_allocation(self) -> None:
        self.p2_on_f2 = not self.p2_on_f2
        with self.store.write() as db:
            records.update(db, self.kr, "allocation", self.alloc[(self.f2, self.p2)], {"active": self.p2_on_f2},
                           Actor(user_id=self.sup.user_id))

    # -- invariants -----------------------------------------------------------------------

    def _fingerprint(self) -> str:
        h = hashlib.sha256()
        with self.store.read() as db:
            for table in ("change_log", "conflicts", "persons", "visits", "observations", "sync_quarantine"):
                for row in db.query(f"SELECT * FROM {table} ORDER BY rowid"):
                    h.update(repr(sorted((k, v) for k, v in row.items() if k != "received_at")).encode())
        return h.hexdigest()

    @invariant()
    def tombstones_and_signed_visits_hold(self) -> None:
        if not hasattr(self, "devices"):
            return
        with self.store.read() as db:
            for entity, eid in self.deleted:
                assert records.get(db, self.kr, entity, eid, include_deleted=True)["deleted"]
            visit = records.get(db, self.kr, "visit", self.visit)
            if visit["status"] == "completed":
                if self.signed_summary is msgspec.UNSET:
                    self.signed_summary = visit["summary"]
                assert visit["summary"] == self.signed_summary, "a signed visit never changes"

    # -- the end: everyone syncs ----------------------------------------------------------

    def _final_checks(self) -> None:
        for i, device in enumerate(self.devices):
            for _ in range(100):
                if not device.outbox:
                    break
                answer = self._push(i, device.outbox[:50])
                self._check_answers(i, device.outbox[:50] if False else [
                    op for op in device.sent if op["op_id"] in {r["op_id"] for r in answer["results"]}],
                    answer["results"])
            assert not device.outbox
        for i in range(3):
            self._pull(i, 13)
        with self.store.read() as db:
            for oid, text in self.observations.items():
                row = records.get(db, self.kr, "observation", oid)
                assert row is not None and row["text"] == text, "no observation is ever lost"
            for device in self.devices:
                for op in device.sent:
                    assert op["op_id"] in device.results, "every op got an answer"
            for i, device in enumerate(self.devices):
                visible = {self.f1} | ({self.f2} if i < 2 or self.p2_on_f2 else set())
                for fam in (self.f1, self.f2):
                    for entity in ("family", "person", "visit", "observation", "conflict", "allocation"):
                        where = "id = ?" if entity == "family" else "family_id = ?"
                        for row in records.find(db, self.kr, entity, where, [fam], include_deleted=True):
                            key = (entity, row["id"])
                            if fam not in visible:
                                assert key not in device.confirmed, "a purged family is gone from the device"
                                continue
                            if row["deleted"]:
                                assert key not in device.confirmed, "tombstones never come back"
                                continue
                            held = device.values(entity, row["id"])
                            for f in row["field_meta"]:
                                assert held.get(f) == row[f], f"device {i} converged on {entity}.{f}"
            for c in records.find(db, self.kr, "conflict", "status = 'open'"):
                target = records.get(db, self.kr, c["entity"], c["entity_id"], include_deleted=True)
                newest = max(c["candidates"], key=lambda x: x["hlc"] or "")
                if not target["deleted"] and not (c["entity"] == "visit" and target["status"] == "completed"):
                    assert target[c["field"]] == newest["value"], "the newest candidate is provisional"


SyncMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=45,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestSyncProperties = SyncMachine.TestCase
