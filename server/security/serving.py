"""How the server process runs: uvicorn's options, and who may speak for the client.

Forwarded headers are believed in one place only, uvicorn's proxy-headers layer: on when
``HEARTHSIDE_TRUST_PROXY`` is set, and then only from a peer in
``HEARTHSIDE_TRUSTED_PROXIES``. It rewrites the request's client address and scheme. The
app then drops the headers themselves (``ForwardedHeadersDropped``), so no later code can
read a forged ``X-Forwarded-For`` from a peer that was not trusted.

HEAD is answered wherever GET is (``HeadAsGet``).
"""

from __future__ import annotations

from typing import Any

from ..settings import Settings, proxy_networks

FORWARDED = frozenset({b"forwarded", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host",
                       b"x-forwarded-port", b"x-real-ip"})


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Everything ``hearthside serve`` and ``hearthside demo`` pass to uvicorn."""
    return {
        # uvicorn's default (on, trusting 127.0.0.1) would believe any local client.
        "proxy_headers": settings.trust_proxy,
        "forwarded_allow_ips": [str(n) for n in proxy_networks(settings.trusted_proxies)],
        # Naming the server software only helps someone matching it against known bugs.
        "server_header": False,
        # Request lines carry ids in paths and query strings; keep logs free of anything
        # that could identify a family.
        "access_log": False,
        "log_level": "warning",
    }


class ForwardedHeadersDropped:
    """ASGI wrapper removing forwarded headers once the server layer has judged them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = scope.get("headers") or []
            if any(name in FORWARDED for name, _ in headers):
                scope = {**scope, "headers": [(n, v) for n, v in headers if n not in FORWARDED]}
        await self.app(scope, receive, send)


class HeadAsGet:
    """ASGI wrapper answering HEAD wherever GET is answered: the GET's status and headers
    (Content-Length included), no body. Litestar routes HEAD only where a handler says so."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Any) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body"):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def install(app: Any) -> None:
    app.asgi_handler = ForwardedHeadersDropped(HeadAsGet(app.asgi_handler))
