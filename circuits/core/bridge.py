"""Bridge: carry events between two processes of one application.

Each side has a Bridge on one end of a socketpair. Events fired on a side
(except the lifecycle ones and follow-up events) are sent to the other side
and fired there; the other side's result comes back and is set as the
event's value. The event is not done until then, so ``yield self.call(e)``
gives the remote result. The
pipe connects two processes of the *same* program forked from each other,
so pickle is acceptable here; nothing from a network ever reaches it (see
circuits.node for that, which uses JSON).

pickle is imported where a message is packed or unpacked, not with the
module: every program imports circuits.core, few ever bridge a process,
and pickle costs ~0.4 MB of memory for as long as they run (issue 15).
"""

from __future__ import annotations

import socket
import struct
import traceback
from collections.abc import Generator
from types import TracebackType
from typing import Any

from .components import BaseComponent
from .events import Event
from .handlers import handler
from .manager import Manager
from .tasks import Suspension

_HEADER = struct.Struct("!I")
#: Events that belong to one process only.
LOCAL_EVENTS = frozenset({
    "registered", "unregistered", "prepare_unregister", "prepare_unregister_complete",
    "started", "stopped", "signal", "generate_events", "exception", "value_changed",
    "ready", "ipc",
})


class ipc(Event):
    """Send ``event`` to the other process (to ``channel`` there, or its own
    channels): the ipc event's value becomes the remote result."""

    def __init__(self, event: Event, channel: Any = None) -> None:
        super().__init__(event, channel=channel)


class ready(Event):
    """A Bridge is set up: args (bridge,)."""


class Bridge(BaseComponent):
    """One side of a two-process event bridge over a stream socket."""

    channel = "bridge"
    ignore = LOCAL_EVENTS

    def __init__(self, sock: socket.socket, channel: Any = channel, stop_on_close: bool = False) -> None:
        super().__init__(channel=channel)
        #: Stop this side's application when the other side goes away (a
        #: forked child must not outlive the parent it serves).
        self.stop_on_close = stop_on_close
        self._sock = sock
        self._sock.setblocking(False)
        self._inbuf = bytearray()
        self._outbuf = bytearray()
        self._pending: dict[int, _Reply] = {}
        self._seq = 0
        self._closed = False
        self.loop.add_reader(self._sock, self._on_readable)

    def _root_changed(self, old: Manager, new: Manager) -> None:
        if self._closed:
            return
        old_loop = old._circuits_loop  # not ``old.loop``: old.root may already be ``new``
        writing = old_loop is not None and old_loop.is_writing(self._sock)
        if old_loop is not None:
            old_loop.discard(self._sock)
        new.loop.add_reader(self._sock, self._on_readable)
        if writing:
            new.loop.add_writer(self._sock, self._on_writable)

    @handler("registered", channel="*")
    def _on_registered(self, component: Any, manager: Any) -> None:
        if component is self:
            self.fire(ready(self))

    @handler("ipc", channel="*")
    def _on_ipc(self, event: Event, inner: Event, channel: Any = None) -> Generator[Any, Any, Any] | None:
        channels = (channel,) if channel is not None else (inner.channels or ("*",))
        return self._forward(inner, channels, event)

    @handler(channel="*", priority=200)
    def _on_any(self, event: Event, *args: Any, **kwargs: Any) -> Generator[Any, Any, Any] | None:
        if (self._closed or event.name in self.ignore or getattr(event, "_bridged", False)
                or event.parent is not None or event.name.endswith("_value_changed")):
            return None  # local, came from the other side, or a follow-up both sides make
        return self._forward(event, event.channels, event)

    def _forward(self, event: Event, channels: tuple[Any, ...], handled: Event) -> Generator[Any, Any, Any] | None:
        """Send ``event`` to the other side; the generator (a handler of the
        local event ``handled``) ends with the other side's result."""
        if self._closed:
            return None
        self._seq += 1
        channels = tuple(c for c in channels if isinstance(c, str))
        message = ("event", self._seq, event.name, type(event), event.args, event.kwargs, channels)
        if not self._send(message) or self._closed:  # unpicklable, or the send found the peer gone
            return None
        reply = self._pending[self._seq] = _Reply()
        return self._await_reply(handled, reply)

    @staticmethod
    def _await_reply(event: Event, reply: _Reply) -> Generator[Any, Any, Any]:
        """The event's part that is handled on the other side: done when it answers."""
        result, errors = yield reply
        if errors:
            event.value.errors = True
        return result

    def _send(self, message: Any) -> bool:
        import pickle

        try:
            payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an unpicklable event stays local
            return False
        self._outbuf += _HEADER.pack(len(payload)) + payload
        self._on_writable()
        return True

    def _on_writable(self) -> None:
        if self._outbuf:
            try:
                sent = self._sock.send(self._outbuf)
            except BlockingIOError:
                sent = 0
            except OSError:
                self._close()
                return
            del self._outbuf[:sent]
        if self._outbuf:
            self.loop.add_writer(self._sock, self._on_writable)
        else:
            self.loop.remove_writer(self._sock)

    def _on_readable(self) -> None:
        try:
            data = self._sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close()
            return
        self._inbuf += data
        while len(self._inbuf) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._inbuf)
            if len(self._inbuf) < _HEADER.size + size:
                break
            import pickle

            payload = bytes(self._inbuf[_HEADER.size:_HEADER.size + size])
            del self._inbuf[:_HEADER.size + size]
            self._receive(pickle.loads(payload))  # noqa: S301 - our own forked process

    def _receive(self, message: Any) -> None:
        kind = message[0]
        if kind == "event":
            _, seq, name, cls, args, kwargs, channels = message
            event = cls(*args, **kwargs) if issubclass(cls, Event) else Event.create(name, *args, **kwargs)
            event._bridged = True
            value = self.fire(event, *(channels or ("*",)))
            value.notify = False
            event.add_waiter(_ReplyWhenDone(self, seq))
        elif kind == "value":
            _, seq, result, errors = message
            reply = self._pending.pop(seq, None)
            if reply is not None:
                reply.resume((result, errors))

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self.loop.discard(self._sock)
            self._sock.close()
            # Nothing will answer now: the waiting events end with an error.
            pending, self._pending = self._pending, {}
            for reply in pending.values():
                reply.resume((ConnectionError("the bridge closed before the other side answered"), True))
            if self.stop_on_close:
                self.stop()


class _Reply(Suspension):
    """What ``_await_reply`` waits on: resumed with (result, errors)."""


class _ReplyWhenDone:
    def __init__(self, bridge: Bridge, seq: int) -> None:
        self.bridge = bridge
        self.seq = seq

    def done(self, value: Any) -> None:
        result = value.getValue()
        if value.errors and isinstance(result, tuple) and len(result) == 3 and isinstance(result[2], TracebackType):
            result = (result[0], result[1], traceback.format_tb(result[2]))  # frames do not pickle
        import pickle

        try:
            pickle.dumps(result)
        except Exception:  # noqa: BLE001
            result = repr(result)
        self.bridge._send(("value", self.seq, result, value.errors))


def link_process(manager: Manager, link: Manager, context: Any) -> Any:
    """Fork a process running ``manager``, bridged to ``link`` in this process."""
    here, there = socket.socketpair()

    def child() -> None:
        here.close()
        Bridge(there, stop_on_close=True).register(manager)
        manager._circuits_run_quietly()

    process = context.Process(target=child, name=manager.name, daemon=True)
    process.start()
    there.close()
    bridge = Bridge(here).register(link)
    return process, bridge
