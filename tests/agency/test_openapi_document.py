"""The served OpenAPI document, as a core system's engineer reads it: who may call each
operation, every problem it can answer, the agency operations' shapes, the webhook."""

from __future__ import annotations

from server.errors import problem_statuses

AGENCY = "/api/agency/v1"


def _ops(doc):
    return [(m, p, op) for p, item in doc["paths"].items() for m, op in item.items()]


def test_every_operation_names_its_bearer_scheme_and_public_ones_none(client):
    doc = client.get("/schema/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert {s["scheme"] for s in schemes.values()} == {"bearer"}
    public = {(m, p) for m, p, op in _ops(doc) if op["security"] == []}
    assert {("get", "/health"), ("post", "/api/v1/auth/login"), ("post", "/api/v1/auth/refresh")} <= public
    for m, p, op in _ops(doc):
        if (m, p) in public:
            continue
        assert op["security"] == [{"agencyClient": []}] if p.startswith(AGENCY) else [{"deviceToken": []}], (m, p)
        assert {"401", "403"} <= set(op["responses"]), (m, p)


def test_every_error_answer_is_problem_json_from_the_one_mapping(client):
    doc = client.get("/schema/openapi.json").json()
    mapped = {str(s) for s in problem_statuses()}
    for m, p, op in _ops(doc):
        for status, answer in op["responses"].items():
            if status >= "400":
                assert status in mapped, (m, p, status)
                assert list(answer["content"]) == ["application/problem+json"], (m, p, status)
    patch = doc["paths"][f"{AGENCY}/families/{{family_id}}"]["patch"]
    assert {"400", "401", "403", "404", "409", "412", "422", "428"} <= set(patch["responses"])
    if_match = next(x for x in patch["parameters"] if x["name"] == "If-Match")
    assert "428" in if_match["description"] and "ETag" in patch["responses"]["200"]["headers"]
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status"} <= set(problem["required"])


def test_agency_operations_have_descriptions_answer_shapes_cursor_docs_and_the_webhook(client):
    doc = client.get("/schema/openapi.json").json()
    agency = [(m, p, op) for m, p, op in _ops(doc) if p.startswith(AGENCY)]
    assert len(agency) >= 14
    for m, p, op in agency:
        assert op.get("description"), (m, p)
        ok = [s for s in op["responses"] if s < "300"]
        assert ok and all(c["schema"] for s in ok for c in op["responses"][s]["content"].values()), (m, p)
    feed = doc["paths"][f"{AGENCY}/feed"]["get"]
    assert set(feed["responses"]["200"]["content"]) == {"application/json", "application/fhir+json"}
    assert "Hearthside-Next-Cursor" in feed["responses"]["200"]["headers"] and "409" in feed["responses"]
    assert next(x for x in feed["parameters"] if x["name"] == "cursor")["description"]
    page = doc["components"]["schemas"]["AgencyFeedPage"]
    assert {"items", "next_cursor", "has_more", "epoch"} <= set(page["required"])
    hook = doc["webhooks"]["feed.updated"]["post"]
    assert {x["name"] for x in hook["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
