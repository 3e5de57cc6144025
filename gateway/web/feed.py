"""The live side of the dashboard: readings, statuses and counters to /ws.

Each reading is serialised to JSON once (the reading carries it): that
text goes into the history (for ``/api/readings``) and, prefixed with
``"type":"reading"``, to every WebSocket client. The messages of one loop
pass are gathered and sent when the pass's events are done, with one
``broadcast_many``: each client gets one write per pass, not one per
reading (at thousands of readings/s and ten clients that per-client,
per-reading cost was most of the loop's time). Status and counters
messages go through the same queue, so a client sees everything in the
order it happened. A client that cannot keep up is dropped by the
dispatcher (``max_send_buffer``); the others, and the devices, never wait
for it.

Messages (JSON text frames):

* ``{"type": "reading", "device", "seq", "ts", "fields"}`` per reading;
* ``{"type": "status", "device", "online", "detail"}`` when a device comes or goes;
* ``{"type": "counters", "device", "counters": {readings, parse_errors,
  tcp_clients}}`` when they changed, at most once per ``counters_interval``
  (and at once when a TCP client comes or goes).

A new client gets the status and counters of every device first, so a page
never shows a stale state.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from circuits import BaseComponent, handler
from circuits.core.loop import TimerHandle
from circuits.net.events import write
from devices import Reading

from ..events import BUS
from ..history import History
from ..readings import reading_json
from .snapshot import Counters, GatewayParts, counters_of
from .thresholds import ThresholdCounter

__all__ = ["WS_CHANNEL", "LiveFeed", "reading_json"]

log = logging.getLogger(__name__)

#: The channel the WebSocket dispatcher fires connect/disconnect on (and takes write on).
WS_CHANNEL = "dashboard.ws"
#: Seconds between two history transactions.
HISTORY_COMMIT = 0.25
#: Seconds between two counters messages for a device (when they changed).
COUNTERS_INTERVAL = 1.0


def as_message(kind: str, body: str) -> str:
    """``body`` (a JSON object's text) with ``"type": kind`` put first."""
    inner = body[1:-1]
    return f'{{"type":"{kind}"{"," if inner else ""}{inner}}}'


#: What a reading's JSON bytes (``{"device":...``) become on /ws: the same
#: object with ``"type":"reading"`` first (see :func:`as_message`).
_READING_PREFIX = b'{"type":"reading",'


class LiveFeed(BaseComponent):
    """Feeds the history and the WebSocket clients (see module doc)."""

    channel = BUS

    def __init__(self, parts: GatewayParts, ws: Any, history: History | None, *,
                 counters_interval: float = COUNTERS_INTERVAL, thresholds: ThresholdCounter | None = None) -> None:
        super().__init__(channel=BUS)
        self.thresholds = thresholds
        self.parts = parts
        self.ws = ws
        self.history = history
        self.counters_interval = counters_interval
        self.clients = 0
        self._sent: dict[str, Counters] = {}
        self._commit_handle: TimerHandle | None = None
        self._tick_handle: TimerHandle | None = None
        self.readings = 0
        self.unserialisable = 0
        #: Messages of this pass not sent yet (see module doc).
        self._pending: list[str | bytes] = []
        self.sends = 0  # broadcast_many calls: passes that had something to send

    # -- gateway events ----------------------------------------------------
    @handler("reading")
    def _on_reading(self, reading: Mapping[str, Any]) -> None:
        try:
            body = reading_json(reading)
            device = str(reading["device"])
            if self.clients:
                # The bytes the reading carries (made once for every sink);
                # a plain dict from a test or a plugin is encoded here.
                data = reading.data() if isinstance(reading, Reading) else body.encode("utf-8")
        except (KeyError, TypeError, ValueError) as exc:
            self.unserialisable += 1
            log.warning("dashboard: reading not serialisable (%s): %r", exc, reading)
            return
        self.readings += 1
        if self.thresholds is not None:
            self.thresholds.check(device, reading.get("fields") or {})
        if self.history is not None:
            self.history.append(device, body)
            if self._commit_handle is None:
                # One transaction per HISTORY_COMMIT seconds, however many
                # readings came: the history is a convenience, not worth a
                # WAL write per loop pass at thousands of readings/s (and a
                # query commits what is pending first, so none is missing).
                self._commit_handle = self.loop.call_later(HISTORY_COMMIT, self._commit)
        if self.clients:
            self._queue(_READING_PREFIX + data[1:])  # data has a "device" key: never b"{}"

    @handler("device_status")
    def _on_device_status(self, device: str, status: str, detail: str = "") -> None:
        if self.clients:
            self._queue(self._status_message(device, status == "online", detail))

    @handler("client_connected", "client_disconnected")
    def _on_tcp_client(self, device: str, *args: Any) -> None:
        if self.clients and device in self.parts.links:
            self._send_counters(device, force=True)

    @handler("rfc2217_state")
    def _on_rfc2217_state(self, device: str, summary: dict[str, Any]) -> None:
        # An RFC 2217 client came, left or changed the line settings.
        if self.clients:
            self._queue(json.dumps({"type": "rfc2217", "device": device, "rfc2217": summary}))

    # -- one write per client per pass ---------------------------------------
    def _queue(self, message: str | bytes) -> None:
        if not self._pending:
            # Run once the events of this pass are dispatched, like the
            # transports' own coalesced writes.
            self.loop.defer_flush(self._send_pending)
        self._pending.append(message)

    def _send_pending(self) -> None:
        pending, self._pending = self._pending, []
        if pending and self.clients:
            self.sends += 1
            self.ws.broadcast_many(pending, text=True)

    # -- WebSocket clients -------------------------------------------------
    @handler("connect", channel=WS_CHANNEL)
    def _on_ws_connect(self, sock: Any, *address: Any) -> None:
        self.clients += 1
        for name, link in self.parts.links.items():
            self.fire(write(sock, self._status_message(name, link.online, getattr(link, "detail", ""))),
                      WS_CHANNEL)
            self.fire(write(sock, self._counters_message(name, counters_of(self.parts, name))), WS_CHANNEL)
        if self._tick_handle is None:
            self._tick_handle = self.loop.call_later(self.counters_interval, self._tick)

    @handler("disconnect", channel=WS_CHANNEL)
    def _on_ws_disconnect(self, sock: Any) -> None:
        self.clients = max(0, self.clients - 1)

    # -- counters ----------------------------------------------------------
    def _tick(self) -> None:
        self._tick_handle = None
        if not self.clients:
            return  # re-armed by the next connect
        for name in self.parts.links:
            self._send_counters(name)
        self._tick_handle = self.loop.call_later(self.counters_interval, self._tick)

    def _send_counters(self, name: str, force: bool = False) -> None:
        counters = counters_of(self.parts, name)
        if not force and self._sent.get(name) == counters:
            return
        self._sent[name] = counters
        self._queue(self._counters_message(name, counters))

    @staticmethod
    def _counters_message(name: str, counters: Counters) -> str:
        return json.dumps({"type": "counters", "device": name, "counters": counters.as_dict()})

    @staticmethod
    def _status_message(name: str, online: bool, detail: str) -> str:
        return json.dumps({"type": "status", "device": name, "online": online, "detail": detail})

    # -- history -----------------------------------------------------------
    def _commit(self) -> None:
        self._commit_handle = None
        if self.history is not None:
            self.history.flush()  # on the disk writer thread when the gateway gave one

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self.stop()

    def stop(self) -> None:
        """Cancel the timers and flush the history (the gateway or the dashboard stops)."""
        for handle in (self._commit_handle, self._tick_handle):
            if handle is not None:
                handle.cancel()
        self._commit_handle = self._tick_handle = None
        if self.history is not None:
            # The last rows: now, or (on the writer thread) before the
            # owner's close() closes the file.
            self.history.flush()

    def statistics(self) -> dict[str, Any]:  # type: ignore[override]
        return {"clients": self.clients, "readings": self.readings, "unserialisable": self.unserialisable,
                "sends": self.sends}
