"""External ids belong to the client that sent them: another core system of the same agency
never sees, or finds by, them; the file connector's acknowledgements use its own namespace."""

from __future__ import annotations

from tests.agency.helpers import bearer, make_client


def _feed(client, token):
    return client.get("/api/agency/v1/feed", params={"cursor": 0, "limit": 500}, headers=bearer(token)).json()["items"]


def test_an_external_id_is_seen_and_found_only_by_the_client_that_sent_it(client, store, world):
    _, systmone = make_client(store, world.agencies["A"], identifier_system="https://systmone.example/id")
    _, mosaic = make_client(store, world.agencies["A"], identifier_system="https://mosaic.example/id")
    r = client.post("/api/agency/v1/families", headers=bearer(systmone), json={
        "family_name": "Okafor", "address": "9 Birch Close", "postcode": "EV4 4AA", "team_id": world.teams["A1"],
        "external_ids": [{"value": "CASE-1001"}]})
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    assert r.json()["external_ids"] == [{"system": "https://systmone.example/id", "value": "CASE-1001"}]

    assert client.get(f"/api/agency/v1/families/{fid}", headers=bearer(mosaic)).json()["external_ids"] == []
    assert client.get("/api/agency/v1/families", params={"external_id": "CASE-1001",
                                                          "system": "https://systmone.example/id"},
                      headers=bearer(mosaic)).status_code == 404
    mine = next(i for i in _feed(client, systmone) if i["type"] == "family" and i["id"] == fid)
    theirs = next(i for i in _feed(client, mosaic) if i["type"] == "family" and i["id"] == fid)
    assert mine["external_ids"] == [{"system": "https://systmone.example/id", "value": "CASE-1001"}]
    assert theirs["external_ids"] == []


def test_the_connectors_acknowledgements_are_filed_under_its_own_namespace(client, store, world):
    from server.agency.connector import CONNECTOR_SYSTEM

    _, token = make_client(store, world.agencies["A"], identifier_system="https://rio.example/id")
    item = _feed(client, token)[0]
    r = client.post("/api/agency/v1/acks", headers=bearer(token), json=[
        {"item_type": item["type"], "id": item["id"], "version": item["version"],
         "external_id": f"inbox/{item['type']}/{item['id']}", "system": CONNECTOR_SYSTEM}])
    assert r.status_code == 200, r.text
    again = next(i for i in _feed(client, token) if i["id"] == item["id"])
    assert again["external_ids"] == [{"system": CONNECTOR_SYSTEM, "value": f"inbox/{item['type']}/{item['id']}"}]
    assert not [e for e in again["external_ids"] if e["system"] == "https://rio.example/id"]
    bad = client.post("/api/agency/v1/acks", headers=bearer(token), json=[
        {"item_type": item["type"], "id": item["id"], "version": item["version"], "external_id": "x",
         "system": "not a uri"}])
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body[0].system"
