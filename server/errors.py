"""One domain error base, mapped to RFC 9457 problem+json in one place.

Handlers and the storage layer raise ``DomainError`` subclasses; ``exception_handlers``
turns them (and Litestar's own validation / HTTP errors) into the same body shape:

    {"type": "urn:hearthside:problem:<slug>", "title": ..., "status": ..., "detail": ...,
     "errors": [{"field": "body.username", "message": "..."}]}

Error bodies never echo what the client sent: no values, no paths or query strings, no
member names it made up; a field is named by its schema path (``body.persons[0].role``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from sync.policy import ID_TAKEN, Refused
from sync.values import Invalid

log = logging.getLogger("hearthside.errors")

PROBLEM_JSON = "application/problem+json"


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str = ""
    errors: list[FieldError] = []


class DomainError(Exception):
    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str = "",
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []
        self.headers = headers or {}
        # Extra members for the problem body (e.g. a 409's current values).
        self.extra = extra or {}


class BadRequest(DomainError):
    status, slug, title = 400, "bad-request", "Bad request"


class InvalidInput(DomainError):
    status, slug, title = 422, "invalid-input", "The request is not valid"


class Unauthorized(DomainError):
    status, slug, title = 401, "unauthorized", "Sign-in required"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(DomainError):
    status, slug, title = 412, "precondition-failed", "Version does not match"


class PreconditionRequired(DomainError):
    status, slug, title = 428, "precondition-required", "If-Match is required"


class NotAcceptable(DomainError):
    status, slug, title = 406, "not-acceptable", "No representation the client accepts"


class PayloadTooLarge(DomainError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(DomainError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class RateLimited(DomainError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class RequestTimeout(DomainError):
    status, slug, title = 408, "request-timeout", "The request body did not arrive in time"

    def __init__(self) -> None:
        # The rest of a late body would be read as the next request: close the connection.
        super().__init__("Send the whole request body within the server's time limit.", headers={"connection": "close"})


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str = "",
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = msgspec.to_builtins(
        Problem(type=f"urn:hearthside:problem:{slug}", title=title, status=status, detail=detail, errors=errors or [])
    )
    body.update(extra or {})
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers or {})


def problem_body(status: int, slug: str, title: str, detail: str = "", errors: list[FieldError] | None = None,
                 extra: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = msgspec.to_builtins(
        Problem(type=f"urn:hearthside:problem:{slug}", title=title, status=status, detail=detail, errors=errors or [])
    )
    body.update(extra or {})
    return msgspec.json.encode(body)


async def send_problem(send: Any, exc: DomainError) -> None:
    """Answer from ASGI code that runs outside Litestar (request guards): the same body."""
    body = problem_body(exc.status, exc.slug, exc.title, exc.detail, exc.errors, exc.extra)
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in exc.headers.items()]
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _domain_error(_: Request, exc: DomainError) -> Response:
    return problem_response(exc.status, exc.slug, exc.title, exc.detail, exc.errors, exc.headers, exc.extra)


# What a validator says about a value never carries the value: msgspec quotes it
# ("Invalid enum value '<script>...'") and names members the client made up ("unknown
# field `x`"); both are dropped here. Backticked type names (`str`, `int | null`) stay.
_UNKNOWN = re.compile(r"unknown field `[^`]*`")
_MISSING = re.compile(r"missing required field `([A-Za-z0-9_]+)`")
_AT = re.compile(r"\s*- at `\$\.?([^`]*)`\s*$")
_QUOTED = re.compile(r"\s*'.*'")
_TICKED = re.compile(r"`([^`]*)`")
_TYPE_NAME = re.compile(r"^[a-z0-9]+( \| [a-z0-9]+)*$")
_SCHEMA_PATH = re.compile(r"^[A-Za-z0-9_.\[\]-]*$")  # names, [0] indices, [...] for a dict's keys


def field_error(source: str, key: str | None, message: str) -> FieldError:
    """A validator's complaint as ``{"field": <schema path>, "message": <no values>}``."""
    at = _AT.search(message)
    if at:
        message = message[: at.start()]
        key = ".".join(k for k in (key, at.group(1)) if k) or None
    if source == "body" and key and (key == "data" or key.startswith(("data.", "data["))):
        key = key[4:].lstrip(".") or None  # the handler's parameter name is not the schema's
    if key and not _SCHEMA_PATH.match(key):
        key = None  # a path that is not the schema's own words names only the source
    if _UNKNOWN.search(message):
        message = "unknown field (not in the schema)"  # on the object holding it
    elif missing := _MISSING.search(message):
        key, message = ".".join(k for k in (key, missing.group(1)) if k), "required"
    else:
        message = _QUOTED.sub("", message)
        message = _TICKED.sub(lambda m: m.group(0) if _TYPE_NAME.match(m.group(1)) else "a value", message)
    field = (source + ("" if key.startswith("[") else ".") + key) if key else source
    return FieldError(field=field, message=message.strip()[:200] or "not valid")


def validation_errors(exc: msgspec.ValidationError, source: str = "body") -> list[FieldError]:
    return [field_error(source, None, str(exc))]


def _validation_error(_: Request, exc: ValidationException) -> Response:
    errors = []
    for item in exc.extra or []:
        if isinstance(item, dict):
            source = item.get("source") or "body"
            source = str(getattr(source, "value", source))  # ParamType.QUERY -> "query"
            key, message = item.get("key"), str(item.get("message", ""))
            if source == "body" and key in (None, "", "data") and isinstance(exc.__cause__, msgspec.ValidationError):
                # Litestar keeps no path for a body that is a list ("$[0].version"):
                # msgspec's own message still has it.
                key, message = None, str(exc.__cause__)
            errors.append(field_error(source, key, message))
    # Litestar's own detail quotes the method and path the client sent: never passed on.
    return problem_response(400, "invalid-input", "The request is not valid", "Some fields are not valid.", errors)


def _too_deep(_: Request, exc: RecursionError) -> Response:
    return problem_response(400, "invalid-input", "The request is not valid", "The JSON body is nested too deeply.",
                            [FieldError("body", "nested too deeply")])


def _bad_text(_: Request, exc: UnicodeDecodeError) -> Response:
    return problem_response(400, "invalid-input", "The request is not valid", "The request is not valid UTF-8.",
                            [FieldError("body", "not valid UTF-8")])


_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Sign-in required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
}


def problem_statuses() -> dict[int, list[tuple[str, str]]]:
    """Every status this module answers with, and the problem ``type`` slugs and titles it
    uses for it (the general one first): the domain errors and the framework errors mapped
    above. The OpenAPI document is built from this, so it lists what the mapping produces."""
    out: dict[int, list[tuple[str, str]]] = {status: [pair] for status, pair in _SLUGS.items()}
    out[400].append(("invalid-input", "The request is not valid"))
    queue = list(DomainError.__subclasses__())
    while queue:  # breadth first: a status's general error before its specialisations
        cls = queue.pop(0)
        if (cls.slug, cls.title) not in out.setdefault(cls.status, []):
            out[cls.status].append((cls.slug, cls.title))
        queue.extend(cls.__subclasses__())
    out[500] = [("server-error", "Something went wrong")]
    return dict(sorted(out.items()))


# Litestar's own details can quote the path or body sent (a static 404 names the file
# asked for): each is replaced by a fixed text, or dropped.
_HTTP_DETAILS = (("JSON is malformed", "The body is not valid JSON."),
                 ("Input data was truncated", "The body is not valid JSON."))


def _http_error(_: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if status >= 500:
        log.error("server error %s", status)
        return problem_response(status, "server-error", "Something went wrong", "")
    slug, title = _SLUGS.get(status, ("client-error", "Request refused"))
    detail = next((text for prefix, text in _HTTP_DETAILS if str(exc.detail).startswith(prefix)), "")
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() in ("allow", "retry-after", "www-authenticate")}
    return problem_response(status, slug, title, detail, None, headers)


# How the one write path's refusals read over HTTP: the decision is the merge's, the
# status code is this table's.
_REFUSALS: dict[str, type[DomainError]] = {
    "invalid": InvalidInput, "forbidden": Forbidden, "frozen": Conflict, "conflict": Conflict,
    "not-found": NotFound, "out-of-reach": NotFound,
}


def id_taken(field: str = "body.id") -> InvalidInput:
    """A client-chosen id that is taken, wherever (and whoever's) the record holding it is."""
    return InvalidInput(ID_TAKEN[:1].upper() + ID_TAKEN[1:] + ".", errors=[FieldError(field, ID_TAKEN)])


def refusal_error(exc: Refused) -> DomainError:
    cls = _REFUSALS.get(exc.kind, InvalidInput)
    errors = [FieldError(f"body.{exc.field}", exc.reason)] if exc.field else []
    if cls is NotFound:
        return NotFound("No such record.")  # existence outside one's reach is itself information
    return cls(exc.reason[:1].upper() + exc.reason[1:] + ".", errors=errors)


def _refused(request: Request, exc: Refused) -> Response:
    return _domain_error(request, refusal_error(exc))


def _invalid_value(request: Request, exc: Invalid) -> Response:
    return _domain_error(request, InvalidInput("Some fields are not valid.",
                                               errors=[FieldError(f"body.{exc.field}", exc.reason)]))


def _unexpected(_: Request, exc: Exception) -> Response:
    # Type and location only: the message could contain personal data from a record.
    log.error("unhandled %s", type(exc).__name__, exc_info=(type(exc), None, exc.__traceback__))
    return problem_response(HTTP_500_INTERNAL_SERVER_ERROR, "server-error", "Something went wrong", "")


exception_handlers = {
    DomainError: _domain_error,
    RecursionError: _too_deep,
    UnicodeDecodeError: _bad_text,
    Refused: _refused,
    Invalid: _invalid_value,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}

__all__ = [
    "BadRequest",
    "Conflict",
    "DomainError",
    "FieldError",
    "Forbidden",
    "InvalidInput",
    "MediaType",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "PreconditionRequired",
    "RateLimited",
    "RequestTimeout",
    "Unauthorized",
    "UnsupportedMediaType",
    "exception_handlers",
    "id_taken",
    "problem_body",
    "problem_response",
    "problem_statuses",
    "send_problem",
]
