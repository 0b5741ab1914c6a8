"""Builders for the agency tests: clients, a signed visit with answers, words, a flag and a
follow-up, and a draft visit that must stay out of the feed."""

from __future__ import annotations

from typing import Any

from server.agency.clients import create_client
from server.content.loader import load_content
from server.settings import Settings
from server.ids import new_id, stable_id
from server.storage import records
from server.storage.records import Actor

CHILD_WORDS = "I don't like it when Dad's friend stays over, he shouts at night."


def make_client(store, agency_id: str, scopes=("feed:read", "families:read", "families:write"), **kw) -> tuple[str, str]:
    with store.write() as db:
        info, token, _ = create_client(db, store.keyring, agency_id, "Core system", list(scopes), **kw)
    return info.id, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add_father(store, world, key: str = "own") -> str:
    fid = world.families[key]
    father = new_id()
    with store.write() as db:
        agency = next(db.query("SELECT agency_id FROM families WHERE id = ?", [fid]))["agency_id"]
        records.insert(db, store.keyring, "person", {
            "id": father, "agency_id": agency, "family_id": fid, "role": "father", "given_name": "Dariusz",
            "family_name": "Sentinel", "sex": "male"})
        records.insert(db, store.keyring, "relationship", {
            "id": new_id(), "agency_id": agency, "family_id": fid, "adult_id": father,
            "child_id": world.persons[key], "relationship": "father", "parental_responsibility": True})
    return father


def visit(store, world, key: str = "own", *, sign: bool = True, practitioner: str = "prac_a1") -> dict[str, str]:
    """A visit to the family ``key`` with safe-sleep and child-seen-alone answers, the
    child's own words, an ICON answer for the father, a flag and a follow-up."""
    fid = world.families[key]
    child = world.persons[key]
    user = world.users[practitioner]
    actor = Actor(user_id=user, device_id=None, hlc="000000000000001-00000-dev")
    ids = {"visit": new_id(), "obs": new_id(), "flag": new_id(), "follow_up": new_id()}
    with store.write() as db:
        agency = next(db.query("SELECT agency_id FROM families WHERE id = ?", [fid]))["agency_id"]
        father = next(db.query("SELECT id FROM persons WHERE family_id = ? AND role = 'father'", [fid]), None)
        k = store.keyring
        records.insert(db, k, "visit", {"id": ids["visit"], "agency_id": agency, "family_id": fid,
                                        "practitioner_id": user, "type": "new-birth", "status": "in-progress",
                                        "started_at": "2026-11-20T10:00:00.000Z",
                                        "present": [child] + ([father["id"]] if father else [])}, actor)

        # Answered against the checklists as they are now (the versions the feed publishes).
        versions = {c.id: c.version for c in load_content(Settings.from_env().content_dir).checklists}

        def answer(checklist, subject, item, value, note=None, seen=None):
            records.insert(db, k, "checklist_response", {
                "id": stable_id(ids["visit"], checklist, subject, item), "agency_id": agency, "family_id": fid,
                "visit_id": ids["visit"], "checklist_id": checklist, "checklist_version": versions[checklist],
                "subject_id": subject, "item_id": item, "answer": value, "note": note, "seen_or_told": seen}, actor)

        answer("safe-sleep", child, "sleep-place-night", "adult-bed", "Said baby was in with mum.", "told")
        answer("safe-sleep", child, "items-in-sleep-space", ["pillow", "pod-or-nest"])
        answer("child-seen-alone", child, "child-seen", "yes", seen="seen")
        answer("child-seen-alone", child, "child-declined-reason", CHILD_WORDS)
        if father:
            answer("icon", father["id"], "icon-never-shake", "understood")
        records.insert(db, k, "observation", {
            "id": ids["obs"], "agency_id": agency, "family_id": fid, "visit_id": ids["visit"],
            "about_person_id": child, "kind": "child-words", "text": CHILD_WORDS, "recorded_by": user,
            "recorded_at": "2026-11-20T10:20:00.000Z"}, actor)
        records.insert(db, k, "flag", {
            "id": ids["flag"], "agency_id": agency, "family_id": fid, "visit_id": ids["visit"],
            "rule_id": "adult-bed-sharing", "subject_id": child, "severity": "high",
            "reason": "Baby sleeping in the adult bed", "answers": [{"item": "sleep-place-night"}],
            "status": "open", "raised_by": user}, actor)
        records.insert(db, k, "follow_up", {
            "id": ids["follow_up"], "agency_id": agency, "family_id": fid, "visit_id": ids["visit"],
            "rule_id": "adult-bed-sharing", "subject_id": child, "assignee_id": user,
            "due_at": "2026-11-23", "text": "Check the cot is set up", "status": "open"}, actor)
        if sign:
            records.update(db, k, "visit", ids["visit"], {"status": "completed",
                                                          "completed_at": "2026-11-20T11:00:00.000Z",
                                                          "signed_by": user}, actor)
    return ids


def decide_flag(store, world, flag_id: str) -> None:
    with store.write() as db:
        records.update(db, store.keyring, "flag", flag_id, {
            "status": "closed", "decision": "Safe sleep plan agreed", "rationale": "Cot delivered",
            "decided_by": world.users["sup_a1"], "decided_at": "2026-11-21T09:00:00.000Z"},
            Actor(user_id=world.users["sup_a1"]))


def feed_all(client, token: str, fmt: str = "json", limit: int = 100) -> list[dict[str, Any]]:
    cursor, out = 0, []
    while True:
        r = client.get("/api/agency/v1/feed", params={"cursor": cursor, "limit": limit, "format": fmt},
                       headers=bearer(token))
        assert r.status_code == 200, r.text
        body = r.json()
        out.append(body)
        cursor = int(r.headers["Hearthside-Next-Cursor"])
        if r.headers["Hearthside-Has-More"] != "true":
            return out
