"""One device's RFC 2217 listener: remote programs use the port as a local COM port.

A :class:`Rfc2217Bridge` is a :class:`gateway.bridge.TcpBridge` (the same
client accounting, ``max_clients``, per-client bounded buffers and
slow-client drop) whose clients speak Telnet with COM-PORT-OPTION: each has
its own :class:`ComPortServer` session, device bytes go to them IAC-escaped
(escaped once per read, however many clients there are), their data goes
to the device, and their requests go to the device's :class:`PortControl`.
Raw ``tcp`` clients, the parsers, the dashboard and MQTT see the same port
at the same time.

A client that breaks the Telnet framing (a subnegotiation past the limit)
is closed with a log line; nothing else ends a session.  FLOWCONTROL-SUSPEND
holds that client's data, bounded by ``client_buffer`` like any other
client's queue.  Modem and line state are polled every ``POLL_INTERVAL``
while a client's mask asks for them, and only where the port has them (a
pty has neither, so no timer runs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from circuits import Event, handler
from circuits.core.loop import TimerHandle
from circuits.net.sockets import TCP6Server
from circuits.protocols.telnet import ComPortRequest, ComPortServer, Data, FlowControl, Ignored, TelnetError
from circuits.protocols.telnet.codec import escape

from ..bridge import BridgeServer, TcpBridge
from ..config import Address, DeviceConfig
from ..device import DeviceLink
from ..events import BUS, part_ready
from .control import PortControl

__all__ = ["POLL_INTERVAL", "Rfc2217Bridge", "rfc2217_channel", "rfc2217_part"]

log = logging.getLogger(__name__)

#: Seconds between modem/line state polls while a client asked for them.
POLL_INTERVAL = 0.1
#: RFC 2217 SIGNATURE: who we are, then the device's name.
SIGNATURE = "circuits-gateway"


def rfc2217_channel(name: str) -> str:
    return f"rfc2217.{name}"


def rfc2217_part(name: str) -> str:
    """The readiness part of a device's RFC 2217 listener."""
    return f"rfc2217:{name}"


class rfc2217_state(Event):
    """On the bus: a device's RFC 2217 clients or line settings changed: args (device, summary)."""


class Rfc2217Server(BridgeServer):
    """The listener: client bytes go to the bridge's Telnet sessions
    (BridgeServer's ``read`` calls ``bridge.client_data``, which
    :class:`Rfc2217Bridge` overrides; a second ``read`` handler here would
    run as well and deliver every byte twice)."""


class Rfc2217Server6(Rfc2217Server):
    socket_family = TCP6Server.socket_family


@dataclass(slots=True)
class Session:
    peer: str
    telnet: ComPortServer
    #: Escaped device data held while the client suspended our output.
    held: bytearray | None = None
    ignored: int = field(default=0)


class Rfc2217Bridge(TcpBridge):
    """One device's RFC 2217 listener and its clients (see module doc)."""

    kind = "RFC 2217"
    scheme = "rfc2217"

    def __init__(self, device: DeviceConfig, link: DeviceLink) -> None:
        assert device.rfc2217 is not None
        super().__init__(device, link, device.rfc2217, channel=rfc2217_channel(device.name))
        self.sessions: dict[Any, Session] = {}
        self.control = PortControl(device, link.serial)
        # The journal lines about requests are written after the answers left.
        self.control.hold_notes = True
        self._after_writes = False
        self.client_buffer = device.client_buffer
        self.protocol_errors = 0
        self._poll: TimerHandle | None = None
        self._announce = False

    @staticmethod
    def server_classes() -> tuple[type[BridgeServer], type[BridgeServer]]:
        return Rfc2217Server, Rfc2217Server6

    # -- device -> every client --------------------------------------------

    def device_data(self, data: bytes) -> None:
        # Called by the DeviceLink for each chunk read (see TcpBridge.device_data).
        if not self.sessions:
            return
        wire = escape(data)
        write = self.server.write
        for sock, session in list(self.sessions.items()):
            if session.held is None:
                write(sock, wire)
            elif len(session.held) + len(wire) <= self.client_buffer:
                session.held += wire
            else:
                self.dropped_slow += 1
                self._drop_reason[sock] = "too slow"
                log.warning("%s: dropping RFC 2217 client %s: it suspended our output and %d bytes are held",
                            self.device, session.peer, len(session.held))
                session.held = None
                self.server.close(sock)

    @handler("opened")
    def _on_port_opened(self, port: str, baudrate: int) -> None:
        self.control.reopened()
        self._arm_poll()
        self._later()

    # -- clients -------------------------------------------------------------

    def client_connected(self, sock: Any, host: Any, port: Any) -> None:
        super().client_connected(sock, host, port)
        if sock not in self.clients:
            return  # refused (max_clients)
        telnet = ComPortServer(f"{SIGNATURE} {self.device}")
        session = self.sessions[sock] = Session(str(Address(str(host), int(port or 0))), telnet)
        self._announce_state()
        self.server.write(sock, session.telnet.start())

    def client_data(self, sock: Any, data: bytes) -> None:
        session = self.sessions.get(sock)
        if session is None:
            return
        telnet = session.telnet
        if telnet.only_data(data):
            # Serial data only (no IAC: nothing to answer, no request, no
            # state change): the round-trip hot path goes straight to the port.
            self.to_device(data)
            return
        was_active = telnet.active
        version = self.control.version
        try:
            events = telnet.receive_data(data)
        except TelnetError as exc:
            self.protocol_errors += 1
            self._drop_reason[sock] = "protocol error"
            log.warning("%s: closing RFC 2217 client %s: %s", self.device, session.peer, exc)
            self.sessions.pop(sock, None)
            self.server.close(sock)
            return
        out = bytearray(telnet.data_to_send())
        to_device = bytearray()
        for event in events:
            if isinstance(event, Data):
                to_device += event.data
            elif isinstance(event, ComPortRequest):
                if to_device:
                    # Data sent before a request reaches the port before it
                    # is applied (the kernel may still hold some of it when
                    # a baud change lands, as with any TCSANOW change).
                    self.to_device(bytes(to_device))
                    to_device.clear()
                out += self._answer(telnet, event, session.peer)
            elif isinstance(event, FlowControl):
                self._flow(sock, session, event.suspended)
            elif isinstance(event, Ignored):
                session.ignored += 1
                log.debug("%s: RFC 2217 client %s: ignored %s", self.device, session.peer, event.reason)
        if to_device:
            self.to_device(bytes(to_device))
        if telnet.active and not was_active:
            # The first NOTIFY-MODEMSTATE, so a client knows the lines from
            # the start (0 on a pty: it has none).
            out += telnet.notify_modemstate(self.control.modem_state(), force=True)
        if out:
            self.server.write(sock, bytes(out))
        self._arm_poll()
        if self.control.version != version:
            self._announce_state()
        else:
            self._later()  # a refusal's journal line

    def _answer(self, telnet: ComPortServer, request: ComPortRequest, peer: str) -> bytes:
        try:
            value = self.control.handle(request.command, request.value, peer)
        except Exception:
            # A bug here must not leave the client waiting for an answer
            # forever, nor stop the other requests of this read.
            log.exception("%s: RFC 2217 client %s: request %d (%d) failed", self.device, peer,
                          request.command, request.value)
            return b""
        return telnet.reply(request.command, value)

    def _flow(self, sock: Any, session: Session, suspended: bool) -> None:
        if suspended:
            if session.held is None:
                session.held = bytearray()
            return
        held, session.held = session.held, None
        if held:
            self.server.write(sock, bytes(held))

    def client_gone(self, sock: Any) -> None:
        super().client_gone(sock)
        peer_known = self.sessions.pop(sock, None) is not None
        if not self.clients:
            self._cancel_poll()
            if self.device_config.rfc2217_revert:
                self.control.revert()
        if peer_known:
            self._announce_state()
        else:
            self._later()

    def _announce_state(self) -> None:
        self._announce = True
        self._later()

    def _later(self) -> None:
        """Announce the state and write the journal lines once this pass's
        writes (the answers to the requests) have left: the summary (three
        termios reads, two getsockname), its event's handlers (the dashboard
        feed) and the log lines are not on the client's round trip; several
        changes in one pass are announced once."""
        if not self._after_writes and (self._announce or self.control.notes_held):
            self._after_writes = True
            # Queued after the answers' own flushes, so it runs after them.
            self.loop.defer_flush(self._after_answers)

    def _after_answers(self) -> None:
        self._after_writes = False
        self.control.flush_notes()
        if self._announce:
            self._announce = False
            self.fire(rfc2217_state(self.device, self.summary()), BUS)

    @property
    def device_config(self) -> DeviceConfig:
        return self.control.config

    # -- modem and line state ---------------------------------------------------

    def stop(self) -> None:
        super().stop()
        self._cancel_poll()

    def _arm_poll(self) -> None:
        if self._poll is not None or not self.sessions:
            return
        if not self.control.pollable:
            return  # a pty: no lines, no counters, nothing to poll
        if not any(s.telnet.wants_modemstate or s.telnet.wants_linestate for s in self.sessions.values()):
            return
        self._poll = self.loop.call_later(POLL_INTERVAL, self._poll_now)

    def _cancel_poll(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None

    def _poll_now(self) -> None:
        self._poll = None
        if not self.sessions:
            return
        modem = self.control.modem_state()
        wants_line = any(s.telnet.wants_linestate for s in self.sessions.values())
        line = self.control.line_state() if wants_line else 0
        for sock, session in self.sessions.items():
            out = session.telnet.notify_modemstate(modem) if session.telnet.wants_modemstate else b""
            if session.telnet.wants_linestate:
                out += session.telnet.notify_linestate(line)
            if out:
                self.server.write(sock, out)
        self._arm_poll()

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self._cancel_poll()
            self.control.flush_notes()  # the loop will not pass again

    # -- reporting ------------------------------------------------------------------

    def announce(self) -> None:
        host, port = self.address
        log.info("%s: listening on rfc2217://%s (settings: %s)", self.device, Address(host, port or 0),
                 self.control.policy)
        self.fire(part_ready(rfc2217_part(self.device)), BUS)

    def summary(self) -> dict[str, Any]:
        """What ``/api/devices`` shows: the listener, its clients, the line settings now."""
        host, port = self.address
        return {"listen": str(Address(str(host), int(port or 0))), "policy": self.control.policy,
                "clients": [s.peer for s in self.sessions.values()],
                "settings": self.control.settings().as_dict(), "changes": self.control.changes,
                "refused": self.control.refused}

    def statistics(self) -> dict[str, Any]:
        stats = super().statistics()
        stats.update(self.control.statistics())
        stats["protocol_errors"] = self.protocol_errors
        stats["sessions"] = {s.peer: s.telnet.statistics() for s in self.sessions.values()}
        return stats
