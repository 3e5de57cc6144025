"""The server side of RFC 2217 ("Telnet Com Port Control Option"), sans-I/O.

:class:`ComPortServer` is one client's session on an access server: bytes
from the client go to :meth:`receive_data`, which returns events --
:class:`Data` for the serial port, :class:`ComPortRequest` for a request the
application must apply to the port, :class:`FlowControl` when the client
suspends or resumes our output -- and queues the Telnet answers it can give
by itself (option negotiation, masks, SIGNATURE) for :meth:`data_to_send`.

The application applies each request to the real port and answers with
:meth:`reply` and the value the port *has* afterwards, which is what RFC 2217
asks ("the access server ... will reply with the actual value"): a client
asking for an impossible setting learns the truth.  Modem and line state
changes go out with :meth:`notify_modemstate` / :meth:`notify_linestate`,
which apply the client's masks and compute the delta bits.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from . import constants as C
from .codec import (
    DEFAULT_MAX_SUBNEGOTIATION,
    Command,
    Data,
    Negotiation,
    Subnegotiation,
    TelnetDecoder,
    escape,
    subnegotiation,
)
from .options import OptionTable, Q

__all__ = ["ComPortRequest", "ComPortServer", "FlowControl", "Ignored", "ServerEvent"]


@dataclass(frozen=True, slots=True)
class ComPortRequest:
    """A client request to apply: ``command`` is the client code
    (SET_BAUDRATE .. PURGE_DATA, or a NOTIFY_* poll), ``value`` its
    parameter (0 asks for the current value, RFC 2217)."""

    command: int
    value: int


@dataclass(frozen=True, slots=True)
class FlowControl:
    """FLOWCONTROL-SUSPEND (``suspended``) or -RESUME from the client."""

    suspended: bool


@dataclass(frozen=True, slots=True)
class Ignored:
    """Something well framed that we do not act on (logged by the caller)."""

    reason: str


ServerEvent = Data | ComPortRequest | FlowControl | Ignored

#: Requests passed to the application; the payload is one byte except baud.
_APPLIED = frozenset({C.SET_BAUDRATE, C.SET_DATASIZE, C.SET_PARITY, C.SET_STOPSIZE, C.SET_CONTROL,
                      C.PURGE_DATA, C.NOTIFY_LINESTATE, C.NOTIFY_MODEMSTATE})

#: Options we perform / let the client perform. ECHO and the rest are refused.
_LOCAL = frozenset({C.BINARY, C.SGA, C.COM_PORT_OPTION})
_REMOTE = frozenset({C.BINARY, C.SGA, C.COM_PORT_OPTION})


class ComPortServer:
    """One RFC 2217 client session (see module doc)."""

    def __init__(self, signature: str = "circuits", *,
                 max_subnegotiation: int = DEFAULT_MAX_SUBNEGOTIATION) -> None:
        self.signature = signature
        self.decoder = TelnetDecoder(max_subnegotiation)
        self.options = OptionTable(_LOCAL, _REMOTE)
        # RFC 2217 "SET-LINESTATE-MASK": initially 0; "SET-MODEMSTATE-MASK":
        # initially 255.
        self.linestate_mask = 0
        self.modemstate_mask = 0xFF
        self.suspended = False
        self.client_signature: str | None = None
        self._last_modem: int | None = None
        self._last_line = 0
        self._out = bytearray()
        self.commands_ignored = 0
        self._implied = False

    # -- opening ---------------------------------------------------------

    def start(self) -> bytes:
        """Our opening requests: binary both ways and the COM port option.

        pyserial (and most clients) ask too; RFC 1143 makes the crossing
        requests settle without an extra round.
        """
        out = bytearray()
        for option in (C.BINARY, C.COM_PORT_OPTION):
            out += self.options.request(option, local=True, enable=True)
            out += self.options.request(option, local=False, enable=True)
        out += self.options.request(C.SGA, local=True, enable=True)
        return bytes(out)

    @property
    def active(self) -> bool:
        """COM-PORT-OPTION is on (either side: clients differ in which they ask for)."""
        return (self._implied or self.options.enabled(C.COM_PORT_OPTION, local=False)
                or self.options.enabled(C.COM_PORT_OPTION, local=True))

    def _pending(self) -> bool:
        """Our request for COM-PORT-OPTION is unanswered on a side (not refused)."""
        return (self.options.state(C.COM_PORT_OPTION, local=True) is Q.WANTYES
                or self.options.state(C.COM_PORT_OPTION, local=False) is Q.WANTYES)

    # -- input -------------------------------------------------------------

    def only_data(self, data: bytes) -> bool:
        """True if :meth:`receive_data` would return just ``[Data(data)]``
        and queue nothing: the caller may send ``data`` to the port as is."""
        return self.decoder.only_data(data)

    def receive_data(self, data: bytes) -> list[ServerEvent]:
        """Decode ``data`` from the client. Raises only :class:`TelnetError`."""
        events: list[ServerEvent] = []
        for item in self.decoder.receive_data(data):
            if isinstance(item, Data):
                events.append(item)
            elif isinstance(item, Negotiation):
                reply, _change = self.options.receive(item.verb, item.option)
                self._out += reply
            elif isinstance(item, Subnegotiation):
                event = self._subnegotiation(item)
                if event is not None:
                    events.append(event)
            elif isinstance(item, Command):
                # NOP, AYT, BRK from a terminal: nothing to do on a COM port.
                self.commands_ignored += 1
        return events

    def _subnegotiation(self, sub: Subnegotiation) -> ServerEvent | None:
        if sub.option != C.COM_PORT_OPTION:
            return Ignored(f"subnegotiation of option {sub.option}")
        if not self.active:
            if not self._pending():
                return Ignored("COM-PORT-OPTION subnegotiation before the option was agreed")
            # pyserial's client has a race: its reader thread may take our
            # crossing WILL/DO for the answer to requests it has not sent
            # yet, and then never sends them.  A COM-PORT-OPTION command
            # while our own request is pending (not refused) is the client
            # using the option: take it as the answer.
            self._implied = True
        if not sub.payload:
            return Ignored("empty COM-PORT-OPTION subnegotiation")
        code, param = sub.payload[0], sub.payload[1:]
        if code == C.SIGNATURE:
            if param:
                self.client_signature = param.decode("utf-8", "replace")
                return None
            self._out += subnegotiation(C.COM_PORT_OPTION, bytes([C.SIGNATURE + C.SERVER_OFFSET])
                                        + self.signature.encode("utf-8"))
            return None
        if code == C.FLOWCONTROL_SUSPEND or code == C.FLOWCONTROL_RESUME:
            self.suspended = code == C.FLOWCONTROL_SUSPEND
            return FlowControl(self.suspended)
        if code == C.SET_LINESTATE_MASK or code == C.SET_MODEMSTATE_MASK:
            if len(param) != 1:
                return Ignored(f"COM-PORT-OPTION {code} with {len(param)} parameter bytes")
            if code == C.SET_LINESTATE_MASK:
                self.linestate_mask = param[0]
            else:
                self.modemstate_mask = param[0]
            self._out += subnegotiation(C.COM_PORT_OPTION, bytes([code + C.SERVER_OFFSET, param[0]]))
            return None
        if code not in _APPLIED:
            return Ignored(f"unknown COM-PORT-OPTION command {code}")
        if code in (C.NOTIFY_LINESTATE, C.NOTIFY_MODEMSTATE):
            # RFC 2217 defines these server -> client only; pyserial sends
            # them as a poll, so they are answered as one.
            return ComPortRequest(code, 0)
        want = 4 if code == C.SET_BAUDRATE else 1
        if len(param) != want:
            return Ignored(f"COM-PORT-OPTION {code} with {len(param)} parameter bytes, not {want}")
        value = struct.unpack("!I", param)[0] if want == 4 else param[0]
        return ComPortRequest(code, value)

    # -- output --------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Telnet answers queued by :meth:`receive_data` (and cleared)."""
        out = bytes(self._out)
        self._out.clear()
        return out

    @staticmethod
    def send_data(data: bytes) -> bytes:
        """Serial data for the client, IAC-escaped."""
        return escape(data)

    def reply(self, command: int, value: int) -> bytes:
        """The answer to a SET-* or PURGE-DATA request: ``value`` is the
        setting the port really has now (for PURGE-DATA: what was purged)."""
        if command == C.NOTIFY_MODEMSTATE:
            return self.notify_modemstate(value, force=True)
        if command == C.NOTIFY_LINESTATE:
            return self.notify_linestate(value, force=True)
        if command == C.SET_BAUDRATE:
            param = struct.pack("!I", value & 0xFFFFFFFF)
        else:
            param = bytes([value & 0xFF])
        return subnegotiation(C.COM_PORT_OPTION, bytes([command + C.SERVER_OFFSET]) + param)

    def notify_modemstate(self, state: int, *, force: bool = False) -> bytes:
        """NOTIFY-MODEMSTATE for ``state`` (the CD/RI/DSR/CTS bits): the
        delta bits are computed against the last report, the client's mask
        applied; nothing when no masked bit changed (unless ``force``)."""
        state &= 0xF0
        last = self._last_modem if self._last_modem is not None else state
        changed = state ^ last
        deltas = 0
        if changed & C.MODEM_CD:
            deltas |= C.MODEM_DELTA_CD
        if changed & C.MODEM_DSR:
            deltas |= C.MODEM_DELTA_DSR
        if changed & C.MODEM_CTS:
            deltas |= C.MODEM_DELTA_CTS
        if last & C.MODEM_RI and not state & C.MODEM_RI:
            deltas |= C.MODEM_TRAILING_RI
        first = self._last_modem is None
        self._last_modem = state
        value = (state | deltas) & self.modemstate_mask
        if not force and not (first and value) and not (changed & self.modemstate_mask or deltas & self.modemstate_mask):
            return b""
        return subnegotiation(C.COM_PORT_OPTION, bytes([C.NOTIFY_MODEMSTATE + C.SERVER_OFFSET, value]))

    def notify_linestate(self, state: int, *, force: bool = False) -> bytes:
        """NOTIFY-LINESTATE: sent when a masked bit changed (or ``force``)."""
        changed = (state ^ self._last_line) & self.linestate_mask
        self._last_line = state
        if not force and not changed:
            return b""
        return subnegotiation(C.COM_PORT_OPTION, bytes([C.NOTIFY_LINESTATE + C.SERVER_OFFSET,
                                                        state & self.linestate_mask]))

    @property
    def wants_modemstate(self) -> bool:
        return self.active and self.modemstate_mask != 0

    @property
    def wants_linestate(self) -> bool:
        return self.active and self.linestate_mask != 0

    def statistics(self) -> dict[str, object]:
        return {"active": self.active, "linestate_mask": self.linestate_mask,
                "modemstate_mask": self.modemstate_mask, "suspended": self.suspended,
                "client_signature": self.client_signature,
                "protocol_errors": self.options.protocol_errors}




