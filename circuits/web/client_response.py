"""What the web Client hands back: a parsed URL and a complete response.

Kept apart from ``client.py`` so the WebSocket client can share
:func:`parse_url` without pulling in the HTTP client's machinery.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlsplit

__all__ = ["ClientResponse", "ParsedURL", "ResponseHeaders", "parse_url"]

#: Default ports of the schemes we speak (RFC 9110 sections 4.2.1 and 4.2.2,
#: RFC 6455 section 3).
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
SECURE_SCHEMES = frozenset({"https", "wss"})


class ParsedURL(NamedTuple):
    """``host, port, resource, secure = parse_url(url)`` (the 2.x tuple)."""

    host: str
    port: int
    resource: str
    secure: bool

    @property
    def netloc(self) -> str:
        """The Host header value: the port is left out when it is the default
        (RFC 9110 section 7.2), IPv6 literals are bracketed (RFC 3986 3.2.2)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        # ws/wss share the default ports of http/https (RFC 6455 section 3).
        if self.port == (443 if self.secure else 80):
            return host
        return f"{host}:{self.port}"

    @property
    def origin(self) -> tuple[bool, str, int]:
        """(secure, host, port): requests to one origin may share a connection."""
        return (self.secure, self.host.lower(), self.port)


def parse_url(url: str) -> ParsedURL:
    """Split an http(s)/ws(s) URL into host, port, resource and secure.

    The resource is path plus query (never the fragment, which is not sent:
    RFC 9110 section 7.1, RFC 6455 section 3). Raises ValueError for other
    schemes or a missing host.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"unsupported URL scheme in {url!r}")
    host = parts.hostname
    if not host:
        raise ValueError(f"no host in URL {url!r}")
    port = parts.port or DEFAULT_PORTS[scheme]
    resource = parts.path or "/"
    if parts.query:
        resource = f"{resource}?{parts.query}"
    return ParsedURL(host, port, resource, scheme in SECURE_SCHEMES)


class ResponseHeaders(Mapping[str, str]):
    """Received header fields: case-insensitive, repeated fields combined
    with ", " on lookup (RFC 9110 section 5.3); ``get_all`` keeps them apart
    (Set-Cookie must not be combined, RFC 6265 section 3)."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items = list(items)

    @classmethod
    def from_wire(cls, fields: Iterable[tuple[bytes, bytes]]) -> ResponseHeaders:
        # Field values are octets; Latin-1 keeps obs-text intact (RFC 9110 5.5).
        return cls((n.decode("latin-1"), v.decode("latin-1")) for n, v in fields)

    def __getitem__(self, name: str) -> str:
        values = self.get_all(name)
        if not values:
            raise KeyError(name)
        return ", ".join(values)

    def get_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for n, v in self._items if n.lower() == lname]

    def __iter__(self) -> Iterator[str]:
        seen: dict[str, None] = {}
        for n, _ in self._items:
            seen.setdefault(n.lower(), None)
        return iter(seen)

    def __len__(self) -> int:
        return len({n.lower() for n, _ in self._items})

    def items_raw(self) -> list[tuple[str, str]]:
        """The fields as received, in order."""
        return list(self._items)

    def __repr__(self) -> str:
        return f"ResponseHeaders({self._items!r})"


@dataclass
class ClientResponse:
    """A complete HTTP response received by :class:`~circuits.web.client.Client`."""

    status: int
    reason: str
    headers: ResponseHeaders
    body: bytes = b""
    http_version: str = "1.1"
    method: str = "GET"
    url: str = ""
    trailers: ResponseHeaders = field(default_factory=ResponseHeaders)

    def read(self) -> bytes:
        """The body (the 2.x response object was file-like)."""
        return self.body

    @property
    def charset(self) -> str:
        content_type = self.headers.get("Content-Type", "")
        for param in content_type.split(";")[1:]:
            name, _, value = param.strip().partition("=")
            if name.lower() == "charset" and value:
                return value.strip('"')
        return "utf-8"

    @property
    def text(self) -> str:
        return self.body.decode(self.charset, "replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<ClientResponse {self.status} {self.reason!r} ({len(self.body)} bytes) for {self.method} {self.url}>"
