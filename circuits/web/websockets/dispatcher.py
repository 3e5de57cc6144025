"""WebSocketsDispatcher: upgrade matching requests and serve WebSockets (RFC 6455).

``WebSocketsDispatcher(path, wschannel="wsserver", channel="web")`` sits in
a web server's tree. For a request on ``path`` it checks the opening
handshake (section 4.2.1) and answers ``101 Switching Protocols`` (4.2.2)
by returning a 101 Response; the HTTP component sends that head, stops
parsing the socket and fires ``upgraded(request, response, data)`` - the
hand-off. From then on the socket's ``read`` events (still fired by the
TCP server on *channel*) are WebSocket frames for this dispatcher alone.

On *wschannel* the application sees ``connect(sock, host, port)``,
``read(sock, data)`` (``str`` for text, ``bytes`` for binary) and
``disconnect(sock)``, and fires ``write(sock, data)``, ``close(sock[, code,
reason])`` and ``broadcast(data)``. A ``read`` handler may also return data:
it is sent back to that socket.

``origins`` lists the ``Origin`` values allowed (None: any);
``same_origin=True`` also allows the page the server itself served (an
Origin naming the request's ``Host`` and scheme), and a handshake without
``Origin`` (not a browser: browsers always send it). Anything else gets 403:
without it any web page the user opens can read the feed (cross-site
WebSocket hijacking, RFC 6455 section 10.2).

A client whose transport holds more than ``max_send_buffer`` unsent bytes
is dropped at once (a slow consumer must not make the server buffer
without bound, nor slow the others: writes never block).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ...core.components import BaseComponent
from ...core.dispatcher import walk
from ...core.handlers import handler
from ...core.transport import Transport
from ...net.events import close as close_event
from ...net.events import connect, disconnect, read
from ...net.events import write as write_event
from ...protocols.websocket import (
    CloseCode,
    HandshakeError,
    Opcode,
    accept_key,
    build_frame,
    frame_header,
    server_handshake_response,
    validate_client_handshake,
)
from ..hosts import same_origin as is_same_origin
from ..http import HTTP
from .endpoint import DEFAULT_MAX_MESSAGE, WebSocketEndpoint
from .events import ChannelAdapter

__all__ = ["WebSocketsDispatcher"]

#: Priority of the ``request`` handler: above the default Dispatcher (and
#: the RPC dispatchers), so an upgrade is never routed to a controller.
PRIORITY = 10.0


class _Peer:
    """One upgraded connection: its endpoint and how to reach its transport."""

    __slots__ = ("sock", "endpoint", "transport", "address")

    def __init__(self, sock: Any, transport: Transport | None, address: tuple[str, int]) -> None:
        self.sock = sock
        self.transport = transport
        self.address = address
        self.endpoint: WebSocketEndpoint | None = None


class WebSocketsDispatcher(BaseComponent):
    """Serves WebSockets on one path of a web server (see module doc)."""

    channel: Any = "web"

    def __init__(self, path: str | None = None, wschannel: Any = "wsserver", channel: Any = channel, *,
                 max_message_size: int = DEFAULT_MAX_MESSAGE, max_send_buffer: int = 1 << 20,
                 ping_interval: float | None = 20.0, ping_timeout: float | None = 20.0,
                 close_timeout: float = 5.0, origins: Iterable[str] | None = None,
                 same_origin: bool = False, subprotocols: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(channel=channel)
        if wschannel == self.channel:
            raise ValueError("wschannel must differ from the web channel")
        self.path = path or "/"
        self.wschannel = wschannel
        self.max_message_size = max_message_size
        self.max_send_buffer = max_send_buffer
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.close_timeout = close_timeout
        #: Allowed Origin values (None: any). Section 10.2: a server that only
        #: serves its own pages should refuse other origins (403).
        self.origins = frozenset(origins) if origins is not None else None
        self.same_origin = same_origin
        self.subprotocols = tuple(subprotocols)
        self._accepted: dict[Any, _Peer] = {}  # 101 answered, hand-off pending
        self._http: HTTP | None = None
        self._peers: dict[Any, _Peer] = {}
        self._adapter = ChannelAdapter(wschannel, self._write, self._close, self.broadcast).register(self)
        self.dropped_slow = 0

    # -- introspection ---------------------------------------------------------
    @property
    def clients(self) -> list[Any]:
        """Sockets of the open WebSocket connections."""
        return list(self._peers)

    def transport_of(self, sock: Any) -> Transport | None:
        """The transport of an open connection (its byte counters), or None."""
        peer = self._peers.get(sock)
        return peer.transport if peer is not None else None

    def statistics(self) -> dict[str, Any]:
        return {"clients": len(self._peers), "pending_upgrades": len(self._accepted),
                "dropped_slow": self.dropped_slow}

    def matches(self, path: str) -> bool:
        base = self.path.rstrip("/")
        return path == self.path or path == base or path.startswith(base + "/")

    # -- the opening handshake (section 4.2) -------------------------------------
    @handler("request", priority=PRIORITY)
    def _on_request(self, event: Any, request: Any, response: Any) -> Any:
        if not self.matches(request.path):
            return None
        event.stop()  # this path is ours: never routed to a controller
        headers = list(request.headers.items())
        try:
            if request.protocol < (1, 1):
                # Section 4.1: "The method of the request MUST be GET, and the
                # HTTP version MUST be at least 1.1."
                raise HandshakeError("a WebSocket handshake needs HTTP/1.1", 400)
            key = validate_client_handshake(request.method, headers)
            origin = request.headers.get("Origin")
            if not self._origin_allowed(origin, request):
                raise HandshakeError(f"origin {origin!r} not allowed", 403)
        except HandshakeError as e:
            # Section 4.2.1: "If the server, while reading the handshake, finds
            # that the client did not send a handshake that matches the
            # description below ... the server MUST stop processing the
            # client's handshake and return an HTTP response with an
            # appropriate error code (such as 400 Bad Request)."
            response.status = e.status
            for name, value in e.headers:
                response.headers[name] = value
            response.headers["Content-Type"] = "text/plain; charset=utf-8"
            return f"{e.message}\n"
        chosen = self._choose_subprotocol(request.headers.get("Sec-WebSocket-Protocol", ""))
        remote = request.remote
        peer = _Peer(request.sock, self._transport_of(request), (remote.ip, remote.port))
        response.status = 101
        http = self._http_component()
        if http is not None and peer.transport is not None:
            # The hand-off: HTTP.upgrade() stops the HTTP component parsing
            # this socket and gives back what it had buffered past the request.
            # We write the 101 ourselves (section 4.2.2) so that its
            # Connection/Upgrade fields go out exactly as RFC 6455 wants them.
            data = http.upgrade(request.sock)
            peer.transport.write(server_handshake_response(key, subprotocol=chosen))
            self._start(peer, data)
            return response  # HTTP ignores it: the connection is no longer HTTP's
        # No HTTP component we can reach: answer 101 through HTTP, which hands
        # the connection over and fires ``upgraded`` (handled below).
        response.headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                            ("Sec-WebSocket-Accept", accept_key(key))]
        if chosen is not None:
            response.headers["Sec-WebSocket-Protocol"] = chosen
        self._accepted[request.sock] = peer
        return response

    def _origin_allowed(self, origin: str | None, request: Any) -> bool:
        if self.origins is not None and origin in self.origins:
            return True
        if self.same_origin:
            return origin is None or is_same_origin(origin, request.headers.get("Host", ""), request.scheme)
        return self.origins is None

    def _http_component(self) -> HTTP | None:
        """The HTTP component serving this dispatcher's channel."""
        http = self._http
        if http is None or http.root is not self.root:
            http = self._http = next((node for node in walk(self.root)
                                      if isinstance(node, HTTP) and node.channel == self.channel), None)
        return http

    def _choose_subprotocol(self, offered: str) -> str | None:
        # Section 4.2.2 item 5.4: pick one of the client's values, or none.
        wanted = [p.strip() for p in offered.split(",") if p.strip()]
        return next((p for p in wanted if p in self.subprotocols), None)

    def _transport_of(self, request: Any) -> Transport | None:
        """The socket's Transport, from the TCP server under the web server."""
        server = getattr(request, "server", None)
        candidates = [getattr(server, "server", None), getattr(server, "transport", None), server]
        for candidate in candidates:
            transport_for: Callable[[Any], Transport | None] | None = getattr(candidate, "transport_for", None)
            if transport_for is not None:
                transport = transport_for(request.sock)
                if transport is not None:
                    return transport
        return None

    @handler("upgraded")
    def _on_upgraded(self, request: Any, response: Any, data: bytes = b"") -> None:
        peer = self._accepted.pop(request.sock, None)
        if peer is not None:  # else: another protocol's upgrade
            self._start(peer, data)

    def _start(self, peer: _Peer, data: bytes) -> None:
        sock = peer.sock
        peer.endpoint = WebSocketEndpoint(
            self.loop, client=False, send=lambda frame: self._send(peer, frame),
            close_transport=lambda: self._close_transport(peer, abort=False),
            abort=lambda: self._close_transport(peer, abort=True),
            on_message=lambda message: self._on_message(sock, message),
            on_closed=lambda code, reason: self._on_closed(peer, code, reason),
            max_message_size=self.max_message_size, ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout, close_timeout=self.close_timeout)
        self._peers[sock] = peer
        self.fire(connect(sock, *peer.address), self.wschannel)
        if data:
            peer.endpoint.receive(data)

    # -- frames in -----------------------------------------------------------------
    @handler("read")
    def _on_read(self, sock: Any, data: bytes) -> None:
        peer = self._peers.get(sock)
        if peer is not None and peer.endpoint is not None:
            peer.endpoint.receive(data)

    @handler("disconnect")
    def _on_disconnect(self, sock: Any) -> None:
        self._accepted.pop(sock, None)
        peer = self._peers.get(sock)
        if peer is not None and peer.endpoint is not None:
            peer.endpoint.transport_gone()

    def _on_message(self, sock: Any, message: str | bytes) -> None:
        self._adapter.fire(read(sock, message), self.wschannel).notify = True

    def _on_closed(self, peer: _Peer, code: int, reason: str) -> None:
        if self._peers.pop(peer.sock, None) is not None:
            self.fire(disconnect(peer.sock), self.wschannel)

    # -- frames out ------------------------------------------------------------------
    def _send(self, peer: _Peer, frame: bytes) -> None:
        transport = peer.transport
        if transport is None:
            self.fire(write_event(peer.sock, frame), self.channel)
            return
        transport.write(frame)
        if transport.buffered > self.max_send_buffer and peer.endpoint is not None:
            # A slow consumer: drop it rather than buffer for it (section 10.4
            # leaves resource limits to the implementation).
            self.dropped_slow += 1
            peer.endpoint.abort(CloseCode.POLICY_VIOLATION, "slow consumer")

    def _close_transport(self, peer: _Peer, abort: bool) -> None:
        transport = peer.transport
        if transport is None:
            self.fire(close_event(peer.sock), self.channel)
        elif abort:
            transport.abort("websocket aborted")
        else:
            transport.close()

    # -- requests from the application (wschannel) --------------------------------------
    def _write(self, sock: Any, data: str | bytes) -> None:
        peer = self._peers.get(sock)
        if peer is not None and peer.endpoint is not None:
            peer.endpoint.send_message(data)

    def _close(self, sock: Any = None, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        peers = [self._peers.get(sock)] if sock is not None else list(self._peers.values())
        for peer in peers:
            if peer is not None and peer.endpoint is not None:
                peer.endpoint.close(code, reason)

    def broadcast(self, data: str | bytes, exclude: Any = None) -> int:
        """Send one message to every open connection; returns how many got it.

        The frame is built once: server frames are never masked (section 5.1),
        so every client receives the same bytes.
        """
        return self._send_to_all(_frame(data), exclude)

    def broadcast_many(self, messages: Iterable[str | bytes], exclude: Any = None, *, text: bool = False) -> int:
        """Send several messages, in order, to every open connection; returns
        how many connections got them.

        Same as one :meth:`broadcast` per message, but each client gets all
        the frames in one transport write: a feed that gathers what a loop
        pass produced (a few hundred readings) then costs one write per
        client instead of one per client per message. With ``text`` bytes
        go out as text frames too: the caller promises they are UTF-8
        (section 5.6), e.g. JSON it encoded once for several sinks.
        """
        parts: list[bytes] = []
        for message in messages:
            if isinstance(message, str):
                payload, opcode = message.encode("utf-8"), Opcode.TEXT
            else:
                payload, opcode = message, Opcode.TEXT if text else Opcode.BINARY
            parts.append(frame_header(opcode, len(payload)))
            parts.append(payload)
        return self._send_to_all(b"".join(parts), exclude) if parts else 0

    def _send_to_all(self, frames: bytes, exclude: Any) -> int:
        sent = 0
        for peer in list(self._peers.values()):
            endpoint = peer.endpoint
            if peer.sock is exclude or endpoint is None or not endpoint.can_send:
                continue
            self._send(peer, frames)
            sent += 1
        return sent


def _frame(data: str | bytes) -> bytes:
    """One unmasked data frame (section 5.1: a server never masks), text for str."""
    if isinstance(data, str):
        return build_frame(Opcode.TEXT, data.encode("utf-8"))
    return build_frame(Opcode.BINARY, bytes(data))
