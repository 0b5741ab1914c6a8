"""Request limits that give a clear 4xx instead of a 500 or a silent misreading.

- Body size: Litestar's ``request_max_body_size`` (413), set from settings.
- Strings and lists: every request Struct bounds them with ``msgspec.Meta(max_length=...)``
  (a test walks the app's request bodies and fails on an unbounded one).
- Wrong content type: a body sent to the API that is not JSON gets 415 before any handler
  runs (so ``text/plain`` smuggling a JSON body is refused, not parsed).
- Invalid UTF-8 and nesting deeper than the decoder allows: 400 via exception handlers.
- A body that does not arrive within ``HEARTHSIDE_BODY_TIMEOUT_SECONDS``: 408, connection
  closed (``BodyDeadline``).
"""

from __future__ import annotations

import re
from typing import Any

import anyio
from litestar.exceptions import ValidationException

from ..errors import FieldError, RequestTimeout, UnsupportedMediaType, problem_response, send_problem
from ..errors import _validation_error as _foundation_validation_error

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _has_body(headers: dict[bytes, bytes]) -> bool:
    if b"transfer-encoding" in headers:
        return True
    length = headers.get(b"content-length", b"0").strip()
    return length not in (b"", b"0")


class RequestGuard:
    """ASGI wrapper refusing API request bodies that are not JSON (415)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith("/api/") and scope["method"] in _BODY_METHODS:
            headers = dict(scope.get("headers", []))
            if _has_body(headers) and not _is_json(headers.get(b"content-type", b"").decode("latin-1")):
                await _drain(receive)
                await send_problem(send, UnsupportedMediaType(
                    "Send the body as JSON (Content-Type: application/json).",
                    errors=[FieldError("header.content-type", "must be application/json")]))
                return
        await self.app(scope, receive, send)


class BodyDeadline:
    """ASGI wrapper giving a request's body a deadline: a client that sends a Content-Length
    and then trickles (or stops) gets 408 and its connection closed, instead of holding a
    connection open for as long as it likes. The deadline runs from the request's start;
    once the body is complete, later receives (waiting for a disconnect) are not timed."""

    def __init__(self, app: Any, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = anyio.current_time() + self.seconds
        complete = started = False

        async def timed_receive() -> Any:
            nonlocal complete
            if complete:
                return await receive()
            with anyio.move_on_after(max(0.0, deadline - anyio.current_time())):
                message = await receive()
                complete = message["type"] != "http.request" or not message.get("more_body")
                return message
            raise RequestTimeout()

        async def tracked_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed_receive, tracked_send)
        except RequestTimeout as exc:
            # Raised outside Litestar's handlers (in a guard above): answer here.
            if not started:
                await send_problem(send, exc)


async def _drain(receive: Any) -> None:
    # Read (and drop) what the client sent, up to a bound, so the connection stays usable.
    seen = 0
    while seen < 4_000_000:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body"):
            return


def _too_deep(_: Any, exc: RecursionError) -> Any:
    return problem_response(400, "invalid-input", "The request is not valid", "The JSON body is nested too deeply.",
                            [FieldError("body", "nested too deeply")])


def _bad_text(_: Any, exc: UnicodeDecodeError) -> Any:
    return problem_response(400, "invalid-input", "The request is not valid", "The request is not valid UTF-8.",
                            [FieldError("body", "not valid UTF-8")])


_QUOTED = re.compile(r"\s*'.*'")


def _validation_error(request: Any, exc: ValidationException) -> Any:
    """The foundation's 400 for invalid fields, minus the values: msgspec quotes what the
    caller sent ("Invalid enum value '<script>...'"), and an error must never echo input
    (it could be personal data, or script aimed at whoever reads the log or the page)."""
    for item in exc.extra or []:
        if isinstance(item, dict) and isinstance(item.get("message"), str):
            item["message"] = _QUOTED.sub("", item["message"])
    if exc.detail:
        exc.detail = _QUOTED.sub("", exc.detail)
    return _foundation_validation_error(request, exc)


exception_handlers = {RecursionError: _too_deep, UnicodeDecodeError: _bad_text, ValidationException: _validation_error}


def install(app: Any, *, body_timeout_seconds: float) -> None:
    app.asgi_handler = BodyDeadline(RequestGuard(app.asgi_handler), body_timeout_seconds)
