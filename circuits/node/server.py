"""The serving side of a node: fire what peers send, send back the value.

A peer's event packet becomes an event fired here (on the channels the
packet names); once it is done its value goes back as a value packet with
the same id. Packets are JSON lines (see :mod:`circuits.node.utils`); a
line that is not a valid packet is answered with an error when it has an
id, and otherwise dropped.

Pushing: ``send(event, sock)``, ``send_to(event, socks)`` and
``send_all(event)`` fire an event on clients connected here (as in 3.x);
``get_socks()`` lists them. A client fires what it is sent (within its own
``allow`` list) and answers with the value: ``send`` returns what a task
yields to get it as ``(result, errors)`` (None with ``no_result=True``).
They may be called from any thread.

Safety: whoever can connect can fire events in this process. Bind to a
trusted address (loopback, a private network), and narrow ``allow`` to the
event names peers may fire. Life-cycle and transport events (``stop``-like
``signal``, ``write``, ``close``...) are refused by default whatever
``allow`` says, as a peer firing them could stop this process or write to
another peer's connection.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator, Iterable
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..net.events import closed, ready
from ..net.server import TCPServer
from ..protocols.linesplitter import LineSplitter, LineTooLong
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

__all__ = ["DENIED_EVENTS", "Server"]

#: Never fired on behalf of a peer (see module doc).
DENIED_EVENTS = frozenset({
    "registered", "unregistered", "unregister", "prepare_unregister", "started", "stopped",
    "signal", "generate_events", "exception", "read", "write", "close", "connect", "disconnect",
    "connected", "disconnected", "ready", "error", "remote", "node_serve",
})
#: Largest packet accepted (a line of JSON), in bytes.
MAX_PACKET = 16 << 20

_ids = itertools.count(1)


class node_serve(Event):
    """Internal: run one peer request as a task (sock, id, event, channels)."""


class Server(BaseComponent):
    """Listen on ``bind`` ((host, port) or port) and serve peers' events.

    ``allow``: the event names peers may fire (None: any name not in
    DENIED_EVENTS). ``port`` is the bound port (useful with port 0).
    """

    channel: Any = "node"

    def __init__(self, bind: Any, channel: Any = channel, allow: Iterable[str] | None = None,
                 max_packet: int = MAX_PACKET, **kwargs: Any) -> None:
        super().__init__(channel=channel)
        self.allow = frozenset(allow) if allow is not None else None
        self.max_packet = max_packet
        # The transport gets a channel of its own: a Node may hold a node
        # Client too, and their socket events must not meet.
        self._link_channel = f"{channel}.server.{next(_ids)}"
        self.transport = TCPServer(bind, channel=self._link_channel, **kwargs).register(self)
        _ServerLink(self, channel=self._link_channel).register(self)
        self._splitters: dict[Any, LineSplitter] = {}
        self._pushes: dict[int, tuple[Reply, Any]] = {}  # id -> what the task that pushed waits on
        self._push_ids = itertools.count(1)
        self.served = 0
        self.refused = 0

    @property
    def host(self) -> Any:
        return self.transport.host

    @property
    def port(self) -> int | None:
        return self.transport.port

    def allowed(self, name: str) -> bool:
        return name not in DENIED_EVENTS and (self.allow is None or name in self.allow)

    # -- from the link ---------------------------------------------------------
    def _peer_connected(self, sock: Any) -> None:
        self._splitters[sock] = LineSplitter(b"\n", max_length=self.max_packet)

    def _peer_gone(self, sock: Any) -> None:
        self._splitters.pop(sock, None)
        for id_, (reply, to) in list(self._pushes.items()):
            if to is sock:
                del self._pushes[id_]
                reply.resume((ConnectionError("the node client went away"), True))

    def _peer_data(self, sock: Any, data: bytes) -> None:
        splitter = self._splitters.get(sock)
        if splitter is None:
            splitter = self._splitters[sock] = LineSplitter(b"\n", max_length=self.max_packet)
        for line in splitter.feed(data):
            if isinstance(line, LineTooLong):
                self.refused += 1
                continue
            self._request(sock, line)

    def _request(self, sock: Any, line: bytes) -> None:
        try:
            packet = load_packet(line)
        except PacketError:
            self.refused += 1
            return
        if packet["type"] == "value":  # a client's answer to a push
            pushed = self._pushes.pop(packet["id"], None)
            if pushed is not None and pushed[1] is sock:
                try:
                    result, _id, errors, _meta = load_value(packet)
                except PacketError as e:
                    result, errors = e, True
                pushed[0].resume((result, errors))
            return
        try:
            event, id_ = load_event(packet)
            channels = event.channels
        except PacketError as e:
            self.refused += 1
            self._reply_error(sock, packet["id"], "PacketError", str(e))
            return
        if not self.allowed(event.name):
            self.refused += 1
            self._reply_error(sock, id_, "PermissionError", f"event {event.name!r} is not allowed here")
            return
        self.fire(node_serve(sock, id_, event, channels), self._link_channel)

    def _reply_error(self, sock: Any, id_: int, kind: str, message: str) -> None:
        error = RemoteError(kind, message)
        self._send(sock, dump_value((RemoteError, error, []), id_, errors=True))

    def _send(self, sock: Any, text: str) -> None:
        self.transport.write(sock, text.encode("ascii") + b"\n")

    # -- pushing to clients (3.x) -------------------------------------------------
    def get_socks(self) -> list[Any]:
        """The sockets of the clients connected now, oldest first."""
        return list(self._splitters)

    def send(self, event: Event, sock: Any, channel: str | None = None,
             no_result: bool = False) -> Reply | None:
        """Fire ``event`` on the client at ``sock`` (on ``channel``, default
        the event's channels or ``*``); see module doc for the result."""
        id_ = next(self._push_ids)
        try:
            line = dump_event(event, id_, (channel,) if channel else None).encode("ascii") + b"\n"
        except UnsafeValue as e:
            return None if no_result else Answered(e)
        reply = None
        if not no_result:
            reply = Reply()
            self._pushes[id_] = (reply, sock)
        # From any thread: the write itself happens on the loop.
        self.loop.call_soon_threadsafe(lambda: self._push(sock, line, id_))
        return reply

    def send_to(self, event: Event, socks: Iterable[Any]) -> None:
        """Fire ``event`` on each client in ``socks``, not waiting for values."""
        for sock in list(socks):
            self.send(event, sock, no_result=True)

    def send_all(self, event: Event) -> None:
        """Fire ``event`` on every client connected now, not waiting for values."""
        self.send_to(event, self.get_socks())

    def _push(self, sock: Any, line: bytes, id_: int) -> None:
        if sock in self._splitters:
            self.transport.write(sock, line)
            return
        pushed = self._pushes.pop(id_, None)
        if pushed is not None:
            pushed[0].resume((ConnectionError("the node client is not connected"), True))

    @handler("close")
    def close(self) -> None:
        """Stop listening and drop the connected clients (``closed`` follows on this channel)."""
        self.transport.close()

    def statistics(self) -> dict[str, Any]:
        return {"peers": len(self._splitters), "served": self.served, "refused": self.refused,
                "port": self.port}


class _ServerLink(BaseComponent):
    """Handles the transport's events on its private channel for the Server."""

    def __init__(self, owner: Server, channel: Any) -> None:
        super().__init__(channel=channel)
        self.owner = owner

    @handler("connect")
    def _on_connect(self, sock: Any, *address: Any) -> None:
        self.owner._peer_connected(sock)

    # The listener's own events, also on the Server's channel, where 3.x code waits for them.
    @handler("ready")
    def _on_ready(self, component: Any, bind: Any = None) -> None:
        self.fire(ready(self.owner, bind), self.owner.channel)

    @handler("closed")
    def _on_closed(self) -> None:
        self.fire(closed(), self.owner.channel)

    @handler("disconnect")
    def _on_disconnect(self, sock: Any) -> None:
        self.owner._peer_gone(sock)

    @handler("read")
    def _on_read(self, sock: Any, data: bytes) -> None:
        self.owner._peer_data(sock, data)

    @handler("node_serve")
    def _serve(self, sock: Any, id_: int, event: Event, channels: tuple[str, ...]) -> Generator[Any, Any, None]:
        value = yield self.call(event, *channels)
        owner = self.owner
        owner.served += 1
        if sock in owner._splitters:  # the peer may have gone meanwhile
            owner._send(sock, dump_value(value, id_))
