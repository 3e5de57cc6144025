"""Protocol: the circuits 3.x per-connection framing class of circuits.node.

3.x code builds one of these per connection and feeds it what the socket
read (``add_buffer(data)``); it fires ``write(data)`` (``write(sock, data)``
with ``server=True``) for what must be sent. A peer's event packet is
fired here and answered with its value once done; ``send(event)`` is a
generator that writes an event packet, yields None while the answer is
out, then yields the event's Value.

Packets are the JSON of :mod:`circuits.node.utils`, each followed by the
3.x separator ``~~~`` (``delimiter=``). Caution: a ``~~~`` inside a string
argument splits that packet; :class:`~circuits.node.Node` does not use
this class and frames with newlines (which JSON never leaves raw).

Firewalls: ``receive_event_firewall(event, sock)`` and
``send_event_firewall(event, sock)`` return False to refuse an event; a
refused incoming event is answered with a PermissionError, a refused
outgoing one makes ``send`` yield a failed Value at once. The names of
:data:`~circuits.node.server.DENIED_EVENTS` are refused before the
firewall is asked.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..core.values import Value
from ..net.events import write
from .server import DENIED_EVENTS
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

__all__ = ["DELIMITER", "Protocol"]

#: What ends a packet in 3.x.
DELIMITER = b"~~~"
#: Largest buffered packet, in bytes (a peer must not grow the buffer forever).
MAX_PACKET = 16 << 20

Firewall = Callable[[Event, Any], bool]


class protocol_serve(Event):
    """Internal: run one peer request as a task (id, event)."""


class Protocol(BaseComponent):
    """One connection's framing, requests and answers (see module doc)."""

    channel: Any = "node"

    def __init__(self, sock: Any = None, server: bool = False,
                 receive_event_firewall: Firewall | None = None,
                 send_event_firewall: Firewall | None = None, channel: Any = channel,
                 delimiter: bytes = DELIMITER, max_packet: int = MAX_PACKET, **kwargs: Any) -> None:
        super().__init__(channel=channel, **kwargs)
        self.sock = sock
        self.server = server
        self.receive_event_firewall = receive_event_firewall
        self.send_event_firewall = send_event_firewall
        self.delimiter = delimiter
        self.max_packet = max_packet
        self._buffer = b""
        self._next_id = 0
        self._answers: dict[int, tuple[Any, bool] | None] = {}  # id -> (result, errors) once back
        self.refused = 0

    # -- incoming ------------------------------------------------------------
    def add_buffer(self, data: bytes) -> None:
        """Take bytes read from the connection; handle every whole packet."""
        parts = (self._buffer + data).split(self.delimiter)
        tail = parts.pop()
        self._buffer = b""
        for part in parts:
            if part.strip():
                self._packet(part)
        if tail.strip():
            # 3.x also took a last packet that had no separator yet, as long
            # as it is whole; anything else waits for more bytes.
            try:
                packet = load_packet(tail)
            except PacketError:
                if len(tail) > self.max_packet:
                    self.refused += 1  # an endless packet: drop it
                else:
                    self._buffer = tail
                return
            self._handle(packet)

    def _packet(self, raw: bytes) -> None:
        try:
            packet = load_packet(raw)
        except PacketError:
            self.refused += 1
            return
        self._handle(packet)

    def _handle(self, packet: dict[str, Any]) -> None:
        if packet["type"] == "value":
            try:
                result, id_, errors, _meta = load_value(packet)
            except PacketError as e:
                result, id_, errors = e, packet["id"], True
            if id_ in self._answers:
                self._answers[id_] = (result, errors)
            return
        try:
            event, id_ = load_event(packet)
        except PacketError as e:
            self.refused += 1
            self._answer_error(packet["id"], "PacketError", str(e))
            return
        firewall = self.receive_event_firewall
        if event.name in DENIED_EVENTS or (firewall is not None and not firewall(event, self.sock)):
            self.refused += 1
            self._answer_error(id_, "PermissionError", f"event {event.name!r} is not allowed here")
            return
        self.fire(protocol_serve(id_, event), self.channel)

    @handler("protocol_serve")
    def _serve(self, id_: int, event: Event) -> Generator[Any, Any, None]:
        value = yield self.call(event, *event.channels)
        self._write(dump_value(value, id_))

    def _answer_error(self, id_: int, kind: str, message: str) -> None:
        error = RemoteError(kind, message)
        self._write(dump_value((RemoteError, error, []), id_, errors=True))

    def _write(self, text: str) -> None:
        data = text.encode("ascii") + self.delimiter
        self.fire(write(self.sock, data) if self.server else write(data), self.channel)

    # -- outgoing ------------------------------------------------------------
    def send(self, event: Event, no_result: bool = False) -> Generator[Any, None, None]:
        """Write ``event`` to the peer; a generator (3.x): it yields None
        while the answer is out, then the event's Value (not with
        ``no_result``). Handlers may return it or ``yield`` it."""
        firewall = self.send_event_firewall
        if event.value is None:
            event.value = Value(event, self)
        if firewall is not None and not firewall(event, self.sock):
            event.value.errors = True
            error = PermissionError(f"event {event.name!r} may not be sent")
            event.value.value = (PermissionError, error, [])
            yield event.value
            return
        id_ = self._next_id
        self._next_id += 1
        try:
            text = dump_event(event, id_)
        except UnsafeValue as e:
            event.value.errors = True
            event.value.value = (type(e), e, [])
            yield event.value
            return
        if not no_result:
            self._answers[id_] = None
        self._write(text)
        if no_result:
            return
        while self._answers.get(id_) is None:
            yield None
        result, errors = self._answers.pop(id_)  # type: ignore[misc]
        event.value.errors = errors
        event.value.value = result
        yield event.value
