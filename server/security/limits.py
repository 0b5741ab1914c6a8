"""Request limits that give a clear 4xx instead of a 500 or a silent misreading.

- Body size: Litestar's ``request_max_body_size`` (413), set from settings.
- Strings and lists: every request Struct bounds them with ``msgspec.Meta(max_length=...)``
  (a test walks the app's request bodies and fails on an unbounded one).
- Wrong content type: a body sent to the API that is not JSON gets 415 before any handler
  runs (so ``text/plain`` smuggling a JSON body is refused, not parsed).
- Integers: every integer parameter and body field is bounded to 64 bits (``INT64_MAX``).
- Control characters (NUL, CR, LF ...) in the path: 400 before any route or file lookup.
- Invalid UTF-8 and nesting deeper than the decoder allows: 400 (mapped in errors.py).
- A body that does not arrive within ``HEARTHSIDE_BODY_TIMEOUT_SECONDS``: 408, connection
  closed (``BodyDeadline``).
"""

from __future__ import annotations

import re
from typing import Any

import anyio

from sync import model

from ..errors import BadRequest, FieldError, RequestTimeout, UnsupportedMediaType, send_problem

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Every integer a request carries fits SQLite's INTEGER (signed 64-bit); beyond it is a 400
# naming the field, not an OverflowError deep in a query (a test walks every parameter).
INT64_MAX = model.INT64_MAX


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
        if scope["type"] == "http" and _CONTROL.search(scope.get("path", "")):
            # A NUL reaches the file system as an error (a 500); CR/LF are never in a URL
            # a phone makes. Refused before any route or file is looked up.
            await _drain(receive)
            await send_problem(send, BadRequest("The path contains control characters.",
                                                errors=[FieldError("path", "contains control characters")]))
            return
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


def install(app: Any, *, body_timeout_seconds: float) -> None:
    app.asgi_handler = BodyDeadline(RequestGuard(app.asgi_handler), body_timeout_seconds)
