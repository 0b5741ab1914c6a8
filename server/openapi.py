"""The OpenAPI document as served at /schema/openapi.json: Litestar's, completed with what
a core system's engineer needs — who may call each operation (bearer security schemes),
every problem+json answer it can give (from the one error mapping in server/errors.py),
the agency operations' descriptions and answer shapes, and the webhook it is sent."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

from .agency.openapi_docs import OPERATIONS
from .agency.shapes import FhirResource
from .errors import PROBLEM_JSON, problem_statuses

WRITES = ("post", "put", "patch", "delete")
REF = "#/components/schemas/{name}"
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details. Some problems add members (a 409 edit-conflict's `conflicts`, "
                   "`current`; a 429's `retry_after`).",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "`urn:hearthside:problem:<slug>`"},
        "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string", "description": "schema path, e.g. `body.persons[0].role`"},
                           "message": {"type": "string"}}}},
    },
    "additionalProperties": True,
}
SECURITY_SCHEMES = {
    "deviceToken": {"type": "http", "scheme": "bearer",
                    "description": "A signed-in person's access token (`POST /api/v1/auth/login`)."},
    "agencyClient": {"type": "http", "scheme": "bearer", "bearerFormat": "hsa_…",
                     "description": "An integration client's token (`hearthside agency create-client`)."},
}
PARAMETER_DOCS = {
    ("header", "If-Match"): "The version you read, as its ETag (`\"3\"`). Needed to change an existing record: "
                            "without it 428, for a version the record has not reached 412.",
    ("query", "cursor"): "Where the last page ended (its `next_cursor`); 0 for the start.",
    ("query", "limit"): "At most this many items in the page.",
    ("query", "before"): "Paging: answers older than this cursor.",
}
WEBHOOKS = {
    "feed.updated": {"post": {
        "summary": "New feed items may exist",
        "description": "Standard Webhooks (standardwebhooks.com): `webhook-signature` is `v1,<base64 HMAC-SHA256 "
                       "over \"<webhook-id>.<webhook-timestamp>.<body>\">` with the client's `whsec_` secret; "
                       "during a secret rotation two signatures, space-separated. `webhook-id` is the same on "
                       "every retry. Answer 2xx, then pull the feed.",
        "parameters": [
            {"name": "webhook-id", "in": "header", "required": True, "schema": {"type": "string"}},
            {"name": "webhook-timestamp", "in": "header", "required": True,
             "schema": {"type": "string", "pattern": "^[0-9]+$"}},
            {"name": "webhook-signature", "in": "header", "required": True, "schema": {"type": "string"}},
        ],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["type", "timestamp", "data"],
            "properties": {"type": {"const": "feed.updated"}, "timestamp": {"type": "string", "format": "date-time"},
                           "data": {"type": "object", "required": ["up_to_cursor"],
                                    "properties": {"up_to_cursor": {"type": "integer"}}}}}}}},
        "responses": {"2XX": {"description": "Received; other answers are retried with backoff."}},
    }},
}


def _traits(app: Any) -> dict[tuple[str, str], set[str]]:
    """Per operation, from its handler's ``opt``: ``public`` (no sign-in) and ``throttled``
    (checks a password through the sign-in throttle, so it can answer 429)."""
    out: dict[tuple[str, str], set[str]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method, (handler, _) in route.route_handler_map.items():
                traits = out.setdefault((method.lower(), route.path_format), set())
                if handler.opt.get("public"):
                    traits.add("public")
                if handler.opt.get("throttled"):
                    traits.add("throttled")
    return out


def _statuses(method: str, path: str, op: dict[str, Any], traits: set[str]) -> set[int]:
    """Which of the mapped problems an operation can answer, from what it takes."""
    params = {(p["in"], p["name"]) for p in op.get("parameters", [])}
    secured = "public" not in traits
    found = {400}
    if "throttled" in traits:
        found |= {401, 429}
    if secured:
        found |= {401, 403, 404}
    if "{" in path:
        found.add(404)
    if params or "requestBody" in op:
        found.add(422)
    if "requestBody" in op:
        found |= {408, 413, 415}
    if method in WRITES:
        found |= {409, 422}
    if ("header", "If-Match") in params:
        found |= {412, 428}
    if ("query", "cursor") in params or ("query", "epoch") in params:
        found.add(409)
    if not secured and method in WRITES:
        found.add(401)  # sign-in and refresh: a wrong credential
    return found


def _add_shapes(schema: dict[str, Any], types: list[Any]) -> None:
    (_, components) = msgspec.json.schema_components(types, ref_template=REF)
    existing = schema["components"].setdefault("schemas", {})
    clash = sorted(set(components) & set(existing))
    if clash:  # one name, two shapes: the document would describe the wrong answer
        raise RuntimeError(f"OpenAPI schema names used twice: {clash}")
    existing.update(components)


def _response_for(media: str, shape: Any, headers: dict, description: str) -> dict[str, Any]:
    return {"description": description, "headers": copy.deepcopy(headers),
            "content": {media: {"schema": {"$ref": REF.format(name=shape.__name__)}}}}


def complete(schema: dict[str, Any], app: Any) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    _add_shapes(schema, sorted({s for _, answers in OPERATIONS.values() for (_, s, _, _) in answers.values()}
                               | {FhirResource}, key=lambda t: t.__name__))
    traits = _traits(app)
    problems = problem_statuses()
    for path, item in schema["paths"].items():
        for method, op in item.items():
            these = traits.get((method, path), set())
            secured = "public" not in these
            op["security"] = ([{"agencyClient": []}] if path.startswith("/api/agency/")
                              else [{"deviceToken": []}]) if secured else []
            for p in op.get("parameters", []):
                if doc := PARAMETER_DOCS.get((p["in"], p["name"])):
                    p.setdefault("description", doc)
            doc = OPERATIONS.get((method, path))
            if doc:
                op["description"] = doc[0]
                for key, answer in doc[1].items():
                    status = key.split()[0]
                    made = _response_for(*answer)
                    if key != status and status in op["responses"]:
                        op["responses"][status]["content"].update(made["content"])
                    else:
                        op["responses"][status] = made
            for status in _statuses(method, path, op, these):
                (slug, title), *more = problems[status]
                also = "".join(f", `{m}`" for m, _ in more)
                op["responses"][str(status)] = {
                    "description": f"{title}: problem type `urn:hearthside:problem:{slug}`{also}",
                    "content": {PROBLEM_JSON: {"schema": {"$ref": REF.format(name="Problem")}}}}
            op["responses"] = dict(sorted(op["responses"].items()))
    schema["webhooks"] = WEBHOOKS
    return schema


class CompleteJsonRenderPlugin(JsonRenderPlugin):
    """Serves the completed document (made once per app, on first request)."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        done = request.app.state.get("openapi_completed")
        if done is None:
            done = msgspec.json.encode(complete(openapi_schema, request.app))
            request.app.state.openapi_completed = done
        return done
