"""RFC 2217 requests applied to the real port, answered with what it has after.

:class:`PortControl` is shared by every RFC 2217 client of one device.  A
request goes through the device's policy (``rfc2217_settings``), is applied
with pyserial on the loop (termios and ioctl calls: none of them blocks),
and the answer is read back from the kernel (:mod:`.port`), so a client
that asks for something the port cannot do learns what it got instead.

What a pty cannot do is answered, never fatal: it has no modem lines, so
DTR, RTS and BREAK are kept as a virtual state that is echoed (pyserial's
client in strict mode waits for that echo), and the modem state is 0.

Policies (line settings are baud rate, data bits, parity, stop bits and
flow control; DTR, RTS, BREAK and purges are always allowed, a client
resetting a board through DTR/RTS is the common case):

* ``allow``: every change is applied;
* ``lock``: no change is applied; each is answered with the setting the
  port has, which is the configured one;
* ``limits``: baud rates from ``rfc2217_baudrates`` only.

Every applied change is logged with the client's address and counted (the
bridge sets :attr:`PortControl.hold_notes` and writes the lines once the
answer has left: formatting and writing one took a quarter of a baud
change's round trip); once
a client changed something, :meth:`revert` puts the configured settings back
(the bridge calls it when the last RFC 2217 client leaves).
"""

from __future__ import annotations

import logging
import termios
from typing import Any

import serial as pyserial

from circuits.io.serial import Serial
from circuits.protocols.telnet import constants as C

from ..config import DeviceConfig
from .port import LineErrors, LineSettings, modem_lines, modem_state, read_settings

__all__ = ["PortControl"]

log = logging.getLogger(__name__)

#: RFC 2217 SET-PARITY / SET-STOPSIZE codes <-> pyserial values.
PARITY_CODES = {"N": C.PARITY_NONE, "O": C.PARITY_ODD, "E": C.PARITY_EVEN, "M": C.PARITY_MARK,
                "S": C.PARITY_SPACE}
PARITY_OF = {code: name for name, code in PARITY_CODES.items()}
STOP_CODES = {1: C.STOPSIZE_1, 2: C.STOPSIZE_2, 1.5: C.STOPSIZE_1_5}
STOP_OF = {code: bits for bits, code in STOP_CODES.items()}

#: SET-* command -> the pyserial attribute it sets.
_SETTING = {C.SET_BAUDRATE: "baudrate", C.SET_DATASIZE: "bytesize", C.SET_PARITY: "parity",
            C.SET_STOPSIZE: "stopbits"}
#: What pyserial raises when the port refuses a setting (termios.error is
#: not an OSError: a Linux pty answers EINVAL to 7 data bits or parity;
#: a baud rate past 2**31 is an OverflowError).
_APPLY_ERRORS = (ValueError, OverflowError, OSError, termios.error, pyserial.SerialException)


class PortControl:
    """Applies one device's RFC 2217 requests (see module doc)."""

    def __init__(self, device: DeviceConfig, serial: Serial) -> None:
        self.device = device.name
        self.config = device
        self.serial = serial
        self.policy = device.rfc2217_settings
        self.baudrates = frozenset(device.rfc2217_baudrates)
        #: Settings a client set that differ from the configuration (for
        #: a reopen of the port, and to know whether to revert).
        self.wanted: dict[str, Any] = {}
        # Virtual lines, echoed where the port has none (a pty).
        self.dtr = True
        self.rts = True
        self.brk = False
        self.lines_changed = False
        self.line_errors = LineErrors()
        self.changes = 0
        #: Grows with every applied change and revert (the dashboard's cue).
        self.version = 0
        self.refused = 0
        self.reverts = 0
        self._warned_lines = False
        self._pollable: tuple[int, bool] | None = None
        #: Keep the info lines about requests until flush_notes() (see module doc).
        self.hold_notes = False
        self._notes: list[tuple[str, tuple[Any, ...]]] = []

    # -- what the port has -----------------------------------------------

    @property
    def fd(self) -> int | None:
        port = self.serial.device
        return port.fileno() if port is not None else None

    def settings(self) -> LineSettings:
        """The port's settings now; the configured ones while it is closed."""
        fd = self.fd
        if fd is not None:
            try:
                return read_settings(fd)
            except (OSError, termios.error) as exc:
                log.debug("%s: cannot read the line settings: %s", self.device, exc)
        cfg = self.config
        want = {"baudrate": cfg.baudrate, "bytesize": cfg.bytesize, "parity": cfg.parity,
                "stopbits": cfg.stopbits, "xonxoff": cfg.xonxoff, "rtscts": cfg.rtscts} | self.wanted
        return LineSettings(**want)

    def modem_state(self) -> int:
        """The CD/RI/DSR/CTS nibble of NOTIFY-MODEMSTATE (0 where there are no lines)."""
        fd = self.fd
        return modem_state(modem_lines(fd)) if fd is not None else 0

    def line_state(self) -> int:
        fd = self.fd
        state = self.line_errors.poll(fd) if fd is not None else None
        return state or 0

    @property
    def pollable(self) -> bool:
        """The port has modem lines or error counters worth polling (a pty has neither).

        Probed once per open of the port: the bridge asks after every read
        from a client.
        """
        fd = self.fd
        if fd is None:
            self._pollable = None
            return False
        if self._pollable is None or self._pollable[0] != fd:
            self._pollable = (fd, modem_lines(fd) is not None or LineErrors().poll(fd) is not None)
        return self._pollable[1]

    # -- the journal -----------------------------------------------------------

    def _note(self, message: str, *args: Any) -> None:
        """An info line about a client's request, written after its answer."""
        if self.hold_notes:
            self._notes.append((message, args))
        else:
            log.info(message, *args)

    @property
    def notes_held(self) -> bool:
        return bool(self._notes)

    def flush_notes(self) -> None:
        """Write the lines :meth:`_note` held back, in order."""
        notes, self._notes = self._notes, []
        for message, args in notes:
            log.info(message, *args)

    # -- requests ----------------------------------------------------------

    def handle(self, command: int, value: int, client: str) -> int:
        """Apply one request for ``client`` ("host:port"); the value to answer with."""
        if command in _SETTING:
            return self._setting(command, value, client)
        if command == C.SET_CONTROL:
            return self._control(value, client)
        if command == C.PURGE_DATA:
            return self._purge(value, client)
        if command == C.NOTIFY_MODEMSTATE:
            return self.modem_state()
        if command == C.NOTIFY_LINESTATE:
            return self.line_state()
        return 0

    def _setting(self, command: int, value: int, client: str) -> int:
        attr = _SETTING[command]
        wanted: Any = None
        now: LineSettings | None = None
        if value != 0:  # 0 asks for the current value (RFC 2217)
            if command == C.SET_PARITY:
                wanted = PARITY_OF.get(value)
            elif command == C.SET_STOPSIZE:
                wanted = STOP_OF.get(value)
            else:
                wanted = value
            if wanted is None:
                log.info("%s: RFC 2217 client %s asked for %s code %d, which does not exist",
                         self.device, client, attr, value)
            elif self._permitted(command, wanted, client):
                now = self._apply({attr: wanted}, client)
        if now is None:
            now = self.settings()
        if command == C.SET_BAUDRATE:
            return now.baudrate
        if command == C.SET_DATASIZE:
            return now.bytesize
        if command == C.SET_PARITY:
            return PARITY_CODES[now.parity]
        return STOP_CODES[now.stopbits]

    def _permitted(self, command: int, wanted: Any, client: str) -> bool:
        if self.policy == "allow" or (self.policy == "limits" and command != C.SET_BAUDRATE):
            return True
        if self.policy == "limits" and wanted in self.baudrates:
            return True
        current = self.settings().as_dict().get(_SETTING.get(command, "flow"))
        if current != wanted:
            self.refused += 1
            what = _SETTING.get(command, "flow control")
            self._note("%s: RFC 2217 client %s may not set %s to %s (rfc2217_settings = %s)",
                       self.device, client, what, wanted, self.policy)
        return False

    def _apply(self, change: dict[str, Any], client: str) -> LineSettings | None:
        """Apply ``change``; the settings the port has afterwards (None while it is closed)."""
        port = self.serial.device
        if port is None:
            log.info("%s: RFC 2217 client %s: %s not applied, the device is offline", self.device, client,
                     ", ".join(f"{k} = {v}" for k, v in change.items()))
            return None
        before = self.settings().as_dict()
        previous = {key: getattr(port, key) for key in change}
        try:
            port.apply_settings(change)
        except _APPLY_ERRORS as exc:
            log.warning("%s: RFC 2217 client %s: the port refused %s: %s", self.device, client,
                        ", ".join(f"{k} = {v}" for k, v in change.items()), exc)
            try:
                port.apply_settings(previous)  # pyserial keeps the refused value otherwise
            except _APPLY_ERRORS:
                pass
        now = self.settings()
        after = now.as_dict()
        for key in change:
            if after[key] != before[key]:
                self.changes += 1
                self.version += 1
                self._note("%s: RFC 2217 client %s set %s %s -> %s", self.device, client, key, before[key],
                           after[key])
            self.wanted[key] = after[key]
        configured = self._configured()
        self.wanted = {k: v for k, v in self.wanted.items() if configured[k] != v}
        return now

    def _configured(self) -> dict[str, Any]:
        cfg = self.config
        return {"baudrate": cfg.baudrate, "bytesize": cfg.bytesize, "parity": cfg.parity,
                "stopbits": cfg.stopbits, "xonxoff": cfg.xonxoff, "rtscts": cfg.rtscts}

    # -- SET-CONTROL --------------------------------------------------------

    def _control(self, value: int, client: str) -> int:
        if value in (C.CONTROL_FLOW_NONE, C.CONTROL_FLOW_XONXOFF, C.CONTROL_FLOW_HARDWARE,
                     C.CONTROL_FLOW_IN_NONE, C.CONTROL_FLOW_IN_XONXOFF, C.CONTROL_FLOW_IN_HARDWARE):
            inbound = value >= C.CONTROL_FLOW_IN_NONE
            kind = value - (C.CONTROL_FLOW_IN_NONE if inbound else C.CONTROL_FLOW_NONE)
            wanted = {"xonxoff": kind == 1, "rtscts": kind == 2}
            if self._flow_permitted(wanted, client):
                self._apply(wanted, client)
            return self._flow_code(inbound)
        if value in (C.CONTROL_BREAK_ON, C.CONTROL_BREAK_OFF):
            self.brk = self._line("break_condition", value == C.CONTROL_BREAK_ON, client)
        elif value in (C.CONTROL_DTR_ON, C.CONTROL_DTR_OFF):
            self.dtr = self._line("dtr", value == C.CONTROL_DTR_ON, client)
        elif value in (C.CONTROL_RTS_ON, C.CONTROL_RTS_OFF):
            self.rts = self._line("rts", value == C.CONTROL_RTS_ON, client)
        elif value == C.CONTROL_REQUEST_FLOW_IN:
            return self._flow_code(True)
        elif value not in (C.CONTROL_REQUEST_BREAK, C.CONTROL_REQUEST_DTR, C.CONTROL_REQUEST_RTS):
            # DCD/DTR/DSR flow control (17-19) or an unknown code: Linux has
            # none of them, so the answer is the flow control in force.
            return self._flow_code(False)
        if value <= C.CONTROL_BREAK_OFF:
            return C.CONTROL_BREAK_ON if self.brk else C.CONTROL_BREAK_OFF
        if value <= C.CONTROL_DTR_OFF:
            return C.CONTROL_DTR_ON if self._read_line(termios_bit="dtr") else C.CONTROL_DTR_OFF
        return C.CONTROL_RTS_ON if self._read_line(termios_bit="rts") else C.CONTROL_RTS_OFF

    def _flow_permitted(self, wanted: dict[str, bool], client: str) -> bool:
        if self.policy != "lock":
            return True
        now = self.settings()
        if (now.xonxoff, now.rtscts) != (wanted["xonxoff"], wanted["rtscts"]):
            self.refused += 1
            self._note("%s: RFC 2217 client %s may not change the flow control (rfc2217_settings = lock)",
                       self.device, client)
        return False

    def _flow_code(self, inbound: bool) -> int:
        now = self.settings()
        base = C.CONTROL_FLOW_IN_NONE if inbound else C.CONTROL_FLOW_NONE
        return base + (2 if now.rtscts else 1 if now.xonxoff else 0)

    def _line(self, attr: str, on: bool, client: str) -> bool:
        """Set DTR, RTS or BREAK; the state now (virtual where the port has no lines)."""
        port = self.serial.device
        if port is not None:
            try:
                setattr(port, attr, on)
            except _APPLY_ERRORS as exc:
                if not self._warned_lines:
                    self._warned_lines = True
                    log.info("%s: the port has no modem lines (%s): DTR, RTS and BREAK are virtual",
                             self.device, exc)
        old = {"dtr": self.dtr, "rts": self.rts, "break_condition": self.brk}[attr]
        if old != on:
            self.lines_changed = True
            self.version += 1
            self._note("%s: RFC 2217 client %s set %s %s", self.device, client, attr.replace("_condition", ""),
                       "on" if on else "off")
        return on

    def _read_line(self, termios_bit: str) -> bool:
        virtual = self.dtr if termios_bit == "dtr" else self.rts
        fd = self.fd
        lines = modem_lines(fd) if fd is not None else None
        if lines is None:
            return virtual
        return bool(lines & (termios.TIOCM_DTR if termios_bit == "dtr" else termios.TIOCM_RTS))

    # -- PURGE-DATA ----------------------------------------------------------

    def _purge(self, value: int, client: str) -> int:
        if value not in (C.PURGE_RECEIVE, C.PURGE_TRANSMIT, C.PURGE_BOTH):
            return 0
        port = self.serial.device
        dropped = 0
        if port is not None:
            try:
                if value & C.PURGE_RECEIVE:
                    port.reset_input_buffer()
                if value & C.PURGE_TRANSMIT:
                    dropped = self.serial.discard_output()
                    port.reset_output_buffer()
            except _APPLY_ERRORS as exc:
                log.info("%s: RFC 2217 client %s: purge failed: %s", self.device, client, exc)
        log.debug("%s: RFC 2217 client %s purged (%d), %d queued bytes dropped", self.device, client, value,
                  dropped)
        return value

    # -- the port comes back, the last client leaves --------------------------

    def reopened(self) -> None:
        """The port was opened again: the clients' settings back on it."""
        self.line_errors.reset()
        self._pollable = None
        if self.wanted:
            self._apply(dict(self.wanted), "(reapplied after a reopen)")

    @property
    def dirty(self) -> bool:
        return bool(self.wanted) or self.lines_changed

    def revert(self) -> None:
        """The configured settings back, DTR and RTS on, BREAK off."""
        if not self.dirty:
            return
        self.reverts += 1
        self.version += 1
        log.info("%s: the last RFC 2217 client left: back to the configured settings", self.device)
        port = self.serial.device
        self.wanted = {}
        if port is not None:
            try:
                port.apply_settings(self._configured())
            except _APPLY_ERRORS as exc:
                log.warning("%s: cannot restore the configured settings: %s", self.device, exc)
            for attr, on in (("break_condition", False), ("dtr", True), ("rts", True)):
                try:
                    setattr(port, attr, on)
                except _APPLY_ERRORS:
                    pass
        self.dtr, self.rts, self.brk = True, True, False
        self.lines_changed = False

    def statistics(self) -> dict[str, Any]:
        return {"policy": self.policy, "settings": self.settings().as_dict(), "changes": self.changes,
                "refused": self.refused, "reverts": self.reverts, "dtr": self.dtr, "rts": self.rts,
                "break": self.brk}
