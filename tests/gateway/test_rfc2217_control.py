"""PortControl on a real pty (os.openpty, opened by pyserial): any request
with any value is answered with a value the wire can carry, never an
exception, and the answer is what the kernel has."""

from __future__ import annotations

import os
import termios
from collections.abc import Iterator

import pytest
import serial
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circuits.protocols.telnet import constants as C
from gateway.config import DeviceConfig
from gateway.rfc2217.control import PortControl


class OpenPort:
    """The two things PortControl uses of circuits' Serial, on a real pyserial port."""

    def __init__(self, path: str) -> None:
        self.device: serial.Serial | None = serial.Serial(path, 115200, timeout=0)

    def discard_output(self) -> int:
        return 0


@pytest.fixture(scope="module")
def control() -> Iterator[PortControl]:
    master, slave = os.openpty()
    port = OpenPort(os.ttyname(slave))
    yield PortControl(DeviceConfig(name="pty", port=os.ttyname(slave)), port)  # type: ignore[arg-type]
    assert port.device is not None
    port.device.close()
    os.close(master)
    os.close(slave)


COMMANDS = st.sampled_from([C.SET_BAUDRATE, C.SET_DATASIZE, C.SET_PARITY, C.SET_STOPSIZE, C.SET_CONTROL,
                            C.PURGE_DATA, C.NOTIFY_LINESTATE, C.NOTIFY_MODEMSTATE, 99])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=COMMANDS, value=st.integers(0, 2**32 - 1))
def test_any_request_is_answered_with_what_the_port_has(control: PortControl, command: int, value: int) -> None:
    if command != C.SET_BAUDRATE:
        value &= 0xFF
    answer = control.handle(command, value, "127.0.0.1:1")
    assert isinstance(answer, int)
    assert 0 <= answer < (2**32 if command == C.SET_BAUDRATE else 256)
    now = control.settings()
    if command == C.SET_BAUDRATE:
        assert answer == now.baudrate
    elif command == C.SET_DATASIZE:
        assert answer == now.bytesize
    port = control.serial.device
    assert port is not None
    termios.tcgetattr(port.fileno())  # the port is still usable


def test_virtual_lines_are_echoed_on_a_pty(control: PortControl) -> None:
    assert control.handle(C.SET_CONTROL, C.CONTROL_DTR_OFF, "c") == C.CONTROL_DTR_OFF
    assert control.handle(C.SET_CONTROL, C.CONTROL_REQUEST_DTR, "c") == C.CONTROL_DTR_OFF
    assert control.handle(C.SET_CONTROL, C.CONTROL_BREAK_ON, "c") == C.CONTROL_BREAK_ON
    assert control.handle(C.SET_CONTROL, C.CONTROL_REQUEST_BREAK, "c") == C.CONTROL_BREAK_ON
    control.revert()
    assert control.handle(C.SET_CONTROL, C.CONTROL_REQUEST_DTR, "c") == C.CONTROL_DTR_ON
    assert control.handle(C.SET_CONTROL, C.CONTROL_REQUEST_BREAK, "c") == C.CONTROL_BREAK_OFF
    assert control.handle(C.NOTIFY_MODEMSTATE, 0, "c") == 0  # a pty has no modem lines
    assert not control.pollable


def test_held_journal_lines_wait_for_flush_notes_and_keep_their_order(
        control: PortControl, caplog: pytest.LogCaptureFixture) -> None:
    # The bridge holds them so they are written after the answer has left.
    control.handle(C.SET_BAUDRATE, 4800, "127.0.0.1:1")  # a known start (the fixture is shared)
    control.hold_notes = True
    try:
        with caplog.at_level("INFO", logger="gateway.rfc2217.control"):
            control.handle(C.SET_BAUDRATE, 9600, "127.0.0.1:1")
            control.handle(C.SET_BAUDRATE, 19200, "127.0.0.1:1")
            assert caplog.messages == [] and control.notes_held
            control.flush_notes()
            assert [m.split(" set ")[1] for m in caplog.messages] == ["baudrate 4800 -> 9600",
                                                                      "baudrate 9600 -> 19200"]
            assert not control.notes_held
    finally:
        control.hold_notes = False
