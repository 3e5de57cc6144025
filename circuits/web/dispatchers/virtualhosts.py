"""VirtualHosts: serve several domains from one tree by rewriting the path.

``VirtualHosts({"www.example.org": "/", "blog.example.org": "/blog",
"example.org:8443": "/secure"})``: the request's Host header is looked up
(as sent, port included; then without the port) and its prefix is put in
front of the path before the other dispatchers see the request. Hosts not
listed are left alone. This is a filter: it never answers a request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ...core.components import BaseComponent
from ...core.handlers import handler

__all__ = ["VirtualHosts"]

#: Runs before every dispatcher (WebSockets 10, RPC 0.5, Gateway 0.2,
#: Dispatcher 0.1): they must all see the rewritten path.
PRIORITY = 50.0


class VirtualHosts(BaseComponent):
    """Host header -> path prefix (see module doc)."""

    channel: Any = "web"

    def __init__(self, domains: dict[str, str], channel: Any = channel, **kwargs: Any) -> None:
        super().__init__(channel=channel)
        # Host names are case-insensitive (RFC 9110 section 4.2.3).
        self.domains = {host.lower(): "/" + prefix.strip("/") if prefix.strip("/") else ""
                        for host, prefix in domains.items()}

    def prefix_for(self, host: str) -> str | None:
        host = host.strip().lower()
        prefix = self.domains.get(host)
        if prefix is None and ":" in host and not host.endswith("]"):
            prefix = self.domains.get(host.rpartition(":")[0])
        return prefix

    @handler("request", priority=PRIORITY)
    def _on_request(self, request: Any, response: Any) -> None:
        prefix = self.prefix_for(request.headers.get("Host", ""))
        if not prefix or getattr(request, "_vhost_prefix", None) is not None:
            return
        request._vhost_prefix = prefix
        request.path = prefix + request.path
        target = getattr(request, "target", None)
        if isinstance(target, str) and target.startswith("/"):
            request.target = quote(prefix) + target
