from __future__ import annotations

import sqlite3
from datetime import date

import httpx

from server.demo import seed_demo
from server.storage import records

TABLES = ["agencies", "teams", "users", "families", "persons", "relationships", "allocations", "visits",
          "follow_ups", "flags", "change_log"]


def counts(settings):
    conn = sqlite3.connect(settings.db_path)
    out = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    conn.close()
    return out


def test_seeding_twice_adds_nothing(store, settings):
    assert seed_demo(store) is True
    first = counts(settings)
    assert seed_demo(store) is False
    assert counts(settings) == first
    assert first["families"] == 12 and first["users"] == 4


def test_demo_families_have_the_variety_the_team_needs(store):
    seed_demo(store)
    with store.read() as db:
        persons = records.find(db, store.keyring, "person")
        visits = records.find(db, store.keyring, "visit")
    by_family: dict[str, list] = {}
    for p in persons:
        by_family.setdefault(p["family_id"], []).append(p)
    assert any(p["role"] == "unborn" and p["expected_date"] for p in persons)
    assert any(len([p for p in ps if p["role"] == "child"]) == 5 for ps in by_family.values())
    assert any(p["role"] in ("partner", "male-carer") and p["lives_in_household"] for p in persons)
    ages = [(date.today() - date.fromisoformat(p["date_of_birth"])).days / 365.25
            for p in persons if p["role"] == "child"]
    assert min(ages) < 0.1 and max(ages) > 14
    no_access = [v for v in visits if v["no_access"]]
    assert len(no_access) >= 2 and len({v["family_id"] for v in no_access}) == 1


def test_the_demo_command_serves_the_demo_on_a_real_port(live_server):
    session = live_server.login("practitioner1")
    r = httpx.get(live_server.url + "/api/v1/families",
                  headers={"Authorization": f"Bearer {session['access_token']}"})
    assert r.status_code == 200 and len(r.json()) == 7
    assert httpx.get(live_server.url + "/").status_code == 200
    assert httpx.get(live_server.url + "/schema/openapi.json").json()["info"]["title"] == "Hearthside"
