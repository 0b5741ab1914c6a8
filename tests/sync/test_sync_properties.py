"""Property-based sync tests: three phones (two practitioners), a supervisor writing as a
REST handler does and an agency client writing back interleave edits (typed values: 1,
true and 1.0 are different answers), observations on records that may be deleted,
pushes of any batch size (replayed at random), pulls of any page size, resolutions,
visit signing, a supervisor's deletes of visits and persons, and a family's allocation
ending and returning, against a real SQLite file through the functions the handlers call.

Checked after every step or at the end of each run:
- replaying a push changes nothing; every op gets one lasting answer;
- every change is returned exactly once, in order, from any cursor with any page size;
- no silent overwrite on any channel: a write that replaces a value names the version it
  replaced (only a phone's own queued edits follow each other); a stale write keeps both
  values in a conflict; edits to different fields never conflict;
- an open conflict always holds two different values: it closes when the writers agree;
- no observation is ever lost: each is in the database exactly once, kept (with a reason
  for attention) when its visit or person was deleted or its family was out of reach;
- tombstones never come back; a signed visit never changes;
- ops held while a family was out of reach are applied when access returns, none lost;
- after everyone syncs, every device holds exactly what the server holds (convergence),
  and a device whose allocation ended holds nothing of that family.

Run size: HEARTHSIDE_SYNC_EXAMPLES (default 200) runs × up to 45 steps.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from server.access import family_condition
from server.ids import new_id
from server.storage import records
from server.storage.crypto import Keyring
from server.storage.db import open_database
from sync import merge, pull as pull_mod, push as push_mod
from sync.values import same
from tests.sync import property_world as pw
from tests.sync.device import DeviceModel

EXAMPLES = int(os.environ.get("HEARTHSIDE_SYNC_EXAMPLES", "200"))
SKEW_MS = [-4000, 0, 2500]  # phones' clocks are wrong in both directions
WORDS = ["amber", "birch", "cedar"]
# JSON answers that Python's == calls equal and the model does not.
TYPED = [1, True, 1.0, 0, False, "1"]
SHARED = [("person", "given_name", WORDS), ("visit", "summary", WORDS), ("checklist_response", "answer", TYPED)]
PRIVATE = {0: ("person", "ethnicity"), 1: ("person", "family_name"), 2: ("person", "language")}
NHS_NUMBERS = ["9434765919", "9434765870", "9434765862"]
OUT_OF_REACH = "the family is not in your reach now"


def is_in(value: Any, values: list[Any]) -> bool:
    return any(same(value, v) for v in values)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="hs-sync-"))
        self.store = open_database(self.tmp / "h.db", Keyring.generate())
        self.kr = self.store.keyring
        self.results: dict[str, dict[str, Any]] = {}  # op_id -> first answer
        self.observations: dict[str, str] = {}
        self.deleted: set[tuple[str, str]] = set()
        self.signed: dict[str, Any] = {}  # visit id -> its summary when signed

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
            self.w = pw.build(db, self.kr)
        self.devices = [DeviceModel(p.device_id, lambda s=SKEW_MS[i]: time.time_ns() // 1_000_000 + s)
                        for i, p in enumerate(self.w.principals)]
        self.p2_on_f2 = True
        for i in range(3):
            self._pull(i, 50)

    # -- helpers --------------------------------------------------------------------------

    def _push(self, i: int, ops: list[dict[str, Any]]) -> dict[str, Any]:
        body = msgspec.json.encode({"ops": ops})
        with self.store.write() as db:
            answer = msgspec.to_builtins(push_mod.push(db, self.kr, self.w.principals[i], body))
        self.devices[i].take_push_response(answer, ops)
        return answer

    def _visible_seqs(self, i: int, after: int) -> list[int]:
        cond, params = family_condition(self.w.principals[i], "family_id")
        with self.store.read() as db:
            return [r["seq"] for r in db.query(
                f"SELECT seq FROM change_log WHERE seq > ? AND {cond} ORDER BY seq", [after, *params])]

    def _pull(self, i: int, page: int) -> None:
        device = self.devices[i]
        expected = self._visible_seqs(i, device.cursor)
        got: list[int] = []
        for _ in range(10_000):
            with self.store.read() as db:
                answer = msgspec.to_builtins(pull_mod.pull(db, self.kr, self.w.principals[i], device.cursor, page))
            got.extend(c["seq"] for c in answer["changes"] if not c["backfill"])
            device.take_pull_response(answer)
            if not answer["has_more"]:
                break
        assert got == expected, "pull must return every visible change exactly once, in order"

    def _check_answers(self, device: str | None, ops: list[dict[str, Any]], answers: list[dict[str, Any]]) -> None:
        """``device``: the phone that sent ``ops``; None for a writer without a phone."""
        with self.store.read() as db:
            for op, r in zip(ops, answers):
                assert r["op_id"] == op["op_id"]
                first = self.results.setdefault(op["op_id"], r)
                if first is not r:
                    assert r["status"] == "duplicate", "a replay is answered as a duplicate"
                    assert r.get("first_status") == first["status"], "a duplicate repeats the first answer"
                    continue
                assert r["status"] != "duplicate"
                if op["type"] != "set" or r["status"] in ("rejected", "held"):
                    continue
                key = (op["entity_id"], op["field"])
                if r["status"] == "conflict":
                    conflict = records.get(db, self.kr, "conflict", r["conflict_id"])
                    values = [c["value"] for c in conflict["candidates"]]
                    later_own = [o for o in ops if o["type"] == "set" and (o["entity_id"], o["field"]) == key
                                 and o["client_seq"] > op["client_seq"]]
                    assert is_in(op["value"], values) or later_own, "a conflict keeps the competing value"
                elif r.get("reason") is None and r.get("field_version") and r["field_version"] == r["version"]:
                    # It changed the field: its writer must have seen the value it replaced.
                    history = pw.field_history(db, self.kr, op["entity_id"])
                    if r["version"] not in history or op["field"] not in history[r["version"]][0]:
                        continue
                    prior = [v for v, (fields, _) in history.items() if v < r["version"] and op["field"] in fields]
                    prev = max(prior) if prior else 0
                    own_chain = device is not None and prev and history[prev][1] == device
                    assert op["base_version"] == prev or own_chain, "no silent overwrite"
                if device is not None:
                    i = [d.device_id for d in self.devices].index(device)
                    if (op["entity"], op["field"]) == PRIVATE[i]:
                        assert r["status"] != "conflict", "edits to different fields never conflict"

    def _serverside_set(self, writer: str, entity: str, eid: str, name: str, value: Any, stale: bool) -> None:
        """A REST or agency write on the version it read (or one older, when ``stale``)."""
        with self.store.write() as db:
            row = records.get(db, self.kr, entity, eid, include_deleted=True)
            fv = pw.field_version(row, name)
            base = max(0, fv - 1) if stale else fv
            if writer == "agency":
                r = pw.agency_set(db, self.kr, self.w, entity, eid, name, value, base)
            else:
                (r,) = pw.supervisor_apply(db, self.kr, self.w, [merge.make_set(entity, eid, self.w.f1, name,
                                                                                value, base)])
        op = {"op_id": r["op_id"], "type": "set", "entity": entity, "entity_id": eid, "field": name,
              "value": value, "base_version": base, "client_seq": 0}
        self._check_answers(None, [op], [r])
        if r["status"] == "applied" and base < fv and not same(value, row[name]):
            # Stale and different: replacing the value is only right when a conflict says so.
            assert r.get("conflict_id"), f"a stale {writer} write replaced the value silently"

    # -- rules: phones --------------------------------------------------------------------

    @rule(i=st.integers(0, 2), which=st.integers(0, 2), idx=st.integers(0, 1), pick=st.integers(0, 5))
    def edit_shared_field(self, i: int, which: int, idx: int, pick: int) -> None:
        entity, name, values = SHARED[which]
        self.devices[i].set(entity, self.w.record(entity, idx), self.w.f1, name, values[pick % len(values)])

    @rule(i=st.integers(0, 2), value=st.sampled_from(WORDS))
    def edit_own_field(self, i: int, value: str) -> None:
        entity, name = PRIVATE[i]
        self.devices[i].set(entity, self.w.persons[0], self.w.f1, name, f"{value}-{i}")

    @rule(i=st.integers(0, 2), value=st.sampled_from(WORDS))
    def edit_in_f2(self, i: int, value: str) -> None:
        self.devices[i].set("person", self.w.f2_person, self.w.f2, "given_name", value)

    @rule(i=st.integers(0, 2), visit=st.integers(-1, 1), person=st.integers(-1, 1))
    def observe(self, i: int, visit: int, person: int) -> None:
        values = {"kind": "fact", "text": f"seen by {i} {new_id()}"}
        if visit >= 0:
            values["visit_id"] = self.w.visits[visit]
        if person >= 0:
            values["about_person_id"] = self.w.persons[person]
        op = self.devices[i].create("observation", self.w.f1, values)
        self.observations[op["entity_id"]] = values["text"]

    @rule(with_visit=st.booleans())
    def observe_in_f2(self, with_visit: bool) -> None:
        """p2 records in f2 (whose allocation may have ended meanwhile), on a new visit."""
        device = self.devices[2]
        values = {"kind": "child-words", "text": f"said in f2 {new_id()}", "about_person_id": self.w.f2_person}
        if with_visit:
            values["visit_id"] = device.create("visit", self.w.f2, {"type": "targeted"})["entity_id"]
        op = device.create("observation", self.w.f2, values)
        self.observations[op["entity_id"]] = values["text"]

    @rule(i=st.integers(0, 2), value=st.sampled_from(WORDS))
    def edit_deleted_candidate(self, i: int, value: str) -> None:
        self.devices[i].set("person", self.w.scratch, self.w.f1, "given_name", value)

    @rule(i=st.integers(0, 2), n=st.integers(1, 6), replay=st.booleans())
    def push(self, i: int, n: int, replay: bool) -> None:
        device = self.devices[i]
        ops = device.outbox[:n]
        if not ops:
            return
        answer = self._push(i, ops)
        self._check_answers(device.device_id, ops, answer["results"])
        if replay:
            before = pw.fingerprint(self.store)
            again = self._push(i, ops)
            assert all(r["status"] == "duplicate" for r in again["results"])
            self._check_answers(device.device_id, ops, again["results"])
            assert pw.fingerprint(self.store) == before, "replaying a push changes nothing"

    @rule(i=st.integers(0, 2), page=st.integers(1, 7))
    def pull(self, i: int, page: int) -> None:
        self._pull(i, page)

    @rule(i=st.integers(0, 2), pick=st.integers(0, 5))
    def resolve(self, i: int, pick: int) -> None:
        device = self.devices[i]
        self._pull(i, 50)  # the person opens the conflicts screen after a sync
        # The open conflicts the phone holds, as records of its families.
        open_ = [(eid, v) for (entity, eid), _ in device.confirmed.items() if entity == "conflict"
                 for v in [device.values("conflict", eid)] if v.get("status") == "open" and v.get("candidates")]
        if open_:
            eid, c = open_[pick % len(open_)]
            device.resolve(eid, c["candidates"][pick % len(c["candidates"])]["value"])

    @rule(i=st.integers(0, 1), idx=st.integers(0, 1))
    def sign_visit(self, i: int, idx: int) -> None:
        self.devices[i].set("visit", self.w.visits[idx], self.w.f1, "status", "completed")

    # -- rules: writers without a phone ------------------------------------------------------

    @rule(which=st.integers(0, 3), idx=st.integers(0, 1), pick=st.integers(0, 5), stale=st.booleans())
    def agency_write(self, which: int, idx: int, pick: int, stale: bool) -> None:
        if which == 3:  # a field only the agency writes: never a conflict
            self._serverside_set("agency", "person", self.w.persons[0], "nhs_number", NHS_NUMBERS[pick % 3], stale)
            return
        entity, name, values = SHARED[which]
        self._serverside_set("agency", entity, self.w.record(entity, idx), name, values[pick % len(values)], stale)

    @rule(which=st.integers(0, 2), idx=st.integers(0, 1), pick=st.integers(0, 5), stale=st.booleans())
    def supervisor_write(self, which: int, idx: int, pick: int, stale: bool) -> None:
        entity, name, values = SHARED[which]
        self._serverside_set("supervisor", entity, self.w.record(entity, idx), name, values[pick % len(values)],
                             stale)

    @rule(pick=st.integers(0, 5))
    def supervisor_resolves(self, pick: int) -> None:
        with self.store.write() as db:
            conflicts = records.find(db, self.kr, "conflict", "status = 'open'")
            if not conflicts:
                return
            c = conflicts[pick % len(conflicts)]
            value = c["candidates"][pick % len(c["candidates"])]["value"]
            (r,) = pw.supervisor_apply(db, self.kr, self.w, [merge.make_resolve(c["id"], value)])
        assert r["status"] == "applied", r

    @rule(entity=st.sampled_from(["person", "visit"]), idx=st.integers(0, 1))
    def supervisor_deletes(self, entity: str, idx: int) -> None:
        eid = self.w.record(entity, idx)
        with self.store.write() as db:
            (r,) = pw.supervisor_apply(db, self.kr, self.w, [merge.make_delete(entity, eid, self.w.f1)])
        if eid in self.signed:
            assert r["status"] == "rejected", "a signed visit is not deleted"
        else:
            assert r["status"] == "applied", r
            self.deleted.add((entity, eid))

    @rule()
    def agency_deletes_scratch(self) -> None:
        with self.store.write() as db:
            (r,) = merge.apply_ops(db, self.kr, records.Actor(client_id=self.w.client_id),
                                   [merge.make_delete("person", self.w.scratch, self.w.f1)])
        assert r.status == "applied"
        self.deleted.add(("person", self.w.scratch))

    @rule()
    def toggle_p2_allocation(self) -> None:
        self._set_p2_allocation(not self.p2_on_f2)

    def _set_p2_allocation(self, active: bool) -> None:
        """The supervisor ends or restores p2's allocation to f2, through the merge (so
        what p2 sent meanwhile is applied when it returns)."""
        aid = self.w.alloc[(self.w.f2, self.w.p2)]
        with self.store.write() as db:
            row = records.get(db, self.kr, "allocation", aid)
            (r,) = pw.supervisor_apply(db, self.kr, self.w, [merge.make_set(
                "allocation", aid, self.w.f2, "active", active, pw.field_version(row, "active"))])
        assert r["status"] == "applied", r
        self.p2_on_f2 = active

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def tombstones_signed_visits_and_open_conflicts_hold(self) -> None:
        if not hasattr(self, "devices"):
            return
        with self.store.read() as db:
            for entity, eid in self.deleted:
                assert records.get(db, self.kr, entity, eid, include_deleted=True)["deleted"]
            for vid in self.w.visits:
                visit = records.get(db, self.kr, "visit", vid, include_deleted=True)
                if visit["status"] == "completed":
                    summary = self.signed.setdefault(vid, visit["summary"])
                    assert same(visit["summary"], summary), "a signed visit never changes"
            for c in records.find(db, self.kr, "conflict", "status = 'open'"):
                values = [x["value"] for x in c["candidates"]]
                assert any(not same(v, values[0]) for v in values), "a conflict closes when the writers agree"
            refused = db.execute("SELECT count(*) FROM sync_quarantine WHERE reason = ?", [OUT_OF_REACH]).fetchone()
            assert refused[0] == 0, "an op out of reach for a moment is held, never refused"

    # -- the end: everyone syncs ----------------------------------------------------------

    def _sync_everyone(self) -> None:
        for i, device in enumerate(self.devices):
            for _ in range(100):
                if not device.outbox:
                    break
                ops = device.outbox[:50]
                answer = self._push(i, ops)
                self._check_answers(device.device_id, ops, answer["results"])
            assert not device.outbox
        for i in range(3):
            self._pull(i, 13)

    def _final_checks(self) -> None:
        self._sync_everyone()
        if not self.p2_on_f2:
            self._check_converged(self.devices[2], {self.w.f1}, {self.w.f2})
            self._set_p2_allocation(True)  # access returns: what p2 sent meanwhile is applied
            self._sync_everyone()
        with self.store.read() as db:
            assert db.execute("SELECT count(*) FROM sync_held WHERE status = 'held'").fetchone()[0] == 0, \
                "ops held while out of reach are applied when access returns"
            for op_id, first in self.results.items():
                if first["status"] == "held":
                    (now,) = db.execute("SELECT status FROM sync_ops WHERE op_id = ?", [op_id]).fetchone()
                    assert now in ("applied", "conflict"), "a held op is applied, not lost"
            texts = [o["text"] for o in records.find(db, self.kr, "observation", include_deleted=True)]
            for oid, text in self.observations.items():
                row = records.get(db, self.kr, "observation", oid)
                assert row is not None and row["text"] == text, "no observation is ever lost"
                assert texts.count(text) == 1, "an observation is kept exactly once"
                for entity, ref, why in (("visit", "visit_id", "visit-deleted"),
                                         ("person", "about_person_id", "person-deleted")):
                    if row["attention"] == why:
                        target = records.get(db, self.kr, entity, row[ref], include_deleted=True)
                        assert target is None or target["deleted"], f"{why} names a record that is there"
            for device in self.devices:
                for op in device.sent:
                    assert op["op_id"] in device.results, "every op got an answer"
        for device in self.devices:
            self._check_converged(device, {self.w.f1, self.w.f2}, set())
        with self.store.read() as db:
            for c in records.find(db, self.kr, "conflict", "status = 'open'"):
                target = records.get(db, self.kr, c["entity"], c["entity_id"], include_deleted=True)
                newest = max(c["candidates"], key=lambda x: x["hlc"] or "")
                if not target["deleted"] and not (c["entity"] == "visit" and target["status"] == "completed"):
                    assert same(target[c["field"]], newest["value"]), "the newest candidate is provisional"

    def _check_converged(self, device: DeviceModel, visible: set[str], purged: set[str]) -> None:
        with self.store.read() as db:
            for fam in visible | purged:
                for entity in ("family", "person", "visit", "checklist_response", "observation", "conflict",
                               "allocation"):
                    where = "id = ?" if entity == "family" else "family_id = ?"
                    for row in records.find(db, self.kr, entity, where, [fam], include_deleted=True):
                        key = (entity, row["id"])
                        if fam in purged:
                            assert key not in device.confirmed, "a purged family is gone from the device"
                        elif row["deleted"]:
                            assert key not in device.confirmed, "tombstones never come back"
                        else:
                            held = device.values(entity, row["id"])
                            for f in row["field_meta"]:
                                assert same(held.get(f), row[f]), f"converged on {entity}.{f}"


SyncMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=45,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestSyncProperties = SyncMachine.TestCase
