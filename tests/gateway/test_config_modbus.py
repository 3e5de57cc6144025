"""The keys of a ``profile = "modbus"`` device: values, defaults, and every
problem reported with its line (gateway.config.modbus)."""

from __future__ import annotations

from pathlib import Path

import mqtt_fixtures as fx  # registered by this folder's conftest
import pytest

from gateway.config import ConfigError, parse_config
from gateway.config.model import Address, ModbusConfig, ModbusRead
from gateway.readings import check_profile

HEAD = '[gateway]\nname = "gw"\n\n'
D = '[device "m"]'


def dev(extra: str = "", modbus: str = "", profile: str = "modbus") -> str:
    """Lines 4 [[device]], 5 name, 6 port, 7 profile, extra from 8; then [device.modbus] and its keys."""
    text = HEAD + f'[[device]]\nname = "m"\nport = "/dev/ttyUSB0"\nprofile = "{profile}"\n' + extra
    return text + ("[device.modbus]\n" + modbus if modbus else "")


def read(**keys: object) -> str:
    """One [[device.modbus.read]] table (its keys one a line, in order)."""
    body = {"unit": 1, "name": "v", "table": "holding", "address": 0} | keys
    lines = [f"{k} = {v!r}".replace("'", '"') for k, v in body.items() if v is not None]
    return "[[device.modbus.read]]\n" + "\n".join(lines) + "\n"


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_config(text, "t.toml", check_profile=check_profile)


def test_values_and_defaults() -> None:
    config = parse(dev('modbus_tcp = "0.0.0.0:5020"\n', "timeout = 0.25\npoll = 5\n"
                       + read(name="volts", table="input", address=10, type="float32", word_order="little",
                              scale=0.1, offset=-1)
                       + read(unit=2, name="relay", table="coil", address=3)
                       + read(unit=2, name="count", address=20, every=60)))
    device = config.device("m")
    assert device.modbus_tcp == Address("0.0.0.0", 5020)
    assert device.modbus == ModbusConfig(timeout=0.25, queue=32, turnaround=0.1, poll=5.0, reads=(
        ModbusRead(1, "volts", "input", 10, "float32", "little", 0.1, -1.0, 5.0),
        ModbusRead(2, "relay", "coil", 3, "bool", "big", 1.0, 0.0, 5.0),
        ModbusRead(2, "count", "holding", 20, "uint16", "big", 1.0, 0.0, 60.0),
    ))
    # Only a modbus_tcp: the defaults.
    plain = parse(dev('modbus_tcp = 5020\n')).device("m")
    assert plain.modbus == ModbusConfig() and plain.modbus_tcp == Address("", 5020)
    assert parse(dev(profile="raw")).device("m").modbus is None


@pytest.mark.parametrize(("value", "seconds"), [
    ('"t3.5"', None), ("0", 0.0), ("0.0", 0.0), ("2.5", 0.0025), ("1000", 1.0),
])
def test_frame_gap(value: str, seconds: float | None) -> None:
    config = parse(dev('modbus_tcp = 5020\n', f"frame_gap = {value}\n")).device("m").modbus
    assert config is not None and config.frame_gap == seconds
    # Not given: the spec's t3.5, computed by the master from the port's framing.
    assert parse(dev('modbus_tcp = 5020\n')).device("m").modbus.frame_gap is None  # type: ignore[union-attr]


CASES = [
    ("needs something to do", dev(), [f'7: {D} profile: a "modbus" device needs modbus_tcp or '
                                      "[[device.modbus.read]] entries"]),
    ("modbus_tcp elsewhere", dev('modbus_tcp = 5020\n', profile="raw"),
     [f'8: {D} modbus_tcp: only valid with profile = "modbus"']),
    ("modbus table elsewhere", dev(modbus="timeout = 1\n", profile="keyvalue"),
     [f'8: {D} modbus: only valid with profile = "modbus"']),
    ("tcp on a master", dev('modbus_tcp = 5020\ntcp = 4001\n'),
     [f'9: {D} tcp: not valid with profile = "modbus": the gateway is the bus master; give modbus_tcp '
      "for Modbus TCP clients"]),
    ("rfc2217 on a master", dev('modbus_tcp = 5020\nrfc2217 = 4001\n'),
     [f'9: {D} rfc2217: not valid with profile = "modbus": the gateway is the bus master; give modbus_tcp '
      "for Modbus TCP clients"]),
    ("bad address", dev('modbus_tcp = "nowhere"\n'),
     [f'8: {D} modbus_tcp: must be "host:port", "[ipv6]:port", ":port" or a port number, got "nowhere"']),
    ("timeout", dev('modbus_tcp = 1\n', "timeout = 0\n"), [f"10: {D} modbus.timeout: must be greater than 0, got 0"]),
    ("queue", dev('modbus_tcp = 1\n', "queue = 0\n"), [f"10: {D} modbus.queue: must be at least 1, got 0"]),
    ("client_idle", dev('modbus_tcp = 1\n', "client_idle = 0\n"),
     [f"10: {D} modbus.client_idle: must be greater than 0, got 0"]),
    ("client_partial", dev('modbus_tcp = 1\n', "client_partial = 61\n"),
     [f"10: {D} modbus.client_partial: must be at most 60, got 61"]),
    ("frame_gap negative", dev('modbus_tcp = 1\n', "frame_gap = -1\n"),
     [f"10: {D} modbus.frame_gap: must be 0..1000 milliseconds, got -1"]),
    ("frame_gap too long", dev('modbus_tcp = 1\n', "frame_gap = 1500\n"),
     [f"10: {D} modbus.frame_gap: must be 0..1000 milliseconds, got 1500"]),
    ("frame_gap nan", dev('modbus_tcp = 1\n', "frame_gap = nan\n"),
     [f"10: {D} modbus.frame_gap: must be 0..1000 milliseconds, got nan"]),
    ("frame_gap word", dev('modbus_tcp = 1\n', 'frame_gap = "t1.5"\n'),
     [f'10: {D} modbus.frame_gap: must be "t3.5" or a number of milliseconds, got "t1.5"']),
    ("frame_gap bool", dev('modbus_tcp = 1\n', "frame_gap = false\n"),
     [f'10: {D} modbus.frame_gap: must be "t3.5" or a number of milliseconds, got false']),
    ("unknown key", dev('modbus_tcp = 1\n', "timeuot = 1\n"),
     [f'10: {D} modbus.timeuot: unknown key, did you mean "timeout"?']),
    ("unit 0", dev(modbus=read(unit=0)), [f"10: {D} modbus.read[1].unit: must be at least 1, got 0"]),
    ("unit 248", dev(modbus=read(unit=248)), [f"10: {D} modbus.read[1].unit: must be at most 247, got 248"]),
    ("unknown type", dev(modbus=read(type="int64")),
     [f'14: {D} modbus.read[1].type: must be one of int16, uint16, int32, uint32, float32, bool; got "int64"']),
    ("unknown table", dev(modbus=read(table="register")),
     [f'12: {D} modbus.read[1].table: must be one of holding, input, coil, discrete; got "register"']),
    ("bits are bool", dev(modbus=read(table="discrete", type="float32")),
     [f'14: {D} modbus.read[1].type: a discrete is one bit: type must be "bool", got "float32"']),
    ("no scale on bool", dev(modbus=read(table="coil", scale=2)),
     [f'14: {D} modbus.read[1].scale: not valid with type = "bool"']),
    ("word order of 16 bits", dev(modbus=read(word_order="little")),
     [f'14: {D} modbus.read[1].word_order: only valid with a 32-bit type, not "uint16"']),
    ("past the last register", dev(modbus=read(address=65535, type="int32")),
     [f'13: {D} modbus.read[1].address: a int32 at 65535 runs past the last register']),
    ("address range", dev(modbus=read(address=65536)),
     [f"13: {D} modbus.read[1].address: must be at most 65535, got 65536"]),
    ("missing keys", dev(modbus="[[device.modbus.read]]\nname = \"x\"\n"),
     [f"9: {D} modbus.read[1].unit: required key is missing",
      f"9: {D} modbus.read[1].table: required key is missing",
      f"9: {D} modbus.read[1].address: required key is missing"]),
    ("overlap", dev(modbus=read(name="a", address=10, type="float32") + read(name="b", address=11)),
     [f'19: {D} modbus.read[2].address: holding 11..11 of unit 1 overlaps "a" (10..11, line 13)']),
    ("duplicate name", dev(modbus=read(name="a") + read(name="a", unit=2)),
     [f"16: {D} modbus.read[2].name: duplicate field name, first used on line 11"]),
    ("state_class", dev(modbus=read(state_class="sum")),
     [f'14: {D} modbus.read[1].state_class: must be one of measurement, total, total_increasing; got "sum"']),
    ("every", dev(modbus=read(every=-1)), [f"14: {D} modbus.read[1].every: must be greater than 0, got -1"]),
    ("same listener", dev('modbus_tcp = 5020\n') + '\n[[device]]\nname = "b"\nport = "/dev/x"\n'
     'profile = "raw"\ntcp = 5020\n',
     ['14: [device "b"] tcp: port 5020 is already used by device "m" modbus_tcp (line 8)']),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in CASES], ids=[c[0] for c in CASES])
def test_problems_are_reported_with_their_line(text: str, expected: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert info.value.problems == [f"t.toml:{e}" for e in expected]


def test_same_register_in_other_units_and_tables_is_fine() -> None:
    config = parse(dev(modbus=read(name="a") + read(name="b", unit=2) + read(name="c", table="input")
                       + read(name="d", table="coil")))
    assert [r.name for r in config.device("m").modbus.reads] == ["a", "b", "c", "d"]  # type: ignore[union-attr]


def test_gateway_check_shows_the_bus_and_the_example_is_valid(tmp_path: Path) -> None:
    example = fx.ROOT / "examples" / "modbus_gateway.toml"
    result = fx.gateway_cli("check", str(example), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "  rs485: Modbus RTU master at 9600 8E1, timeout 0.5 s; Modbus TCP on 0.0.0.0:5020; "
        "5 values polled from units 1, 7 in 3 requests per cycle"]
    bad = tmp_path / "bad.toml"
    bad.write_text(dev(modbus=read(unit=300)))
    result = fx.gateway_cli("check", str(bad), timeout=60)
    assert result.returncode == 78
    assert result.stderr.endswith(':10: [device "m"] modbus.read[1].unit: must be at most 247, got 300\n')
