"""``fhir.resources`` 6.1 (FHIR R4 4.0.1 models on pydantic 1, in its own virtual environment
``.venv-fhir`` made by scripts/test from tests/fhir-resources-requirements.txt) over every
resource the feed and the read API give, edge inputs and the demo data included: 0 errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.agency.fhir_edge import build_edges, everything as _everything
from tests.agency.helpers import make_client

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv-fhir" / "bin" / "python"
CHECK = Path(__file__).with_name("fhir_resources_check.py")


def model_problems(resources: list[dict]) -> list[str]:
    assert PYTHON.exists(), ("fhir.resources is missing: python3.11 -m venv .venv-fhir && .venv-fhir/bin/pip "
                             "install -r tests/fhir-resources-requirements.txt (scripts/test does this)")
    run = subprocess.run([str(PYTHON), str(CHECK)], input="\n".join(json.dumps(r) for r in resources),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_the_model_check_itself_refuses_wrong_structure_and_formats():
    assert len(model_problems([
        {"resourceType": "Patient", "id": "x", "birthDate": "30/02/2026"},
        {"resourceType": "Observation", "id": "x", "status": "final", "code": {"text": "t"}, "valueText": "R5"},
        {"resourceType": "Encounter", "id": "x", "status": "finished"},  # class is 1..1
        {"resourceType": "Patient", "id": "ok"},
    ])) == 3


def test_every_resource_from_edge_inputs_parses_as_fhir_resources_r4(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    build_edges(client, store, world, token)
    resources = _everything(client, token, limits=(3, 100))
    assert len({r["resourceType"] for r in resources}) >= 14
    assert model_problems(resources) == []


def test_every_resource_from_the_demo_data_parses_as_fhir_resources_r4(client, store):
    from server.demo import AGENCY, seed_demo

    seed_demo(store)
    with store.read() as db:
        agency_id = next(db.query("SELECT id FROM agencies WHERE name = ?", [AGENCY]))["id"]
    _, token = make_client(store, agency_id)
    resources = _everything(client, token, limits=(100,))
    assert len(resources) > 100
    assert model_problems(resources) == []
