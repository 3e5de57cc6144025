"""Which ``Host`` a server answers, and whether an ``Origin`` is the server's own.

DNS rebinding: a page on ``http://evil.example:8080`` whose name is made to
resolve to ``127.0.0.1`` reaches a server on the operator's machine, and
the browser treats it as same-origin with the attacker's page. The only
thing that tells the two apart is the ``Host`` field, which carries the
name in the page's URL (RFC 9110 section 7.2). :class:`HostFilter` answers
``421 Misdirected Request`` (RFC 9110 section 15.5.20) for a name it does
not serve. IP literals are always served: a browser sends one only when the
user typed the address, never after a name lookup.

Cross-site WebSocket hijacking: browsers send ``Origin`` with every
WebSocket handshake (RFC 6455 section 10.2); :func:`same_origin` is the
check a server that only serves its own pages makes.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

from ..core.components import BaseComponent
from ..core.handlers import handler
from ..net.authority import host_name, split_authority
from .errors import httperror

__all__ = ["HostFilter", "default_server_names", "host_name", "same_origin"]

#: Above authentication (100) and every dispatcher: a foreign name is refused first.
PRIORITY = 200.0
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _authority(authority: str, scheme: str) -> tuple[str, int] | None:
    """(host, port) with the scheme's default port filled in."""
    split = split_authority(authority)
    if split is None:
        return None
    name, port = split
    return name, int(port) if port else _DEFAULT_PORTS.get(scheme, 0)


def same_origin(origin: str, host: str, scheme: str) -> bool:
    """Whether ``Origin`` (RFC 6454 serialisation) names the server reached as ``host`` over ``scheme``."""
    origin_scheme, sep, rest = origin.strip().partition("://")
    if not sep or "/" in rest:
        return False  # "null", or not a serialised origin
    origin_scheme = origin_scheme.lower()
    if origin_scheme != scheme:
        return False
    ours, theirs = _authority(host, scheme), _authority(rest, origin_scheme)
    return ours is not None and ours == theirs


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def default_server_names(listen_host: str = "") -> frozenset[str]:
    """localhost, this machine's host name (and ``NAME.local``), and the listen address if it is a name."""
    names = {"localhost"}
    hostname = socket.gethostname().rstrip(".").lower()
    if hostname:
        names.update((hostname, hostname.partition(".")[0], hostname.partition(".")[0] + ".local"))
    if listen_host and not _is_ip(listen_host):
        names.add(listen_host.rstrip(".").lower())
    return frozenset(names)


class HostFilter(BaseComponent):
    """Refuses requests whose ``Host`` is not one of ``names`` (IP literals always pass; ``*``: any)."""

    channel: Any = "web"

    def __init__(self, names: Iterable[str], channel: Any = channel) -> None:
        super().__init__(channel=channel)
        self.names = frozenset(n.rstrip(".").lower() for n in names)
        self.any = "*" in self.names
        self.refused = 0

    def allows(self, host: str | None) -> bool:
        if host is None or self.any:
            return True  # HTTP/1.0 without Host: no browser sends that
        name = host_name(host)
        if name is None:
            return False
        return name in self.names or _is_ip(name)

    @handler("request", priority=PRIORITY)
    def _on_request(self, event: Any, request: Any, response: Any) -> Any:
        if self.allows(request.headers.get("Host")):
            return None
        self.refused += 1
        return httperror(request, response, 421, description="This server does not serve that host name.")
