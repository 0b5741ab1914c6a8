"""FHIR that resolves: every fullUrl the feed gives can be read, as the same resource and
version, from the configured public address; the CapabilityStatement, Questionnaires and
CodeSystems by id; the same token, scope and agency scoping as the feed."""

from __future__ import annotations

import json

import pytest

from server.settings import Settings
from tests.agency.fhir_check import resource_problems
from tests.agency.fhir_edge import build_edges
from tests.agency.helpers import bearer, feed_all, make_client, visit

PUBLIC = "https://hearthside.example.org/hv"


@pytest.fixture
def settings(tmp_path):
    return Settings.from_env(data_dir=tmp_path / "data", demo=True, scheduler_enabled=False, public_url=PUBLIC)


def _latest(bundles):
    """Each fullUrl's newest resource (a later page supersedes an earlier one)."""
    out = {}
    for b in bundles:
        for e in b.get("entry", []):
            out[e["fullUrl"]] = e["resource"]
    return out


def _strip(r):
    return {k: v for k, v in r.items() if k != "meta"}


def test_every_full_url_in_the_feed_reads_back_as_the_same_resource_and_version(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    build_edges(client, store, world, token)
    latest = _latest(feed_all(client, token, fmt="fhir", limit=4))
    types = set()
    for url, res in latest.items():
        assert url.startswith(PUBLIC + "/api/agency/v1/fhir/")
        path = url.removeprefix(PUBLIC)
        r = client.get(path, headers=bearer(token))
        assert r.status_code == 200, (url, r.text)
        assert r.headers["content-type"].startswith("application/fhir+json")
        got = r.json()
        assert _strip(got) == _strip(res), url
        vid = got["meta"]["versionId"]
        assert vid == res["meta"]["versionId"] and r.headers["etag"] == f'W/"{vid}"'
        assert client.get(f"{path}/_history/{vid}", headers=bearer(token)).json() == got
        types.add(res["resourceType"])
    assert types >= {"Patient", "RelatedPerson", "Group", "Encounter", "QuestionnaireResponse", "Observation",
                     "Flag", "Task", "CareTeam", "Practitioner"}


def test_an_older_version_id_is_not_found_after_the_content_changed(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    h = bearer(token)
    fid, child = world.families["own"], world.persons["own"]
    old = client.get(f"/api/agency/v1/fhir/Patient/{child}", headers=h).json()["meta"]["versionId"]
    fam = client.get(f"/api/agency/v1/families/{fid}", headers=h).json()
    client.patch(f"/api/agency/v1/families/{fid}", headers={**h, "If-Match": f'"{fam["version"]}"'},
                 json={"postcode": "EV2 2BB"})
    new = client.get(f"/api/agency/v1/fhir/Patient/{child}", headers=h).json()
    assert new["meta"]["versionId"] != old and new["address"][0]["postalCode"] == "EV2 2BB"
    r = client.get(f"/api/agency/v1/fhir/Patient/{child}/_history/{old}", headers=h)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


def test_urls_come_from_the_configured_address_never_the_host_header(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    visit(store, world)
    h = {**bearer(token), "Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    bodies = [client.get("/api/agency/v1/feed", params={"format": "fhir"}, headers=h).text,
              client.get("/api/agency/v1/fhir/Questionnaire", headers=h).text,
              client.get("/api/agency/v1/fhir/CodeSystem", headers=h).text,
              client.get("/api/agency/v1/fhir/metadata", headers=h).text]
    for body in bodies:
        assert "evil.example" not in body and PUBLIC in body


def test_the_capability_statement_lists_every_type_the_feed_emits(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    build_edges(client, store, world, token)
    emitted = {r["resourceType"] for r in _latest(feed_all(client, token, fmt="fhir")).values()}
    r = client.get("/api/agency/v1/fhir/metadata", headers={**bearer(token), "Accept": "application/fhir+json"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    cs = r.json()
    assert resource_problems(cs) == [] and cs["fhirVersion"] == "4.0.1"
    listed = {x["type"]: {i["code"] for i in x["interaction"]} for x in cs["rest"][0]["resource"]}
    assert all("read" in listed[t] and "vread" in listed[t] for t in emitted)
    assert {"Questionnaire", "CodeSystem"} <= set(listed)


def test_accept_is_honoured_and_an_unavailable_format_is_refused(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    url = f"/api/agency/v1/fhir/Patient/{world.persons['own']}"
    for accept, media in (("application/fhir+json", "application/fhir+json"), ("application/json", "application/json"),
                          ("*/*", "application/fhir+json"), ("application/fhir+json; fhirVersion=4.0",
                                                             "application/fhir+json")):
        r = client.get(url, headers={**bearer(token), "Accept": accept})
        assert r.status_code == 200 and r.headers["content-type"].startswith(media), accept
    r = client.get(url, headers={**bearer(token), "Accept": "application/fhir+xml"})
    assert r.status_code == 406 and r.headers["content-type"].startswith("application/problem+json")


def test_reads_are_scoped_like_the_feed(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    _, other = make_client(store, world.agencies["B"])
    _, no_feed = make_client(store, world.agencies["A"], scopes=("families:read",))
    mine = f"/api/agency/v1/fhir/Patient/{world.persons['own']}"
    assert client.get(mine, headers=bearer(token)).status_code == 200
    assert client.get(mine, headers=bearer(other)).status_code == 404
    assert client.get(mine).status_code == 401
    assert client.get(mine, headers=bearer(no_feed)).status_code == 403
    draft = visit(store, world, sign=False)
    for path in (f"Encounter/{draft['visit']}", f"Flag/{draft['flag']}", f"Observation/{draft['obs']}",
                 f"Practitioner/{world.users['prac_b1']}", "Patient/not..an-id!", "Basic/x", "Patient/"
                 + world.persons["other_agency"]):
        assert client.get(f"/api/agency/v1/fhir/{path}", headers=bearer(token)).status_code == 404, path


def test_questionnaires_and_code_systems_read_by_id_and_cover_every_local_coding(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    build_edges(client, store, world, token)
    h = bearer(token)
    qs = client.get("/api/agency/v1/fhir/Questionnaire", headers=h).json()
    for e in qs["entry"]:
        assert client.get(e["fullUrl"].removeprefix(PUBLIC), headers=h).json() == e["resource"]
    systems = client.get("/api/agency/v1/fhir/CodeSystem", headers=h).json()
    codes = {}
    for e in systems["entry"]:
        cs = e["resource"]
        assert resource_problems(cs) == [], cs["id"]
        assert client.get(e["fullUrl"].removeprefix(PUBLIC), headers=h).json() == cs
        codes[cs["url"]] = (cs["content"], {c["code"] for c in cs.get("concept", [])})
    used = set()

    def walk(value):
        if isinstance(value, dict):
            if "system" in value and "code" in value and value["system"].startswith("urn:hearthside:"):
                used.add((value["system"], value["code"]))
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
    for r in _latest(feed_all(client, token, fmt="fhir")).values():
        walk({k: v for k, v in r.items() if k != "meta"})
    for q in (e["resource"] for e in qs["entry"]):
        walk(q)
    assert used
    for system, code in sorted(used):
        assert system in codes, system
        content, known = codes[system]
        assert content in ("not-present", "fragment") or code in known, (system, code)
    assert "snomed" not in json.dumps(systems).lower() and "loinc" not in json.dumps(systems).lower()
