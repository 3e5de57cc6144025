"""The calling side of a node: one connection to one peer, kept up.

:meth:`Client.send` writes an event packet and returns a suspension the
caller's task yields on; it is resumed with ``(result, errors)`` when the
peer's value packet comes back.

Reconnecting: when the connection drops or cannot be made, the client
tries again after a delay that doubles from ``backoff[0]`` up to
``backoff[1]`` seconds (times a random 0.5-1 factor, so many clients do
not come back in lockstep), for as long as the application runs. Requests
made while disconnected wait (up to ``max_queued``) and go out on
reconnect; requests already sent when the connection dropped fail with a
ConnectionError, as there is no telling whether the peer ran them.

The server may fire events here too (3.x ``server.send``/``send_all``):
the client fires them on the channels they name and answers with their
value. ``allow`` narrows the names it accepts, as for the server, and
the server's DENIED_EVENTS are refused whatever ``allow`` says.
"""

from __future__ import annotations

import itertools
import random
from collections import deque
from collections.abc import Generator, Iterable
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..core.loop import TimerHandle
from ..net.client import TCPClient
from ..net.events import connect
from ..protocols.linesplitter import LineSplitter, LineTooLong
from .events import connected_to, disconnected_from
from .server import DENIED_EVENTS, node_serve
from .utils import (
    PacketError,
    RemoteError,
    UnsafeValue,
    dump_event,
    dump_value,
    load_event,
    load_packet,
    load_value,
)
from .wait import Answered, Reply

__all__ = ["Client"]

_ids = itertools.count(1)


class Client(BaseComponent):
    """A connection to the node server at (host, port) (see module doc)."""

    channel: Any = "node"

    def __init__(self, host: str, port: int, channel: Any = channel, name: str | None = None,
                 reconnect: bool = True, backoff: tuple[float, float] = (0.05, 5.0),
                 max_queued: int = 10_000, max_packet: int = 16 << 20,
                 reconnect_delay: float | None = None, connect_timeout: float = 5.0,
                 allow: Iterable[str] | None = None) -> None:
        super().__init__(channel=channel)
        #: Event names the server may fire here (None: any not in DENIED_EVENTS).
        self.allow = frozenset(allow) if allow is not None else None
        if reconnect_delay is not None:  # 3.x: a fixed delay between attempts
            backoff = (reconnect_delay, reconnect_delay)
        #: Seconds a connection attempt may take before it counts as unreachable.
        self.connect_timeout = connect_timeout
        self.host, self.port = host, port
        self.peer_name = name or f"{host}:{port}"
        self.reconnect = reconnect
        self.backoff = backoff
        self.max_queued = max_queued
        self.max_packet = max_packet
        self._link_channel = f"{channel}.client.{next(_ids)}"
        self.transport = TCPClient(channel=self._link_channel).register(self)
        _ClientLink(self, channel=self._link_channel).register(self)
        self._splitter = LineSplitter(b"\n", max_length=max_packet)
        self._seq = 0
        self._pending: dict[int, Reply] = {}
        self._queued: deque[tuple[bytes, int]] = deque()
        self._state = "idle"  # idle -> connecting -> connected -> (waiting ->) connecting ...
        self._retry: TimerHandle | None = None
        self._attempts = 0
        self.reconnects = 0
        self._closed = False

    @property
    def connected(self) -> bool:
        return self._state == "connected"

    @property
    def link_channel(self) -> str:
        """The channel the socket's own events (connect, connected, read...) come on."""
        return self._link_channel

    # -- requests ------------------------------------------------------------
    def send(self, event: Event, channels: tuple[str, ...] | list[str] | None = None) -> Reply:
        """Send ``event`` to the peer; yield the result in a task for (result, errors)."""
        self._seq += 1
        seq = self._seq
        try:
            line = dump_event(event, seq, channels).encode("ascii") + b"\n"
        except UnsafeValue as e:
            return Answered(e)
        if self._closed:
            return Answered(ConnectionError(f"node client for {self.peer_name} is closed"))
        reply = Reply()
        if self._state == "connected":
            self._pending[seq] = reply
            self.transport.write(line)
        elif len(self._queued) >= self.max_queued:
            return Answered(ConnectionError(f"{self.peer_name} unreachable and the queue is full"))
        else:
            self._pending[seq] = reply
            self._queued.append((line, seq))
            self._connect()
        return reply

    @handler(False)
    def close(self) -> None:
        """Disconnect and stop reconnecting; waiting requests fail."""
        self._closed = True
        self._cancel_retry()
        self.transport.close()
        self._fail_all(ConnectionError(f"node client for {self.peer_name} closed"))

    # -- connection ------------------------------------------------------------
    def _connect(self) -> None:
        if self._closed or self._state in ("connecting", "connected") or self._retry is not None:
            return
        self._state = "connecting"
        self.fire(connect(self.host, self.port, timeout=self.connect_timeout), self._link_channel)

    def _on_connected(self) -> None:
        self._state = "connected"
        self._attempts = 0
        self._splitter = LineSplitter(b"\n", max_length=self.max_packet)
        self.fire(connected_to(self.peer_name, self.host, self.port))
        while self._queued:
            line, _seq = self._queued.popleft()
            self.transport.write(line)

    def _on_lost(self, was_connected: bool) -> None:
        self._state = "idle"
        # Requests already on the wire: unknown fate, so they fail (see module doc).
        sent = [seq for seq in self._pending if seq not in {s for _, s in self._queued}]
        for seq in sent:
            reply = self._pending.pop(seq)
            reply.resume((ConnectionError(f"connection to {self.peer_name} lost"), True))
        if was_connected:
            self.fire(disconnected_from(self.peer_name, self.host, self.port))
        if self._closed or not self.root.running or not self.reconnect:
            self._fail_all(ConnectionError(f"{self.peer_name} is unreachable"))
            return
        low, high = self.backoff
        delay = min(high, low * (2 ** self._attempts))
        if low != high:  # a fixed delay (3.x reconnect_delay) is kept as asked
            delay *= random.uniform(0.5, 1.0)
        self._attempts += 1
        self._cancel_retry()
        self._retry = self.loop.call_later(delay, self._retry_now)

    def _retry_now(self) -> None:
        self._retry = None
        self.reconnects += 1
        self._connect()

    def _cancel_retry(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None

    def _fail_all(self, error: BaseException) -> None:
        self._queued.clear()
        pending, self._pending = self._pending, {}
        for reply in pending.values():
            reply.resume((error, True))

    def _on_data(self, data: bytes) -> None:
        for line in self._splitter.feed(data):
            if isinstance(line, LineTooLong):
                continue
            try:
                packet = load_packet(line)
                if packet["type"] == "event":  # pushed by the server (3.x send/send_all)
                    self._pushed(packet)
                    continue
                result, seq, errors, _meta = load_value(packet)
            except PacketError:
                continue  # a bad packet from the peer: nothing to match it with
            reply = self._pending.pop(seq, None)
            if reply is not None:
                reply.resume((result, errors))

    def allowed(self, name: str) -> bool:
        """May the server fire an event of this name here? (see module doc)"""
        return name not in DENIED_EVENTS and (self.allow is None or name in self.allow)

    def _pushed(self, packet: dict[str, Any]) -> None:
        event, id_ = load_event(packet)
        if not self.allowed(event.name):
            error = RemoteError("PermissionError", f"event {event.name!r} is not allowed here")
            self._write(dump_value((RemoteError, error, []), id_, errors=True))
            return
        self.fire(node_serve(None, id_, event, event.channels), self._link_channel)

    def _write(self, text: str) -> None:
        if self._state == "connected":
            self.transport.write(text.encode("ascii") + b"\n")

    def unregister(self) -> BaseComponent:
        self._cancel_retry()
        return super().unregister()

    def statistics(self) -> dict[str, Any]:
        return {"state": self._state, "pending": len(self._pending), "queued": len(self._queued),
                "reconnects": self.reconnects}


class _ClientLink(BaseComponent):
    """Handles the transport's events on its private channel for the Client."""

    def __init__(self, owner: Client, channel: Any) -> None:
        super().__init__(channel=channel)
        self.owner = owner

    @handler("ready")
    def _on_transport_ready(self, component: Any, bind: Any = None) -> None:
        if self.owner._queued or self.owner._state == "idle":
            self.owner._connect()

    @handler("connected")
    def _on_connected(self, host: Any, port: Any) -> None:
        self.owner._on_connected()

    @handler("disconnected")
    def _on_disconnected(self) -> None:
        self.owner._on_lost(True)

    @handler("unreachable")
    def _on_unreachable(self, host: Any, port: Any, reason: Any = None) -> None:
        self.owner._on_lost(False)

    @handler("read")
    def _on_read(self, data: bytes) -> None:
        self.owner._on_data(data)

    @handler("close")
    def _on_close(self) -> None:
        # ``close`` on the channel add() returned closes this client only;
        # on the Node's channel (shared by its server and every client) it
        # closes the Node's server (3.x).
        self.owner.close()

    @handler("node_serve")
    def _serve(self, sock: Any, id_: int, event: Event, channels: tuple[str, ...]) -> Generator[Any, Any, None]:
        value = yield self.call(event, *channels)
        self.owner._write(dump_value(value, id_))
