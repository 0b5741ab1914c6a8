"""Run by .venv-fhir's Python (fhir.resources 6.1, FHIR R4 4.0.1): reads resources as JSON
lines on stdin, prints a JSON list of the problems found (empty when all parse)."""

import json
import sys

import fhir.resources
from fhir.resources import construct_fhir_element

assert fhir.resources.__version__.startswith("6.1."), fhir.resources.__version__
problems = []
for line in sys.stdin:
    if not line.strip():
        continue
    res = json.loads(line)
    try:
        construct_fhir_element(res["resourceType"], res)
    except Exception as exc:  # pydantic's ValidationError, or an unknown resourceType
        problems.append(f"{res.get('resourceType')}/{res.get('id')}: {exc}")
print(json.dumps(problems))
