"""`gateway init`: the starter configuration it writes validates, finds each port the way
that survives a replug, gives each its own free TCP port, and never overwrites a file
unless asked."""

from __future__ import annotations

import functools
import socket
from pathlib import Path

import pytest
from mqtt_fixtures import gateway_cli

from gateway.ports import PortInfo, list_ports
from gateway.starter import FIRST_TCP_PORT, check, port_is_free, starter_config

TIMEOUT = 30.0

pytestmark = pytest.mark.timeout(60)

gateway = functools.partial(gateway_cli, timeout=TIMEOUT)

FTDI = PortInfo("/dev/ttyUSB0", vid="0403", pid="6001", serial="A50285BI", description="FTDI FT232R",
                links=("/dev/serial/by-id/usb-FTDI_FT232R_A50285BI-if00-port0",))
CH340 = PortInfo("/dev/ttyUSB1", vid="1a86", pid="7523", description="QinHeng CH340")
UART = PortInfo("/dev/ttyAMA0")
BY_ID_ONLY = PortInfo("/dev/ttyACM0", links=("/dev/serial/by-id/usb-Arduino_Uno_123-if00",))


def test_each_port_becomes_a_raw_device_found_the_way_that_survives_a_replug() -> None:
    config = check(starter_config([FTDI, CH340, UART, BY_ID_ONLY], free=lambda port: True))
    by_name = {d.name: d for d in config.devices}
    assert list(by_name) == ["ttyUSB0", "ttyUSB1", "ttyAMA0", "ttyACM0"]
    assert all(d.profile == "raw" for d in config.devices)
    ftdi = by_name["ttyUSB0"].match
    assert ftdi is not None and (ftdi.vid, ftdi.pid, ftdi.serial) == ("0403", "6001", "A50285BI")
    ch340 = by_name["ttyUSB1"].match
    assert ch340 is not None and (ch340.vid, ch340.pid, ch340.serial) == ("1a86", "7523", None)
    assert by_name["ttyAMA0"].port == "/dev/ttyAMA0"
    assert by_name["ttyACM0"].port == "/dev/serial/by-id/usb-Arduino_Uno_123-if00"
    tcp_ports = [d.tcp.port for d in config.devices if d.tcp is not None]
    assert tcp_ports == list(range(FIRST_TCP_PORT, FIRST_TCP_PORT + 4))


def test_ports_in_use_are_skipped_and_names_stay_unique() -> None:
    twin = PortInfo("/dev/ttyUSB0", vid="0403", pid="6001", serial="OTHER")
    text = starter_config([FTDI, twin], free=lambda port: port not in (FIRST_TCP_PORT, FIRST_TCP_PORT + 1))
    config = check(text)
    assert [d.name for d in config.devices] == ["ttyUSB0", "ttyUSB0_2"]
    assert [d.tcp.port for d in config.devices if d.tcp] == [FIRST_TCP_PORT + 2, FIRST_TCP_PORT + 3]
    assert "# FTDI FT232R (/dev/ttyUSB0, /dev/serial/by-id/usb-FTDI_FT232R_A50285BI-if00-port0)" in text


def test_a_listening_port_is_not_free() -> None:
    with socket.socket() as listener:
        listener.bind(("0.0.0.0", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not port_is_free(port)
    assert port_is_free(port)


def test_no_ports_gives_a_valid_file_with_an_example_to_edit() -> None:
    text = starter_config([])
    (example,) = check(text).devices
    assert not example.enabled and example.port == "/dev/ttyUSB0"
    assert "No serial port was found" in text


def test_the_cli_writes_a_file_check_accepts_and_refuses_to_overwrite_it(tmp_path: Path) -> None:
    target = tmp_path / "gateway.toml"
    written = gateway("init", "-o", str(target))
    assert written.returncode == 0, written.stderr
    assert f"wrote {target}" in written.stdout
    checked = gateway("check", str(target))
    assert checked.returncode == 0, checked.stderr
    found = len(list_ports())
    assert (f"{found} of {found} devices enabled" if found else "0 of 1 devices enabled") in checked.stdout

    target.write_text("# mine\n")
    again = gateway("init", "-o", str(target))
    assert again.returncode == 73
    assert "exists (use --force to replace it)" in again.stderr
    assert target.read_text() == "# mine\n"
    forced = gateway("init", "-o", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert target.read_text().startswith("# circuits-gateway configuration written by `gateway init`")


def test_the_cli_prints_to_stdout_and_reports_an_unwritable_place(tmp_path: Path) -> None:
    printed = gateway("init")
    assert printed.returncode == 0, printed.stderr
    assert "[web]" in printed.stdout
    missing = gateway("init", "-o", str(tmp_path / "no" / "such" / "dir" / "g.toml"))
    assert missing.returncode == 73
    assert "cannot write" in missing.stderr
