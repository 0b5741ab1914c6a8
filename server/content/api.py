"""GET /api/v1/content: everything the PWA needs to show checklists and run rules offline."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from .schema import Content


def provide_content(state: State) -> Content:
    """Litestar dependency: the content loaded at start-up (app.state.content)."""
    return state.content


def content_payload(content: Content) -> dict[str, Any]:
    return msgspec.to_builtins(content)


class ContentController(Controller):
    path = "/api/v1/content"
    tags = ["content"]

    @get(summary="Checklists, rules, settings and recording prompts (cacheable; ETag = content version)")
    async def get_content(self, request: Request) -> Response[Any]:
        content: Content = request.app.state.content
        etag = f'"{content.version}"'
        # The PWA revalidates on every start; an unchanged version costs one small 304.
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        inm = request.headers.get("if-none-match", "")
        if etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*":
            return Response(content=b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(content=content_payload(content), headers=headers, media_type="application/json")
