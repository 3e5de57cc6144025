"""WebSocketClient: an RFC 6455 client component.

``WebSocketClient(url, channel="wsclient", wschannel="ws", headers=None)``
connects when it joins a running tree (or when the tree starts): first TCP
(TLS for ``wss://``) through a child ``TCPClient`` on *channel*, then the
opening handshake (section 4.1) parsed with the sans-I/O HTTP codec. Once
the server accepted, the application uses *wschannel*:

* ``connected(host, port)`` - the handshake succeeded;
* ``read(data)`` - a message arrived (``str`` text, ``bytes`` binary);
* fire ``write(data)`` to send one (text for ``str``, binary for bytes);
* fire ``close()`` (or ``close(code, reason)``) to run the closing handshake;
* ``disconnected()`` - the connection is over (``close_code`` says why);
* ``not_connected(url, reason)`` - TCP or the handshake failed.

*channel* and *wschannel* must differ: raw TCP ``read`` events arrive on
the former, messages on the latter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ...core.components import BaseComponent
from ...core.handlers import handler
from ...net.client import TCPClient
from ...net.events import connected, disconnected, read
from ...protocols.h1 import NEED_DATA, PAUSED, InformationalResponse, Limits, ProtocolError, ResponseParser
from ...protocols.h1 import Response as ResponseHead
from ...protocols.websocket import (
    CloseCode,
    HandshakeError,
    client_handshake_request,
    validate_server_response,
)
from ..client_response import parse_url
from .endpoint import DEFAULT_MAX_MESSAGE, WebSocketEndpoint
from .events import ChannelAdapter, not_connected

__all__ = ["WebSocketClient"]

#: The handshake response is a head only; refuse anything bigger.
_HANDSHAKE_LIMITS = Limits(max_head_size=16 * 1024, max_body=64 * 1024)


class WebSocketClient(BaseComponent):
    """An RFC 6455 client (see module doc)."""

    channel: Any = "wsclient"

    def __init__(self, url: str, channel: Any = channel, wschannel: Any = "ws",
                 headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None, *,
                 max_message_size: int = DEFAULT_MAX_MESSAGE, ping_interval: float | None = 20.0,
                 ping_timeout: float | None = 20.0, close_timeout: float = 5.0,
                 connect_timeout: float | None = 10.0, **tls: Any) -> None:
        super().__init__(channel=channel)
        if wschannel == self.channel:
            raise ValueError("wschannel must differ from channel (raw TCP reads arrive on channel)")
        if not url.lower().startswith(("ws://", "wss://", "http://", "https://")):
            raise ValueError(f"not a WebSocket URL: {url!r}")
        self.url = url
        self.target = parse_url(url)
        self.wschannel = wschannel
        self.headers = list(headers.items() if isinstance(headers, Mapping) else (headers or ()))
        self.max_message_size = max_message_size
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.close_timeout = close_timeout
        self.connect_timeout = connect_timeout
        self.tls = tls
        self._tcp = TCPClient(channel=channel, bufsize=65536).register(self)
        self._adapter = ChannelAdapter(wschannel, self._write, self._close).register(self)
        self._started = False
        self._parser: ResponseParser | None = None
        self._key = ""
        self._endpoint: WebSocketEndpoint | None = None
        self._ended = False
        #: Close code and reason once the connection is over (1006: no Close frame).
        self.close_code: int | None = None
        self.close_reason = ""
        #: The Sec-WebSocket-Protocol the server chose, if any.
        self.subprotocol: str | None = None

    @property
    def connected(self) -> bool:
        """True while the WebSocket is open (handshake done, not closed)."""
        return self._endpoint is not None and not self._endpoint.closed

    @property
    def endpoint(self) -> WebSocketEndpoint | None:
        return self._endpoint

    # -- opening -------------------------------------------------------------
    @handler("ready")
    def _on_ready(self, component: Any, bind: Any = None) -> None:
        if component is not self._tcp or self._started:
            return
        self._started = True
        kwargs = dict(self.tls)
        if self.connect_timeout:
            kwargs["timeout"] = self.connect_timeout
        self._tcp.connect(self.target.host, self.target.port, self.target.secure, **kwargs)

    @handler("connected")
    def _on_connected(self, host: Any, port: Any) -> None:
        request, self._key = client_handshake_request(self.target.netloc, self.target.resource, self.headers)
        self._parser = ResponseParser(_HANDSHAKE_LIMITS)
        self._tcp.write(request)

    @handler("unreachable")
    def _on_unreachable(self, host: Any, port: Any, reason: Any = None) -> None:
        self._not_connected(reason)

    @handler("read")
    def _on_read(self, data: bytes) -> None:
        endpoint = self._endpoint
        if endpoint is not None:
            endpoint.receive(data)
            return
        parser = self._parser
        if parser is None:
            return
        parser.receive_data(data)
        try:
            while True:
                event = parser.next_event()
                if event is NEED_DATA or event is PAUSED:
                    return
                if isinstance(event, InformationalResponse) and event.status == 101:
                    self.subprotocol = validate_server_response(101, event.headers, self._key)
                    self._open(parser.trailing_data.data)
                    return
                if isinstance(event, ResponseHead):
                    # Section 4.1: any status other than 101 fails the handshake.
                    raise HandshakeError(f"server answered {event.status} {event.reason}", event.status)
        except (HandshakeError, ProtocolError) as e:
            self._parser = None
            self._not_connected(e)
            self._tcp.close()

    def _open(self, trailing: bytes) -> None:
        self._parser = None
        self._endpoint = WebSocketEndpoint(
            self.loop, client=True, send=self._tcp.write, close_transport=self._tcp.close,
            abort=self._abort_transport, on_message=self._on_message, on_closed=self._on_closed,
            max_message_size=self.max_message_size, ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout, close_timeout=self.close_timeout)
        self.fire(connected(self.target.host, self.target.port), self.wschannel)
        if trailing:  # frames the server sent right behind its 101
            self._endpoint.receive(trailing)

    def _abort_transport(self) -> None:
        # TCPClient has no public abort(): drop what is queued and close now.
        transport = getattr(self._tcp, "_transport", None)
        if transport is not None:
            transport.abort("websocket aborted")
        else:
            self._tcp.close()

    def _not_connected(self, reason: Any) -> None:
        if not self._ended:
            self._ended = True
            self.fire(not_connected(self.url, reason), self.wschannel)

    # -- open connection -------------------------------------------------------
    def _on_message(self, data: str | bytes) -> None:
        self._adapter.fire(read(data), self.wschannel).notify = True

    def _on_closed(self, code: int, reason: str) -> None:
        self.close_code, self.close_reason = code, reason
        if not self._ended:
            self._ended = True
            self.fire(disconnected(), self.wschannel)

    @handler("disconnected")
    def _on_disconnected(self) -> None:
        if self._endpoint is not None:
            self._endpoint.transport_gone()
        elif not self._ended:
            self._not_connected(ConnectionError("connection closed during the opening handshake"))

    # -- requests from the application (on wschannel) ----------------------------
    def _write(self, data: str | bytes) -> None:
        if self._endpoint is not None:
            self._endpoint.send_message(data)

    def _close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        if self._endpoint is not None:
            self._endpoint.close(code, reason)
        else:
            self._tcp.close()
