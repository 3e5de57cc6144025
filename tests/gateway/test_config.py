"""gateway.config: the documented example, every validation message with its
line, syntax errors, the line locator, and the command-line check."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.config import (
    Address,
    ConfigError,
    DeviceConfig,
    GatewayConfig,
    MatchConfig,
    MqttConfig,
    WebConfig,
    load_config,
    parse_config,
)
from gateway.config.__main__ import main as check_main
from gateway.config.fields import parse_address
from gateway.config.locate import locate

# The example from the brief, verbatim: it must load exactly as written.
EXAMPLE = """\
[gateway]
name = "pi-lab"                         # dashboard title, MQTT client id and topics
state_dir = "/var/lib/circuits-gateway" # SQLite files live here

[web]
listen = "127.0.0.1:8080"

[mqtt]
host = "127.0.0.1"
port = 1883
topic_prefix = "gateway/pi-lab"
qos = 1

[[device]]
name = "thermo"
port = "/dev/serial/by-id/usb-FTDI_*"   # a path or a glob; or match = { vid = "0403", pid = "6001", serial = "A50285BI" }
baudrate = 9600                         # bytesize, parity, stopbits, rtscts, xonxoff, exclusive also accepted
profile = "keyvalue"                    # keyvalue | csv | json | nmea | raw
tcp = "127.0.0.1:4001"                  # raw bidirectional bridge, several clients
udp = "127.255.255.255:5001"            # each reading as one JSON datagram (broadcast allowed)
"""


def test_example_loads_exactly(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(EXAMPLE)
    assert load_config(path) == GatewayConfig(
        name="pi-lab",
        state_dir=Path("/var/lib/circuits-gateway"),
        log_level="INFO",
        devices=(
            DeviceConfig(
                name="thermo",
                port="/dev/serial/by-id/usb-FTDI_*",
                baudrate=9600,
                profile="keyvalue",
                framing="line",
                tcp=Address("127.0.0.1", 4001),
                udp=Address("127.255.255.255", 5001),
            ),
        ),
        web=WebConfig(listen=Address("127.0.0.1", 8080)),
        mqtt=MqttConfig(host="127.0.0.1", port=1883, topic_prefix="gateway/pi-lab", qos=1, client_id="pi-lab"),
    )
    device = load_config(path).devices[0]
    assert device.is_glob and device.exclusive and device.client_buffer == 256 * 1024
    assert device.max_line == 65536 and device.enabled and device.stopbits == 1


FULL = """\
[gateway]
name = "lab_2"
state_dir = "state"       # relative: next to the file
log_level = "DEBUG"

[web]
listen = 8080
history = 50
[web.users]
alice = "pbkdf2_sha256$600000$c2FsdA==$aGFzaA=="

[mqtt]
host = "broker.local"
tls = true
ca_file = "ca.pem"
username = "gw"
password = "secret"
homeassistant = true
reconnect_min = 0.5
reconnect_max = 30

[[device]]
name = "gps"
match = { vid = "067B", pid = "2303", serial = "XYZ" }
baudrate = 4800
profile = "nmea"
parity = "e"
stopbits = 1.5
bytesize = 7
tcp = "[::1]:4002"
max_clients = 3
options = { encoding = "ascii" }

[[device]]
name = "table"
port = "/dev/ttyS9"
profile = "csv"
columns = ["t", "h"]
delimiter = ";"
udp = "255.255.255.255:5002"
enabled = false

[[device]]
name = "bridge"
port = "/dev/ttyACM0"
profile = "raw"
tcp = ":4003"
[device.match]
"""


def test_every_section_and_default(tmp_path: Path) -> None:
    text = FULL.replace("[device.match]\n", "")
    path = tmp_path / "gw.toml"
    path.write_text(text)
    (tmp_path / "ca.pem").write_text("")  # only its presence is checked here
    config = load_config(path)
    assert config.state_dir == tmp_path / "state"
    assert config.log_level == "DEBUG"
    assert config.web == WebConfig(Address("", 8080), {"alice": "pbkdf2_sha256$600000$c2FsdA==$aGFzaA=="}, 50)
    assert config.web.host == "" and config.web.port == 8080
    mqtt = config.mqtt
    assert mqtt is not None
    assert (mqtt.port, mqtt.client_id, mqtt.topic_prefix) == (8883, "lab_2", "gateway/lab_2")
    assert mqtt.ca_file == tmp_path / "ca.pem" and mqtt.certfile is None
    assert (mqtt.reconnect_min, mqtt.reconnect_max, mqtt.spool_max_mb) == (0.5, 30.0, 64)
    assert "secret" not in repr(mqtt)
    gps, table, bridge = config.devices
    assert gps.match == MatchConfig("067b", "2303", "XYZ") and gps.port is None
    assert (gps.parity, gps.stopbits, gps.bytesize, gps.framing) == ("E", 1.5, 7, "line")
    assert gps.tcp == Address("::1", 4002) and str(gps.tcp) == "[::1]:4002"
    assert gps.profile_options == {"encoding": "ascii"}
    assert table.profile_options == {"columns": ("t", "h"), "delimiter": ";"}
    assert not table.enabled and table.udp == Address("255.255.255.255", 5002)
    assert bridge.framing == "raw" and bridge.tcp == Address("", 4003)
    assert config.device("bridge") is bridge
    hash(config)  # frozen all the way down, users excluded from the hash


def test_check_profile_hook_reports_on_the_options_line(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("")

    def check(profile: str, options: Mapping[str, object]) -> None:
        if "encoding" in options:
            raise ValueError(f"profile {profile!r} has no option 'encoding'")

    text = FULL.replace("[device.match]\n", "")
    with pytest.raises(ConfigError) as info:
        parse_config(text, "gw.toml", base_dir=tmp_path, check_profile=check)
    assert info.value.problems == [
        "gw.toml:32: [device \"gps\"] options: profile 'nmea' has no option 'encoding'"]


HEAD = '[gateway]\nname = "pi-lab"\n\n'


def dev(extra: str = "", profile: str = '"keyvalue"') -> str:
    """Lines 1-3 HEAD, 4 [[device]], 5 name, 6 port, 7 profile; extra from 8."""
    return HEAD + f'[[device]]\nname = "thermo"\nport = "/dev/ttyUSB0"\nprofile = {profile}\n' + extra


MATCH_DEV = HEAD + '[[device]]\nname = "thermo"\nprofile = "raw"\n'  # extra from line 7
TWO = dev('tcp = "127.0.0.1:4001"\n\n[[device]]\nname = "b"\nport = "/dev/ttyUSB1"\nprofile = "raw"\n')
D = '[device "thermo"]'

CASES: list[tuple[str, str, list[str]]] = [
    # -- serial settings
    ("baudrate string", dev('baudrate = "fast"\n'), [f'8: {D} baudrate: must be an integer, got "fast"']),
    ("baudrate zero", dev("baudrate = 0\n"), [f"8: {D} baudrate: must be at least 1, got 0"]),
    ("baudrate bool", dev("baudrate = true\n"), [f"8: {D} baudrate: must be an integer, got true"]),
    ("baudrate float", dev("baudrate = 9600.0\n"), [f"8: {D} baudrate: must be an integer, got 9600.0"]),
    ("bytesize", dev("bytesize = 9\n"), [f"8: {D} bytesize: must be one of 5, 6, 7, 8; got 9"]),
    ("parity", dev('parity = "X"\n'), [f'8: {D} parity: must be one of N, E, O, M, S; got "X"']),
    ("stopbits", dev("stopbits = 3\n"), [f"8: {D} stopbits: must be one of 1, 1.5, 2; got 3"]),
    ("stopbits str", dev('stopbits = "1"\n'), [f'8: {D} stopbits: must be one of 1, 1.5, 2; got "1"']),
    ("rtscts", dev('rtscts = "yes"\n'), [f'8: {D} rtscts: must be a boolean (true or false), got "yes"']),
    ("enabled int", dev("enabled = 1\n"), [f"8: {D} enabled: must be a boolean (true or false), got 1"]),
    # -- profile and framing
    ("profile", dev(profile='"xml"'),
     [f'7: {D} profile: must be one of keyvalue, csv, json, nmea, raw, modbus; got "xml"']),
    ("profile missing", HEAD + '[[device]]\nname = "thermo"\nport = "/dev/ttyUSB0"\n',
     [f"4: {D} profile: required key is missing"]),
    ("framing", dev('framing = "cobs"\n'), [f'8: {D} framing: must be one of line, raw, slip; got "cobs"']),
    ("max_line", dev("max_line = 0\n"), [f"8: {D} max_line: must be at least 1, got 0"]),
    ("csv columns missing", dev(profile='"csv"'), [f'4: {D} columns: required when profile = "csv"']),
    ("csv columns empty", dev("columns = []\n", '"csv"'), [f"8: {D} columns: must name at least one column"]),
    ("csv column type", dev('columns = [\n  "a",\n  1,\n]\n', '"csv"'),
     [f"10: {D} columns: item 2 must be a string, got 1"]),
    ("csv delimiter", dev('columns = ["a"]\ndelimiter = ";;"\n', '"csv"'),
     [f'9: {D} delimiter: must be a single character other than a quote or newline, got ";;"']),
    ("columns not csv", dev('columns = ["a"]\n'), [f'8: {D} columns: only valid with profile = "csv"']),
    ("option type", dev("options = { encoding = { x = 1 } }\n"),
     [f"8: {D} options.encoding: must be a string, number, boolean or array of strings, got a table"]),
    # -- unknown keys
    ("typo", dev("baudrat = 9600\n"), [f'8: {D} baudrat: unknown key, did you mean "baudrate"?']),
    ("unknown", dev("frobnicate = 1\n"), [f"8: {D} frobnicate: unknown key"]),
    # -- name, port, match
    ("bad name", HEAD + '[[device]]\nname = "my thermo"\nport = "/dev/ttyUSB0"\nprofile = "raw"\n',
     ['5: [device #1] name: must be 1-64 letters, digits, "_" or "-", got "my thermo"']),
    ("name missing", HEAD + '[[device]]\nport = "/dev/ttyUSB0"\nprofile = "raw"\n',
     ["4: [device #1] name: required key is missing"]),
    ("relative port", dev().replace("/dev/ttyUSB0", "ttyUSB0"),
     [f'6: {D} port: must be an absolute path or a glob, got "ttyUSB0"']),
    ("url port", dev().replace("/dev/ttyUSB0", "rfc2217://host:2217"),
     [f'6: {D} port: network ports ("rfc2217://host:2217") are not supported: bridge one to a local pty '
      "with socat (docs/gateway.md) and give the pty's path"]),
    ("port and match", dev('match = { vid = "0403", pid = "6001" }\n'),
     [f"8: {D} match: give either port or match, not both"]),
    ("neither", MATCH_DEV, [f"4: {D} port: one of port or match is required"]),
    ("vid short", MATCH_DEV + 'match = { vid = "403", pid = "6001" }\n',
     [f'7: {D} match.vid: must be 4 hex digits like "0403", got "403"']),
    ("pid int", MATCH_DEV + 'match = { vid = "0403", pid = 6001 }\n',
     [f'7: {D} match.pid: must be 4 hex digits like "0403", got 6001']),
    ("pid missing", MATCH_DEV + 'match = { vid = "0403" }\n', [f"7: {D} match.pid: required key is missing"]),
    ("match typo", MATCH_DEV + 'match = { vid = "0403", pid = "6001", serail = "x" }\n',
     [f'7: {D} match.serail: unknown key, did you mean "serial"?']),
    ("serial quote", MATCH_DEV + 'match = { vid = "0403", pid = "6001", serial = \'A"B\' }\n',
     [f'7: {D} match.serial: must be printable ASCII without " or \\, got "A\\"B"']),
    ("match subtable", MATCH_DEV + '\n[device.match]\npid = "6001"\nvid = "04031"\n',
     [f'10: {D} match.vid: must be 4 hex digits like "0403", got "04031"']),
    ("match not table", MATCH_DEV + 'match = "0403:6001"\n', [f'7: {D} match: must be a table, got "0403:6001"']),
    # -- addresses
    ("tcp no port", dev('tcp = "localhost"\n'),
     [f'8: {D} tcp: must be "host:port", "[ipv6]:port", ":port" or a port number, got "localhost"']),
    ("tcp v6 brackets", dev('tcp = "::1:4001"\n'), [f'8: {D} tcp: IPv6 addresses need brackets, e.g. "[::1]:4001"']),
    ("tcp port range", dev("tcp = 70000\n"), [f"8: {D} tcp: port must be between 1 and 65535, got 70000"]),
    ("tcp bad v6", dev('tcp = "[zz]:1"\n'), [f'8: {D} tcp: "zz" is not an IPv6 address']),
    ("tcp bad host", dev('tcp = "bad host:1"\n'), [f'8: {D} tcp: "bad host" is not a valid host name or address']),
    ("udp no host", dev('udp = ":5001"\n'), [f'8: {D} udp: needs a destination host, e.g. "192.168.1.255:5001"']),
    ("max_clients no tcp", dev("max_clients = 2\n"), [f"8: {D} max_clients: only valid with tcp or rfc2217"]),
    ("max_clients zero", dev('tcp = 4001\nmax_clients = 0\n'), [f"9: {D} max_clients: must be at least 1, got 0"]),
    ("client_buffer", dev("client_buffer = -1\n"), [f"8: {D} client_buffer: must be at least 1, got -1"]),
    # -- across devices: the k-th [[device]] gets the k-th table's lines
    ("second device", TWO + "baudrate = -2\n", ['14: [device "b"] baudrate: must be at least 1, got -2']),
    ("duplicate name", TWO.replace('name = "b"', 'name = "thermo"'),
     [f"11: {D} name: duplicate device name, first defined on line 5"]),
    ("duplicate tcp", TWO + 'tcp = "0.0.0.0:4001"\n',
     ['14: [device "b"] tcp: port 4001 is already used by device "thermo" (line 8)']),
    ("tcp vs web", HEAD + '[web]\nlisten = ":4001"\n\n' + dev('tcp = "127.0.0.1:4001"\n')[len(HEAD):],
     [f"11: {D} tcp: port 4001 is already used by [web] listen (line 5)"]),
    # -- [gateway] and the top level
    ("gateway missing", dev()[len(HEAD):], ["1: gateway: required table [gateway] is missing"]),
    ("gateway name missing", '[gateway]\nlog_level = "info"\n' + dev()[len(HEAD):],
     ["1: [gateway] name: required key is missing"]),
    ("log level", dev().replace('"pi-lab"\n', '"pi-lab"\nlog_level = "loud"\n'),
     ['3: [gateway] log_level: must be one of debug, info, warning, error, critical; got "loud"']),
    ("state_dir int", dev().replace('"pi-lab"\n', '"pi-lab"\nstate_dir = 5\n'),
     ["3: [gateway] state_dir: must be a string, got 5"]),
    ("state_dir date", dev().replace('"pi-lab"\n', '"pi-lab"\nstate_dir = 1979-05-27\n'),
     ["3: [gateway] state_dir: must be a string, got a date/time"]),
    ("devices typo", HEAD + '[[devices]]\nname = "x"\n',
     ["1: device: at least one [[device]] table is required", '4: devices: unknown key, did you mean "device"?']),
    ("device table", HEAD + '[device]\nname = "x"\n',
     ["4: device: must be an array of tables ([[device]]), got a table"]),
    ("no devices", HEAD, ["1: device: at least one [[device]] table is required"]),
    # -- [web]
    ("web port 0", dev('\n[web]\nlisten = "127.0.0.1:0"\n'),
     ["10: [web] listen: port must be between 1 and 65535, got 0"]),
    ("web listen typo", dev('\n[web]\nlistn = ":80"\n'), ['10: [web] listn: unknown key, did you mean "listen"?']),
    ("web history", dev('\n[web]\nhistory = 0\n'), ["10: [web] history: must be at least 1, got 0"]),
    ("web plain password", dev('\n[web.users]\nalice = "hunter2"\n'),
     ["10: [web] users.alice: must be a pbkdf2 hash, not a plain password"]),
    ("web user colon", dev('\n[web]\nusers = { "a:b" = "pbkdf2$x" }\n'),
     ['10: [web] users.a:b: user names must be non-empty and must not contain ":"']),
    # -- [mqtt]
    ("mqtt host missing", dev("\n[mqtt]\nqos = 0\n"), ["9: [mqtt] host: required key is missing"]),
    ("mqtt url", dev('\n[mqtt]\nhost = "mqtt://x"\n'), ['10: [mqtt] host: must be a host name or address, not "mqtt://x"']),
    ("mqtt port string", dev('\n[mqtt]\nhost = "h"\nport = "1883"\n'), ['11: [mqtt] port: must be an integer, got "1883"']),
    ("mqtt qos", dev('\n[mqtt]\nhost = "h"\nqos = 3\n'), ["11: [mqtt] qos: must be one of 0, 1, 2; got 3"]),
    ("mqtt qos bool", dev('\n[mqtt]\nhost = "h"\nqos = true\n'), ["11: [mqtt] qos: must be one of 0, 1, 2; got true"]),
    ("mqtt wildcard", dev('\n[mqtt]\nhost = "h"\ntopic_prefix = "a/+/b"\n'),
     ['11: [mqtt] topic_prefix: must not contain the MQTT wildcards "+" or "#"']),
    ("mqtt $", dev('\n[mqtt]\nhost = "h"\ntopic_prefix = "$SYS/x"\n'),
     ['11: [mqtt] topic_prefix: must not start with "$" (reserved for the broker)']),
    ("mqtt slash", dev('\n[mqtt]\nhost = "h"\ntopic_prefix = "a/"\n'),
     ['11: [mqtt] topic_prefix: must not end with "/"']),
    ("mqtt password", dev('\n[mqtt]\nhost = "h"\npassword = "p"\n'), ["11: [mqtt] password: requires username"]),
    ("mqtt ca no tls", dev('\n[mqtt]\nhost = "h"\nca_file = "ca.pem"\n'),
     ["11: [mqtt] ca_file: only valid with tls = true"]),
    ("mqtt keyfile", dev('\n[mqtt]\nhost = "h"\ntls = true\nkeyfile = "k.pem"\n'),
     ["12: [mqtt] keyfile: requires certfile"]),
    ("mqtt keepalive", dev('\n[mqtt]\nhost = "h"\nkeepalive = 70000\n'),
     ["11: [mqtt] keepalive: must be at most 65535, got 70000"]),
    ("mqtt backoff zero", dev('\n[mqtt]\nhost = "h"\nreconnect_min = 0\n'),
     ["11: [mqtt] reconnect_min: must be greater than 0, got 0"]),
    ("mqtt backoff inf", dev('\n[mqtt]\nhost = "h"\nreconnect_max = inf\n'),
     ["11: [mqtt] reconnect_max: must be finite, got inf"]),
    ("mqtt backoff order", dev('\n[mqtt]\nhost = "h"\nreconnect_min = 10\nreconnect_max = 5\n'),
     ["11: [mqtt] reconnect_min: must not be greater than reconnect_max (5)"]),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in CASES], ids=[c[0] for c in CASES])
def test_invalid_value_is_reported_with_its_line(text: str, expected: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "t.toml")
    assert info.value.problems == [f"t.toml:{e}" for e in expected]
    assert str(info.value) == "\n".join(info.value.problems)


def test_all_problems_reported_at_once_in_line_order() -> None:
    text = dev('baudrate = "fast"\nparity = "Q"\n\n[mqtt]\nqos = 5\n', profile='"xml"')
    with pytest.raises(ConfigError) as info:
        parse_config(text, "t.toml")
    assert info.value.problems == [
        f't.toml:7: {D} profile: must be one of keyvalue, csv, json, nmea, raw, modbus; got "xml"',
        f't.toml:8: {D} baudrate: must be an integer, got "fast"',
        f't.toml:9: {D} parity: must be one of N, E, O, M, S; got "Q"',
        "t.toml:11: [mqtt] host: required key is missing",
        "t.toml:12: [mqtt] qos: must be one of 0, 1, 2; got 5",
    ]
    assert [p.line for p in info.value.issues] == [7, 8, 9, 11, 12]


def _web_tls(directory: Path, lines: str) -> list[str]:
    """The problems of a [web] table with ``lines`` in a config file in ``directory``."""
    text = dev(f'\n[web]\nlisten = "127.0.0.1:8443"\n{lines}')
    try:
        parse_config(text, str(directory / "gw.toml"))
    except ConfigError as exc:
        return [p.split(": ", 1)[1] for p in exc.problems]
    return []


def test_web_tls_certificate_is_loaded_when_the_configuration_is_read(tmp_path: Path) -> None:
    cert, key = fx.certificate(tmp_path, "web", "localhost")
    _, other_key = fx.certificate(tmp_path, "other", "localhost")
    # Relative paths are relative to the configuration file.
    config = parse_config(dev('\n[web]\ncertfile = "web.pem"\nkeyfile = "web.key"\n'), str(tmp_path / "gw.toml"))
    assert config.web is not None and config.web.scheme == "https"
    assert (config.web.certfile, config.web.keyfile) == (cert, key)
    combined = tmp_path / "both.pem"  # the key in the certificate file: no keyfile needed
    combined.write_bytes(cert.read_bytes() + key.read_bytes())
    assert _web_tls(tmp_path, 'certfile = "both.pem"\n') == []
    assert parse_config(dev(), "t.toml").web is None
    missing = tmp_path / "nope.pem"
    assert _web_tls(tmp_path, 'certfile = "nope.pem"\n') == [
        f"[web] certfile: cannot read {missing}: No such file or directory"]
    assert _web_tls(tmp_path, 'certfile = "web.pem"\nkeyfile = "nope.key"\n') == [
        f"[web] keyfile: cannot read {tmp_path / 'nope.key'}: No such file or directory"]
    assert _web_tls(tmp_path, 'keyfile = "web.key"\n') == ["[web] keyfile: requires certfile"]
    assert _web_tls(tmp_path, 'certfile = "web.pem"\n') == [
        f"[web] certfile: cannot use {cert} (no keyfile: the key must be in it): "
        "not a PEM certificate and its private key"]
    assert _web_tls(tmp_path, 'certfile = "web.pem"\nkeyfile = "other.key"\n') == [
        f"[web] certfile: cannot use {cert} with {other_key}: the key does not match the certificate"]


def test_same_tcp_port_on_different_hosts_is_fine() -> None:
    config = parse_config(TWO + 'tcp = "127.0.0.2:4001"\n', "t.toml")
    assert [d.tcp for d in config.devices] == [Address("127.0.0.1", 4001), Address("127.0.0.2", 4001)]


@pytest.mark.parametrize(("text", "expected"), [
    (HEAD + "[[device]\n", "TOML syntax error: Expected ']]' at the end of an array declaration (at line 4, column 9)"),
    (dev("baudrate = \n"), "TOML syntax error: Invalid value (at line 8, column 12)"),
    (HEAD + 'x = "open\n', "TOML syntax error: Illegal character '\\n' (at line 4, column 10)"),
])
def test_toml_syntax_error_reports_tomllib_position(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "t.toml")
    line = expected.split("at line ")[1].split(",")[0]
    assert info.value.problems == [f"t.toml:{line}: {expected}"]


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_config(missing)
    assert info.value.problems == [f"{missing}: cannot read: No such file or directory"]
    latin = tmp_path / "latin.toml"
    latin.write_bytes(HEAD.encode() + b'# caf\xe9\n')
    with pytest.raises(ConfigError) as info:
        load_config(latin)
    assert info.value.problems == [f"{latin}:4: not valid UTF-8 text"]


def test_check_command_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(EXAMPLE)
    bad.write_text(EXAMPLE.replace("baudrate = 9600", 'baudrate = "fast"'))
    assert check_main([str(good)]) == 0
    assert "ok, gateway 'pi-lab', 1 of 1 devices enabled" in capsys.readouterr().out
    # One real process, to see the exit status a shell or systemd would see.
    result = subprocess.run([sys.executable, "-m", "gateway.config", str(bad)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 78
    assert result.stderr == f'{bad}:17: [device "thermo"] baudrate: must be an integer, got "fast"\n'


@pytest.mark.parametrize(("value", "expected"), [
    ("127.0.0.1:8080", Address("127.0.0.1", 8080)),
    ("[::1]:8080", Address("::1", 8080)),
    ("[fe80::1%eth0]:80", Address("fe80::1%eth0", 80)),
    (":8080", Address("", 8080)),
    (8080, Address("", 8080)),
    ("8080", Address("", 8080)),
    ("gateway.local:1", Address("gateway.local", 1)),
    ("host:65536", "port must be between 1 and 65535, got 65536"),
    ("[::1]8080", 'must be "host:port", "[ipv6]:port", ":port" or a port number, got "[::1]8080"'),
    (True, 'must be "host:port", "[ipv6]:port", ":port" or a port number, got true'),
    ("-host:1", '"-host" is not a valid host name or address'),
])
def test_parse_address(value: object, expected: Address | str) -> None:
    assert parse_address(value) == expected


# -- the line locator ----------------------------------------------------


def test_locator_tricky_document() -> None:
    text = """\
top = 1
[[device]]
name = "a"
note = '''
[[device]]
name = "fake"
'''
cols = [
  "x", # a comment with = and [[device]]
  { inner = "}" },
]
"quoted.key" = "v # not a comment"
site.x = 1
[device.match]
vid = "0403"
[[device]]
  name = "b"
[[device.port]]
path = "/dev/x"
[[device.port]]
path = "/dev/y"
"""
    tomllib.loads(text)
    lines = locate(text)
    assert lines.exact(("top",)) == 1
    assert lines.exact(("device", 0)) == 2
    assert lines.exact(("device", 0, "name")) == 3
    assert lines.exact(("device", 0, "note")) == 4
    assert lines.exact(("device", 0, "cols", 1)) == 10
    assert lines.exact(("device", 0, "cols", 1, "inner")) == 10
    assert lines.exact(("device", 0, "quoted.key")) == 12
    assert lines.exact(("device", 0, "site", "x")) == 13
    assert lines.exact(("device", 0, "match", "vid")) == 15
    assert lines.exact(("device", 1, "name")) == 17
    assert lines.exact(("device", 1, "port", 1, "path")) == 21
    assert lines.line(("device", 1, "missing")) == 16  # falls back to the table header
    assert ("device", 2) not in lines


# Keys as written -> their path, including quoted and dotted keys.
_KEYS = [("alpha", ("alpha",)), ("beta", ("beta",)), ('"q.k"', ("q.k",)), ("site.x", ("site", "x")),
         ("site . y", ("site", "y"))]
# Values that contain things which look like headers, keys or comments.
_VALUES = ["1", "true", '"s"', "'lit'", "1979-05-27 07:32:00Z", "[1, 2]", '[\n  "a",\n  "b", # c = 1\n]',
           '"""\n[[arr]]\nalpha = 1\n"""', "'''\nx = [\n'''", '{ x = 1, y = "}" }', '"a # [t1]"',
           '"esc \\" ["', "[ { a = 1 }, { b = [2, 3] } ]", '"""two""""', '"""\\\n  [t2]\n"""']


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, dict[tuple[str | int, ...], int]]:
    lines: list[str] = []
    expected: dict[tuple[str | int, ...], int] = {}
    sections = draw(st.lists(st.sampled_from(["t1", "t2", "arr", "arr"]), max_size=6))
    seen: set[str] = set()
    arr_count = -1
    for name in [""] + sections:
        if name in seen and name != "arr":
            continue
        seen.add(name)
        if draw(st.booleans()):
            lines.append("# [comment] = 1" if draw(st.booleans()) else "")
        if name == "arr":
            arr_count += 1
            lines.append("[[arr]]")
            table: tuple[str | int, ...] = ("arr", arr_count)
        elif name:
            lines.append(f"[ {name} ]")
            table = (name,)
        else:
            table = ()
        for key, path in draw(st.lists(st.sampled_from(_KEYS), unique=True, max_size=4)):
            expected[table + path] = len(lines) + 1
            lines.extend(f"{key} = {draw(st.sampled_from(_VALUES))}".split("\n"))
    return "\n".join(lines) + "\n", expected


@given(documents())
def test_locator_agrees_with_generated_documents(doc: tuple[str, dict[tuple[str | int, ...], int]]) -> None:
    text, expected = doc
    tomllib.loads(text)  # the generator only writes valid TOML
    lines = locate(text)
    assert {path: lines.exact(path) for path in expected} == expected
