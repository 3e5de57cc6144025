"""The rfc2217* device keys: defaults, every problem with its line, and
``gateway check`` showing the listeners."""

from __future__ import annotations

from pathlib import Path

import pytest
from mqtt_fixtures import gateway_cli

from gateway.config import Address, ConfigError, parse_config

HEAD = '[gateway]\nname = "lab"\n\n[[device]]\nname = "esp"\nport = "/dev/ttyUSB0"\nprofile = "raw"\n'
D = '[device "esp"]'  # extra keys start on line 8


def test_defaults_and_a_full_table() -> None:
    device = parse_config(HEAD + 'rfc2217 = "0.0.0.0:7101"\n').devices[0]
    assert device.rfc2217 == Address("0.0.0.0", 7101)
    assert (device.rfc2217_settings, device.rfc2217_baudrates, device.rfc2217_revert) == ("allow", (), True)
    assert device.tcp is None  # instead of tcp
    device = parse_config(HEAD + 'tcp = ":7001"\nrfc2217 = ":7101"\nrfc2217_settings = "Limits"\n'
                          "rfc2217_baudrates = [115200, 9600, 9600]\nrfc2217_revert = false\n"
                          "max_clients = 2\n").devices[0]
    assert device.rfc2217_settings == "limits"
    assert device.rfc2217_baudrates == (9600, 115200)
    assert device.rfc2217_revert is False
    assert parse_config(HEAD + 'rfc2217 = ":7101"\nmax_clients = 1\n').devices[0].max_clients == 1


@pytest.mark.parametrize(("extra", "expected"), [
    ('rfc2217 = "nowhere"\n',
     [f'8: {D} rfc2217: must be "host:port", "[ipv6]:port", ":port" or a port number, got "nowhere"']),
    ('rfc2217 = ":7101"\nrfc2217_settings = "open"\n',
     [f'9: {D} rfc2217_settings: must be one of allow, lock, limits; got "open"']),
    ('rfc2217 = ":7101"\nrfc2217_settings = "limits"\n',
     [f'9: {D} rfc2217_settings: "limits" needs rfc2217_baudrates = [...], the rates clients may set']),
    ('rfc2217 = ":7101"\nrfc2217_settings = "limits"\nrfc2217_baudrates = [9600, "fast"]\n',
     [f'10: {D} rfc2217_baudrates: item 2 must be a baud rate from 1 to 12000000, got "fast"']),
    ('rfc2217 = ":7101"\nrfc2217_settings = "limits"\nrfc2217_baudrates = []\n',
     [f"10: {D} rfc2217_baudrates: must list at least one baud rate"]),
    ('rfc2217 = ":7101"\nrfc2217_baudrates = [9600]\n',
     [f'9: {D} rfc2217_baudrates: only valid with rfc2217_settings = "limits"']),
    ('rfc2217_settings = "lock"\nrfc2217_revert = false\n',
     [f"8: {D} rfc2217_settings: only valid with rfc2217", f"9: {D} rfc2217_revert: only valid with rfc2217"]),
    ('rfc2217 = ":7101"\nrfc2217_revert = "yes"\n',
     [f'9: {D} rfc2217_revert: must be a boolean (true or false), got "yes"']),
    ('tcp = ":7101"\nrfc2217 = "127.0.0.1:7101"\n',
     [f'9: {D} rfc2217: port 7101 is already used by device "esp" (line 8)']),
    ('rfc2217 = ":7101"\nrfc2217_setings = "lock"\n',
     [f'9: {D} rfc2217_setings: unknown key, did you mean "rfc2217_settings"?']),
])
def test_problems_are_reported_with_their_lines(extra: str, expected: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(HEAD + extra, "t.toml")
    assert info.value.problems == [f"t.toml:{e}" for e in expected]


def test_not_on_a_modbus_bus() -> None:
    text = (HEAD.replace('"raw"', '"modbus"') + 'rfc2217 = ":7101"\n\n[device.modbus]\n[[device.modbus.read]]\n'
            'unit = 1\nname = "t"\ntable = "input"\naddress = 0\n')
    with pytest.raises(ConfigError) as info:
        parse_config(text, "t.toml")
    assert info.value.problems == [f't.toml:8: {D} rfc2217: not valid with profile = "modbus": the gateway is '
                                   "the bus master; give modbus_tcp for Modbus TCP clients"]


def test_two_devices_cannot_share_an_rfc2217_port() -> None:
    text = (HEAD + 'rfc2217 = ":7101"\n\n[[device]]\nname = "b"\nport = "/dev/ttyUSB1"\nprofile = "raw"\n'
            'tcp = "127.0.0.1:7101"\n')
    with pytest.raises(ConfigError) as info:
        parse_config(text, "t.toml")
    assert info.value.problems == ['t.toml:14: [device "b"] tcp: port 7101 is already used by device "esp" rfc2217 (line 8)']


def test_gateway_check_shows_the_rfc2217_listeners(tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text(HEAD + 'tcp = ":7001"\nrfc2217 = ":7101"\nrfc2217_settings = "limits"\n'
                      "rfc2217_baudrates = [9600, 115200]\n")
    result = gateway_cli("check", str(config), timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"{config}: ok, gateway 'lab', 1 of 1 devices enabled, 1 TCP listeners, "
                             "1 RFC 2217 listeners\n  esp: rfc2217://:7101 (settings: limits 9600, 115200, "
                             "reverted when the last client leaves)\n")
    config.write_text(HEAD + 'rfc2217 = ":7101"\nrfc2217_settings = "limits"\n')
    result = gateway_cli("check", str(config), timeout=30)
    assert result.returncode == 78
    assert f'{config}:9: {D} rfc2217_settings: "limits" needs rfc2217_baudrates' in result.stderr
