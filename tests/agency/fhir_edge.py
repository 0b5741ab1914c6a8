"""Edge inputs for the FHIR checks: every kind of feed item, and the awkward cases a core
system meets — an antenatal mother with no child recorded, an adult with no relationship,
a closed family, a deleted person, answers under two checklist versions, a required item
left unanswered, an amended observation, an addendum, a cancelled follow-up, a decided
flag, an ended allocation, a conflict on a family detail, and non-ASCII text."""

from __future__ import annotations

from typing import Any

from server.content.loader import load_content
from server.ids import new_id
from server.settings import Settings
from server.storage import records
from server.storage.records import Actor
from tests.agency.helpers import add_father, bearer, decide_flag, feed_all, visit


def _agency(db, fid: str) -> str:
    return next(db.query("SELECT agency_id FROM families WHERE id = ?", [fid]))["agency_id"]


def antenatal_family(store, world) -> dict[str, str]:
    """A family whose only member is an expectant mother (no child, no unborn recorded)."""
    fid, mother = new_id(), new_id()
    with store.write() as db:
        agency = world.agencies["A"]
        records.insert(db, store.keyring, "family", {
            "id": fid, "agency_id": agency, "team_id": world.teams["A1"], "family_name": "Ní Bhriain",
            "address": "1 Ash Row", "postcode": "EV1 1AA", "status": "active"})
        records.insert(db, store.keyring, "person", {
            "id": mother, "agency_id": agency, "family_id": fid, "role": "mother", "given_name": "Aoife",
            "family_name": "Ní Bhriain", "sex": "female", "date_of_birth": "1996-02-29"})
        records.insert(db, store.keyring, "allocation", {
            "id": new_id(), "agency_id": agency, "family_id": fid, "practitioner_id": world.users["prac_a1"],
            "active": True})
    return {"family": fid, "mother": mother}


def build_edges(client, store, world, token: str) -> dict[str, Any]:
    h = bearer(token)
    out: dict[str, Any] = {"antenatal": antenatal_family(store, world)}
    out["father"] = add_father(store, world)
    out["visit"] = visit(store, world)
    decide_flag(store, world, out["visit"]["flag"])
    fid = world.families["own"]
    actor = Actor(user_id=world.users["prac_a1"])
    with store.write() as db:
        agency = _agency(db, fid)
        k = store.keyring
        # answers under the checklist's other version as well (a phone on older content),
        # one of them leaving a required item out
        current = load_content(Settings.from_env().content_dir).checklist("safe-sleep").version
        other = current - 1 if current > 1 else current + 1
        for item, value in (("sleep-place-night", "own-cot-or-moses-basket"),):
            records.insert(db, k, "checklist_response", {
                "id": new_id(), "agency_id": agency, "family_id": fid, "visit_id": out["visit"]["visit"],
                "checklist_id": "safe-sleep", "checklist_version": other, "subject_id": world.persons["own"],
                "item_id": item, "answer": value})
        amended = new_id()
        records.insert(db, k, "observation", {
            "id": amended, "agency_id": agency, "family_id": fid, "about_person_id": out["father"],
            "kind": "fact", "text": "Correction: Dad said the cot arrives on Tuesday — «mardi».",
            "supersedes_id": out["visit"]["obs"], "recorded_by": world.users["prac_a1"],
            "recorded_at": "2026-11-22T08:00:00.000Z"}, actor)
        records.insert(db, k, "addendum", {
            "id": new_id(), "agency_id": agency, "family_id": fid, "visit_id": out["visit"]["visit"],
            "text": "Addendum: GP informed.", "recorded_by": world.users["prac_a1"],
            "recorded_at": "2026-11-22T09:00:00.000Z"}, actor)
        records.update(db, k, "follow_up", out["visit"]["follow_up"], {"status": "cancelled"}, actor)
        lodger = new_id()
        records.insert(db, k, "person", {"id": lodger, "agency_id": agency, "family_id": fid,
                                         "role": "other-adult", "given_name": "Zoë", "lives_in_household": False})
        gone = new_id()
        records.insert(db, k, "person", {"id": gone, "agency_id": agency, "family_id": fid, "role": "partner",
                                         "given_name": "Kim"})
        records.tombstone(db, k, "person", gone)
        other = world.families["other_team"]
        records.update(db, k, "family", other, {"status": "closed"})
    out["lodger"], out["gone"] = lodger, gone
    # a conflict: two writers, one from a stale version
    fam = client.get(f"/api/agency/v1/families/{fid}", headers=h).json()
    v = fam["version"]
    assert client.patch(f"/api/agency/v1/families/{fid}", headers={**h, "If-Match": f'"{v}"'},
                        json={"address": "2 New Road"}).status_code == 200
    r = client.patch(f"/api/agency/v1/families/{fid}", headers={**h, "If-Match": f'"{v}"'},
                     json={"address": "3 Other Road"})
    assert r.status_code == 409, r.text
    out["conflict"] = r.json()["conflicts"][0]["conflict_id"]
    alloc = fam["allocations"][0]
    client.put(f"/api/agency/v1/families/{fid}/allocations/{alloc['practitioner_id']}",
               headers={**h, "If-Match": f'"{alloc["version"]}"'}, json={"active": False})
    return out


def everything(client, token: str, limits=(1, 100)) -> list[dict]:
    """Every resource the API gives: feed pages and their entries at each page size, the
    searchsets, the CapabilityStatement, and each resource read back by id."""
    h = bearer(token)
    out: list[dict] = []
    for limit in limits:
        for b in feed_all(client, token, fmt="fhir", limit=limit):
            out.append(b)
            out += [e["resource"] for e in b.get("entry", [])]
    for path in ("Questionnaire", "CodeSystem", "metadata"):
        body = client.get(f"/api/agency/v1/fhir/{path}", headers=h).json()
        out.append(body)
        out += [e["resource"] for e in body.get("entry", [])]
    unique = {(r["resourceType"], r.get("id")): r for r in out}
    for r in unique.values():
        if r["resourceType"] not in ("Bundle", "CapabilityStatement") and r.get("id"):
            read = client.get(f"/api/agency/v1/fhir/{r['resourceType']}/{r['id']}", headers=h)
            assert read.status_code == 200, (r["resourceType"], r["id"])
            out.append(read.json())
    return out
