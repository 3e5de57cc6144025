"""The dashboard page itself and ``/healthz``.

``/healthz`` is answered by a ``request`` handler on the gateway's own
loop, before authentication: getting "ok" back proves that loop turns
(a wedged loop answers nothing, and a probe's timeout says so).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from circuits import BaseComponent, handler
from circuits.web.controllers import BaseController, expose

__all__ = ["HEALTH_PATH", "STATIC_DIR", "Health", "Index", "security_headers"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
HEALTH_PATH = "/healthz"
#: Above the authentication guard: probes carry no password.
HEALTH_PRIORITY = 200.0

# Everything the page needs comes from the gateway itself (it must work
# with no internet), so the policy can be this strict: no inline script,
# no third-party origin, WebSocket back to this host only.
_CSP = ("default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
        "style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'")


def security_headers(response: Any) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = _CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"


class Health(BaseComponent):
    channel = "web"

    def __init__(self, channel: Any = "web") -> None:
        super().__init__(channel=channel)
        self.answered = 0

    @handler("request", priority=HEALTH_PRIORITY)
    def _on_request(self, request: Any, response: Any) -> Any:
        if request.path != HEALTH_PATH:
            return None
        self.answered += 1
        response.headers["Content-Type"] = "text/plain; charset=utf-8"
        response.headers["Cache-Control"] = "no-store"
        return "ok\n"


class Index(BaseController):
    """``/`` (and ``/index.html``): the dashboard page."""

    channel = "/"

    @expose("index", "index.html")
    def index(self) -> Any:
        security_headers(self.response)
        # Revalidate every time (the ETag makes that a 304): an upgraded
        # gateway must not keep serving last version's page from a cache.
        self.response.headers["Cache-Control"] = "no-cache"
        return self.serve_file(str(STATIC_DIR / "index.html"), type="text/html; charset=utf-8")
