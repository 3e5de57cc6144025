"""The hex view's stream: a device's traffic over /ws, only while a page watches it.

A page sends ``{"type": "watch", "device": NAME}`` on the dashboard's
WebSocket (``{"type": "unwatch"}`` or closing stops it; one device per
connection). It gets the device's ring at once, then what is added:

``{"type": "traffic", "device", "chunks": [[ts, "rx"|"tx", HEX, cut], ...],
"backlog": true|false, "skipped": N}``

Until a page watches, the device's :class:`gateway.traffic.TrafficRing`
has no listener and nothing here runs. While pages watch, new chunks are
gathered and sent as one message per device every ``flush_interval``
(bounded: past the ring's own byte bound the oldest pending chunks are
skipped and counted), so a byte-at-a-time device does not cost a frame
per byte. Each message goes through the dispatcher like any other, so a
page that does not read is dropped at ``max_send_buffer`` like any slow
WebSocket client.

The component also remembers every /ws connection's address and start
time: the device page lists them among the clients.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from circuits import BaseComponent, handler
from circuits.core.loop import TimerHandle
from circuits.net.events import write

from ..events import BUS
from ..traffic import Chunk
from .feed import WS_CHANNEL
from .snapshot import GatewayParts

__all__ = ["FLUSH_INTERVAL", "TrafficFeed"]

log = logging.getLogger(__name__)

#: Seconds between two traffic messages for a watched device.
FLUSH_INTERVAL = 0.05
#: Longest control message a page sends.
MAX_CONTROL = 512


def _encode(chunk: Chunk) -> list[Any]:
    return [round(chunk.ts, 3), chunk.direction, chunk.data.hex(), chunk.cut]


class TrafficFeed(BaseComponent):
    """Streams watched devices' traffic to their pages (see module doc)."""

    channel = BUS

    def __init__(self, parts: GatewayParts, *, flush_interval: float = FLUSH_INTERVAL) -> None:
        super().__init__(channel=BUS)
        self.parts = parts
        self.flush_interval = flush_interval
        #: Every /ws connection: sock -> (host, port, since, device watched or None).
        self.sockets: dict[Any, tuple[Any, Any, float, str | None]] = {}
        self._watchers: dict[str, set[Any]] = {}
        self._pending: dict[str, list[Chunk]] = {}
        self._pending_bytes: dict[str, int] = {}
        self._skipped: dict[str, int] = {}
        self._flush_handle: TimerHandle | None = None
        self.messages = 0
        self.bad_requests = 0

    # -- WebSocket connections ------------------------------------------------

    @handler("connect", channel=WS_CHANNEL)
    def _on_connect(self, sock: Any, host: Any = None, port: Any = None, *args: Any) -> None:
        self.sockets[sock] = (host, port, time.time(), None)

    @handler("disconnect", channel=WS_CHANNEL)
    def _on_disconnect(self, sock: Any) -> None:
        self._unwatch(sock)
        self.sockets.pop(sock, None)

    @handler("read", channel=WS_CHANNEL)
    def _on_message(self, sock: Any, message: str | bytes) -> None:
        if not isinstance(message, str) or len(message) > MAX_CONTROL or '"watch' not in message \
                and '"unwatch' not in message:
            return  # not for us (the dashboard sends nothing else today)
        try:
            request = json.loads(message)
            kind = request.get("type")
        except (ValueError, AttributeError):
            self.bad_requests += 1
            return
        if kind == "unwatch":
            self._unwatch(sock)
        elif kind == "watch":
            device = request.get("device")
            if not isinstance(device, str) or device not in self.parts.links:
                self.bad_requests += 1
                self._send(sock, {"type": "traffic_error", "error": f"no device named {device!r}"})
                return
            self._watch(sock, device)

    # -- watching -------------------------------------------------------------

    def _watch(self, sock: Any, device: str) -> None:
        self._unwatch(sock)
        if sock in self.sockets:
            host, port, since, _ = self.sockets[sock]
            self.sockets[sock] = (host, port, since, device)
        ring = self.parts.links[device].traffic  # type: ignore[attr-defined]
        watchers = self._watchers.setdefault(device, set())
        watchers.add(sock)
        if ring.listener is None:
            ring.listener = lambda chunk, device=device: self._collect(device, chunk)
        self._send(sock, {"type": "traffic", "device": device, "backlog": True, "skipped": 0,
                          "chunks": [_encode(c) for c in ring]})

    def _unwatch(self, sock: Any) -> None:
        entry = self.sockets.get(sock)
        device = entry[3] if entry is not None else None
        if device is None:
            return
        self.sockets[sock] = (*entry[:3], None)  # type: ignore[index]
        watchers = self._watchers.get(device)
        if watchers is not None:
            watchers.discard(sock)
            if not watchers:
                # Nobody watches: the ring records on, and nothing else runs.
                del self._watchers[device]
                self.parts.links[device].traffic.listener = None  # type: ignore[attr-defined]
                self._pending.pop(device, None)
                self._pending_bytes.pop(device, None)
                self._skipped.pop(device, None)

    # -- streaming ------------------------------------------------------------

    def _collect(self, device: str, chunk: Chunk) -> None:
        pending = self._pending.setdefault(device, [])
        pending.append(chunk)
        size = self._pending_bytes.get(device, 0) + len(chunk.data)
        ring = self.parts.links[device].traffic  # type: ignore[attr-defined]
        while size > ring.max_bytes and len(pending) > 1:
            size -= len(pending.pop(0).data)
            self._skipped[device] = self._skipped.get(device, 0) + 1
        self._pending_bytes[device] = size
        if self._flush_handle is None:
            self._flush_handle = self.loop.call_later(self.flush_interval, self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        pending, self._pending = self._pending, {}
        self._pending_bytes = {}
        for device, chunks in pending.items():
            body = {"type": "traffic", "device": device, "backlog": False,
                    "skipped": self._skipped.pop(device, 0), "chunks": [_encode(c) for c in chunks]}
            text = json.dumps(body)
            for sock in list(self._watchers.get(device, ())):
                self._send(sock, text)

    def _send(self, sock: Any, body: dict[str, Any] | str) -> None:
        self.messages += 1
        self.fire(write(sock, body if isinstance(body, str) else json.dumps(body)), WS_CHANNEL)

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self.stop()

    def stop(self) -> None:
        """Cancel the flush timer (the gateway or the dashboard stops)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None

    def statistics(self) -> dict[str, Any]:  # type: ignore[override]
        return {"watching": {d: len(s) for d, s in self._watchers.items()}, "messages": self.messages,
                "bad_requests": self.bad_requests}
