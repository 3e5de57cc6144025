"""Web servers: a stream server plus the HTTP protocol (plus a Dispatcher).

``bind`` may be a port (all interfaces), a (host, port) tuple or list,
a "host:port" string, or any other string: the path of a UNIX socket.
"""

from __future__ import annotations

from typing import Any

from ..core.components import BaseComponent
from ..net.server import TCP6Server, TCPServer, UNIXServer
from .dispatchers.dispatcher import Dispatcher
from .http import HEADER_TIMEOUT, HTTP

__all__ = ["BaseServer", "FakeSock", "Server"]

#: Keyword arguments that configure the HTTP component rather than the socket.
_HTTP_OPTIONS = frozenset({"limits", "max_body", "header_timeout", "keepalive_timeout", "spool_size",
                           "high_water", "pipeline_buffer", "body_timeout", "body_min_rate",
                           "max_connections", "body_limit", "send_timeout"})


class _DrainHook:
    """Lets the HTTP component hear when a connection's write buffer empties.

    The transport tells its owner (the server) through
    ``transport_drained``; a streaming response waits for exactly that.
    """

    has_drain_hook = False
    _drain_hook: Any = None

    def set_drain_hook(self, fn: Any) -> None:
        self._drain_hook = fn
        self.has_drain_hook = True

    def transport_drained(self, transport: Any) -> None:
        super().transport_drained(transport)  # type: ignore[misc]  # the server's own bookkeeping (starttls)
        hook = self._drain_hook
        if hook is not None:
            hook(transport.tag.key)  # the `sock` the application knows this connection by


class WebTCPServer(_DrainHook, TCPServer):
    pass


class WebTCP6Server(_DrainHook, TCP6Server):
    pass


class WebUNIXServer(_DrainHook, UNIXServer):
    pass


def _server_class(bind: Any) -> tuple[type, Any]:
    if isinstance(bind, int):
        return WebTCPServer, bind
    if isinstance(bind, (tuple, list)):
        host = str(bind[0]) if bind[0] else ""
        return (WebTCP6Server if ":" in host else WebTCPServer), (host, int(bind[1]))
    if isinstance(bind, str):
        if ":" in bind:
            host, _, port = bind.rpartition(":")
            host = host.strip("[]")
            return (WebTCP6Server if ":" in host else WebTCPServer), (host, int(port))
        return WebUNIXServer, bind
    raise ValueError(f"cannot bind a web server to {bind!r}")


class BaseServer(BaseComponent):
    """A web server (HTTP) without a dispatcher; see the module doc for ``bind``.

    ``server`` is the underlying stream server, ``http`` the protocol
    component. Further keyword arguments configure the HTTP component
    (``max_body``, ``header_timeout``, ``body_timeout``, ``body_min_rate``,
    ``keepalive_timeout``, ``max_connections``, ``body_limit``, ``limits`` ...;
    see :mod:`circuits.web.http`)
    or the socket (``keyfile``, ``ca_certs``, ``backlog`` ...).

    ``debug=True`` puts the traceback of a failing handler on its 500 page
    (``request.print_debug``). Off by default: a traceback tells a client
    about the code behind the server (circuits 3.x showed it whenever
    ``display_banner`` was on; see docs/compatibility.md).
    """

    channel = "web"
    #: Controllers registered below a web server belong to its dispatcher only.
    web_server = True

    def __init__(self, bind: Any, encoding: str = "utf-8", secure: bool = False, certfile: str | None = None,
                 channel: Any = channel, display_banner: bool = True, debug: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(channel=channel)
        self._display_banner = display_banner
        self.debug = debug
        http_options = {k: v for k, v in kwargs.items() if k in _HTTP_OPTIONS}
        socket_options = {k: v for k, v in kwargs.items() if k not in _HTTP_OPTIONS}
        if secure or certfile:
            # A client that never finishes its TLS handshake is not yet an HTTP
            # connection, so the HTTP deadlines cannot see it: the handshake
            # gets the head's deadline, not the transport's generic 30 s.
            socket_options.setdefault("handshake_timeout", http_options.get("header_timeout", HEADER_TIMEOUT))
        if isinstance(bind, BaseComponent):
            self.server = bind.register(self)  # a ready-made stream server
        else:
            cls, address = _server_class(bind)
            self.server = cls(address, secure=secure, certfile=certfile, channel=channel,
                              **socket_options).register(self)
        self.http = HTTP(self, encoding=encoding, channel=channel, **http_options).register(self)

    @property
    def host(self) -> Any:
        return getattr(self.server, "host", None)

    @property
    def port(self) -> int | None:
        return getattr(self.server, "port", None)

    @property
    def secure(self) -> bool:
        return bool(getattr(self.server, "secure", False))

    @property
    def display_banner(self) -> bool:
        return self._display_banner

    @property
    def base(self) -> str:
        return self.http.base

    def statistics(self) -> dict[str, Any]:
        stats = super().statistics()
        stats["http"] = self.http.statistics()
        return stats


class Server(BaseServer):
    """A web server with the default Dispatcher: register Controllers with it."""

    def __init__(self, bind: Any, **kwargs: Any) -> None:
        super().__init__(bind, **kwargs)
        self.dispatcher = Dispatcher(channel=self.channel).register(self.http)


class FakeSock:
    """Stands in for a socket in tests and tools that build requests by hand."""

    def getpeername(self) -> tuple[str, int]:
        return ("127.0.0.1", 0)

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 0)
