"""Subject access export (JSON and HTML, third parties marked, audited) and retention
review (nothing deleted)."""

from __future__ import annotations

import json
from datetime import date

from server import retention
from server.ids import new_id
from server.storage import records
from server.storage.records import Actor
from tests.factories import auth, login

from .conftest import cli, dump_tables

HOSTILE_NAME = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _household(store, world):
    """prac_a1's family gains a mother (third party to the child), an observation about
    the child and one about the mother."""
    fid = world.families["own"]
    child = world.persons["own"]
    agency = world.agencies["A"]
    mother = new_id()
    with store.write() as db:
        records.insert(db, store.keyring, "person", {"id": mother, "agency_id": agency, "family_id": fid,
                                                     "role": "mother", "given_name": HOSTILE_NAME,
                                                     "family_name": "Thirdparty"})
        records.insert(db, store.keyring, "relationship", {"id": new_id(), "agency_id": agency, "family_id": fid,
                                                           "adult_id": mother, "child_id": child,
                                                           "relationship": "mother", "parental_responsibility": True})
        visit = new_id()
        records.insert(db, store.keyring, "visit", {"id": visit, "agency_id": agency, "family_id": fid,
                                                    "practitioner_id": world.users["prac_a1"], "type": "targeted",
                                                    "status": "completed", "present": [mother, child]})
        base = {"agency_id": agency, "family_id": fid, "visit_id": visit, "recorded_by": world.users["prac_a1"],
                "recorded_at": "2026-01-01T10:00:00Z"}
        records.insert(db, store.keyring, "observation", {"id": new_id(), **base, "about_person_id": child,
                                                          "kind": "child-words", "text": "I like my nursery"},
                       Actor(user_id=world.users["prac_a1"]))
        records.insert(db, store.keyring, "observation", {"id": new_id(), **base, "about_person_id": mother,
                                                          "kind": "parent-view", "text": "Mother's own worries"},
                       Actor(user_id=world.users["prac_a1"]))
    return child, mother


def test_an_admin_exports_everything_about_a_person_with_third_parties_marked(client, store, world):
    child, mother = _household(store, world)
    admin = login(client, "admin_a")
    r = client.get(f"/api/v1/admin/persons/{child}/export", headers=auth(admin))
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    data = r.json()
    assert data["subject"]["id"] == child and data["subject"]["given_name"] == "Childown"
    assert data["subject"]["retention_class"] == "child-health"
    assert [h["third_party"] for h in data["household"]] == [True]
    assert data["household"][0]["name"].startswith("<script>")
    visit = data["visits"][0]
    present = {p["id"]: p["third_party"] for p in visit["present"]}
    assert present == {mother: True, child: False}
    texts = {o["text"]: o for o in data["observations"]}
    assert "I like my nursery" in texts and texts["I like my nursery"]["about_subject"] is True
    # Observations about another person are not the subject's data.
    assert "Mother's own worries" not in texts
    rel = data["relationships"][0]
    assert rel["adult"]["third_party"] is True and rel["child"]["third_party"] is False

    with store.read() as db:
        row = next(db.query("SELECT * FROM audit_events WHERE action = 'subject-access-export'"))
    assert row["entity_id"] == child and row["user_id"] == world.users["admin_a"]


def test_the_html_export_is_readable_and_escapes_everything(client, store, world):
    child, _ = _household(store, world)
    admin = login(client, "admin_a")
    r = client.get(f"/api/v1/admin/persons/{child}/export", params={"format": "html"}, headers=auth(admin))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "<h1>Subject access export</h1>" in page and "I like my nursery" in page
    assert "<script" not in page and "<img" not in page and "onerror=" not in page.replace("onerror=alert", "")
    assert "&lt;script&gt;" in page and "[third party]" in page
    assert "style=" not in page and " on" not in page.split("<body>")[1].split(">")[0]
    assert r.headers["content-security-policy"].startswith("default-src 'self'")


def test_only_an_admin_of_the_persons_agency_can_export(client, store, world):
    child = world.persons["own"]
    assert client.get(f"/api/v1/admin/persons/{child}/export", headers=auth(login(client, "sup_a1"))).status_code == 403
    r = client.get(f"/api/v1/admin/persons/{child}/export", headers=auth(login(client, "admin_b")))
    assert r.status_code == 404
    r = client.get(f"/api/v1/admin/persons/{child}/export", params={"format": "pdf"},
                   headers=auth(login(client, "admin_a")))
    assert r.status_code == 400


def _close(store, world, key: str) -> None:
    with store.write() as db:
        records.update(db, store.keyring, "family", world.families[key], {"status": "closed"})


def test_child_records_are_reviewed_at_25_or_26_if_17_at_the_end_of_care(store):
    rules = dict(retention.DEFAULTS)
    ended = date(2026, 6, 1)
    young = {"role": "child", "date_of_birth": "2020-03-15"}
    seventeen = {"role": "child", "date_of_birth": "2009-01-10"}
    adult = {"role": "mother", "date_of_birth": "1990-01-01"}
    assert retention.person_review_date(young, ended, rules)[0] == date(2045, 3, 15)
    assert retention.person_review_date(seventeen, ended, rules)[0] == date(2035, 1, 10)
    assert retention.person_review_date(adult, ended, rules)[0] == date(2034, 6, 1)
    assert retention.person_review_date(young, None, rules)[0] is None


def test_retention_report_lists_closed_records_due_and_deletes_nothing(client, store, world, settings):
    _close(store, world, "own")  # child born 2025-01-01: due on 2050-01-01
    with store.write() as db:
        db.execute("UPDATE agencies SET settings = ? WHERE id = ?",
                   [json.dumps({"retention": {"child_until_age": 21}}), world.agencies["B"]])
    _close(store, world, "other_agency")  # agency B keeps children's records to 21: due 2046-01-01
    store.close()
    before = dump_tables(settings.db_path)
    early = cli("retention", "report", "--as-of", "2046-06-01", "--json", data_dir=settings.data_dir, check=True)
    rows = [json.loads(line) for line in early.stdout.splitlines()]
    assert [r["family_id"] for r in rows] == [world.families["other_agency"]]
    assert rows[0]["review_on"] == "2046-01-01" and rows[0]["retention_class"] == "child-health"
    late = cli("retention", "report", "--as-of", "2050-01-01", data_dir=settings.data_dir, check=True)
    assert world.families["own"] in late.stdout and "Nothing has been deleted" in late.stdout
    assert world.families["other_team"] not in late.stdout  # still open
    assert dump_tables(settings.db_path) == before
