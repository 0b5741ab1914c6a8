"""Tiny builders for test data. ``build_world`` makes two agencies so every test can check
that nothing crosses the boundary: agency A has two teams, agency B one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.accounts.service import create_user
from server.clock import now_iso
from server.ids import new_id
from server.storage import records
from server.storage.db import Database

PASSWORD = "correct horse battery staple"


@dataclass
class World:
    agencies: dict[str, str] = field(default_factory=dict)
    teams: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    families: dict[str, str] = field(default_factory=dict)
    persons: dict[str, str] = field(default_factory=dict)


def add_family(db, keyring, world: World, key: str, agency: str, team: str, practitioner: str | None) -> str:
    fid = new_id()
    agency_id = world.agencies[agency]
    records.insert(db, keyring, "family", {
        "id": fid, "agency_id": agency_id, "team_id": world.teams[team], "family_name": f"Sentinel{key}",
        "address": f"{key} Test Street", "postcode": "EV9 9ZZ", "status": "active"})
    child = new_id()
    records.insert(db, keyring, "person", {
        "id": child, "agency_id": agency_id, "family_id": fid, "role": "child", "given_name": f"Child{key}",
        "date_of_birth": "2025-01-01"})
    world.persons[key] = child
    if practitioner:
        records.insert(db, keyring, "allocation", {
            "id": new_id(), "agency_id": agency_id, "family_id": fid,
            "practitioner_id": world.users[practitioner], "active": True})
    world.families[key] = fid
    return fid


def build_world(store: Database) -> World:
    w = World()
    with store.write() as db:
        for a in ("A", "B"):
            w.agencies[a] = new_id()
            db["agencies"].insert({"id": w.agencies[a], "name": f"Agency {a}", "timezone": "Europe/London",
                                   "settings": "{}", "created_at": now_iso()})
        for t, a in (("A1", "A"), ("A2", "A"), ("B1", "B")):
            w.teams[t] = new_id()
            db["teams"].insert({"id": w.teams[t], "agency_id": w.agencies[a], "name": f"Team {t}",
                                "created_at": now_iso()})
        for username, role, team, a in [
            ("prac_a1", "practitioner", "A1", "A"),
            ("prac_a1b", "practitioner", "A1", "A"),
            ("prac_a2", "practitioner", "A2", "A"),
            ("sup_a1", "supervisor", "A1", "A"),
            ("sup_a2", "supervisor", "A2", "A"),
            ("admin_a", "admin", None, "A"),
            ("prac_b1", "practitioner", "B1", "B"),
            ("sup_b1", "supervisor", "B1", "B"),
            ("admin_b", "admin", None, "B"),
        ]:
            row = create_user(db, agency_id=w.agencies[a], username=username, display_name=username, role=role,
                              password=PASSWORD, team_id=w.teams[team] if team else None)
            w.users[username] = row["id"]
        # own: prac_a1's; other_prac: same team, another practitioner's; other_team; other_agency
        add_family(db, store.keyring, w, "own", "A", "A1", "prac_a1")
        add_family(db, store.keyring, w, "other_prac", "A", "A1", "prac_a1b")
        add_family(db, store.keyring, w, "other_team", "A", "A2", "prac_a2")
        add_family(db, store.keyring, w, "other_agency", "B", "B1", "prac_b1")
    return w


def login(client, username: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def auth(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access_token']}"}
