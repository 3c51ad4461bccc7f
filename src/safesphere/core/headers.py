"""Security headers on every answer, added in one place so no route can forget them."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALWAYS = {
    # A browser must not run an answer (an uploaded image, a JSON error echoing input) as script or HTML.
    "X-Content-Type-Options": "nosniff",
    # Share links carry their token in the URL: a page must not hand it on in a Referer header.
    "Referrer-Policy": "no-referrer",
}

NO_STORE = "no-store"
"""Answers carry tokens, tourists' positions, contacts and incidents: nothing for a shared or disk cache.
A route that wants caching (static files) sets its own ``Cache-Control``."""


class SecurityHeaders:
    """Adds ``ALWAYS`` to every HTTP answer and ``Cache-Control: no-store`` where the route set none."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Cache-Control", NO_STORE)
            await send(message)

        await self.app(scope, receive, send_with_headers)
