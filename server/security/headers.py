"""Security headers on every response, in one place.

Installed around Litestar's whole ASGI handler (not as a per-route middleware) so that
responses Litestar makes before any route matches - 404s for unknown paths, 405s, static
files - carry the same headers as API responses.
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import MutableScopeHeaders

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
PERMISSIONS = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), hid=(), "
    "midi=(), magnetometer=(), gyroscope=(), accelerometer=(), display-capture=()"
)
HSTS = "max-age=63072000; includeSubDomains"

FIXED = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "permissions-policy": PERMISSIONS,
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


def _no_store(path: str) -> bool:
    # API answers (and the schema) can hold personal data: never cached anywhere.
    return path.startswith("/api/") or path.startswith("/schema") or path == "/health"


def _is_tls(scope: dict[str, Any]) -> bool:
    # The scheme is the server layer's judgement: X-Forwarded-Proto counts only from a
    # trusted proxy (see serving.py), never from a header read here.
    return scope.get("scheme") == "https"


def cache_control_for(path: str) -> str | None:
    if _no_store(path):
        return "no-store"
    if path == "/sw.js":
        # The service worker must be re-checked on every load, or a fixed bug stays
        # installed on phones.
        return "no-cache"
    return None


class SecurityHeaders:
    """ASGI wrapper adding the headers above to every HTTP response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        tls = _is_tls(scope)

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in FIXED.items():
                    headers[name] = value
                cache = cache_control_for(path)
                if cache:
                    headers["cache-control"] = cache
                    if cache == "no-store":
                        headers["pragma"] = "no-cache"
                if tls:
                    headers["strict-transport-security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: Any) -> None:
    """Wrap a built Litestar app's ASGI handler (call once, in ``create_app``)."""
    app.asgi_handler = SecurityHeaders(app.asgi_handler)
