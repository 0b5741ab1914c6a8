"""Agency write-back takes only UUIDs as record ids (a case number belongs in external_ids),
so nothing it accepts can make an invalid FHIR id."""

from __future__ import annotations

from server.storage import records
from tests.agency.helpers import bearer, make_client


def test_a_record_id_that_is_not_a_uuid_is_refused_on_put_and_nothing_is_stored(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    h = bearer(token)
    body = {"family_name": "Okafor", "address": "9 Birch Close", "postcode": "EV4 4AA", "team_id": world.teams["A1"]}
    r = client.put("/api/agency/v1/families/CASE_1001", headers=h, json=body)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["path.family_id"]
    assert "CASE_1001" not in r.text
    with store.read() as db:
        assert records.get(db, store.keyring, "family", "CASE_1001", include_deleted=True) is None
    fid = client.post("/api/agency/v1/families", headers=h, json=body).json()["id"]
    r = client.put(f"/api/agency/v1/families/{fid}/persons/PERSON 1", headers=h, json={"role": "child"})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["path.person_id"]
