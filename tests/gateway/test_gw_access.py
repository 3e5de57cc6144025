"""``allow = [CIDR, ...]`` on a device's TCP listener and on ``[web]``, against a
running gateway: a client bound to 127.0.0.2 is refused when only 127.0.0.1 is
allowed (both are loopback), closed before a byte it sent is read, counted in
/metrics and logged once; 127.0.0.1 gets through.  The Modbus TCP listener
takes the same list.  Plus the config errors
(with line numbers) and the log limit with an injected clock.
"""

from __future__ import annotations

import json
import logging
import os
import select
import socket
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import modbus_harness as mh  # noqa: E402 (registered by this folder's conftest)
import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest
from mqtt_fixtures import free_port
from pymodbus.client import ModbusTcpClient

from gateway.access import AccessGuard, host_address, parse_network
from gateway.config import ConfigError, GatewayConfig, parse_config
from gateway.readings import check_profile
from gateway.socat import SocatPair

TIMEOUT = 10.0
pytestmark = pytest.mark.timeout(60)


def build(state_dir: Path, web: dict[str, Any] | None, *devices: dict[str, Any]) -> GatewayConfig:
    lines = ["[gateway]", 'name = "test"', f"state_dir = {json.dumps(str(state_dir))}", ""]
    if web is not None:
        lines.append("[web]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in web.items()]
    for device in devices:
        lines.append("[[device]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in device.items()]
        lines.append("")
    return parse_config("\n".join(lines), "<test>", check_profile=check_profile)


def client_from(source: str, port: int) -> socket.socket:
    """A TCP client to 127.0.0.1:port whose own address is ``source``."""
    sock = socket.socket()
    sock.settimeout(TIMEOUT)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def until(predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    """Wait for a counter the gateway's thread updates (no event says so)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def test_a_device_refuses_peers_outside_allow_unread_and_serves_those_inside(
        tmp_path: Path, pair: SocatPair, caplog: pytest.LogCaptureFixture) -> None:
    port, web_port = free_port(), free_port()
    config = build(tmp_path, {"listen": f"127.0.0.1:{web_port}"},
                   {"name": "dev", "port": str(pair.dev), "profile": "raw", "tcp": f"127.0.0.1:{port}",
                    "allow": ["127.0.0.1/32", "::1/128"]})
    caplog.set_level(logging.WARNING, logger="gateway.access")
    with fx.running_gateway(config, TIMEOUT) as (gateway, bus):
        bridge = gateway.bridges["dev"]
        outsiders = []
        for _ in range(3):
            outsider = client_from("127.0.0.2", port)
            outsider.sendall(b"evil\n")  # sent, never to be read
            outsiders.append(outsider)
        until(lambda: bridge.access.refused == 3, "three refusals")
        for outsider in outsiders:
            try:
                assert read_all(outsider) == b""
            except ConnectionResetError:
                pass  # closed with "evil" unread: the kernel answers with a reset
            outsider.close()
        insider = client_from("127.0.0.1", port)
        local = insider.getsockname()[1]
        bus.wait("client_connected", lambda d, peer, n: peer[1] == local)
        peer = pair.open_peer()
        try:
            insider.sendall(b"good\n")
            assert fx_read(peer, 5) == b"good\n"
            os.write(peer, b"hello\n")
            assert insider.recv(6) == b"hello\n"
        finally:
            os.close(peer)
            insider.close()
        # Nothing the outsiders sent reached the device, and only the insider connected.
        assert gateway.links["dev"].bytes_out == 5
        assert bridge.accepted == 1
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{web_port}/metrics", timeout=TIMEOUT).read().decode()
        assert 'gateway_connections_denied_total{device="dev",listener="tcp"} 3' in metrics
    refusals = [r for r in caplog.records if "refused a connection from 127.0.0.2" in r.getMessage()]
    assert len(refusals) == 1  # three refusals, one line


def fx_read(fd: int, size: int) -> bytes:
    deadline = time.monotonic() + TIMEOUT
    data = b""
    while len(data) < size:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"got {data!r}, wanted {size} bytes")
        data += os.read(fd, size - len(data))
    return data


def test_web_allow_closes_outsiders_before_http_and_serves_insiders(tmp_path: Path, pair: SocatPair) -> None:
    web_port = free_port()
    config = build(tmp_path, {"listen": f"127.0.0.1:{web_port}", "allow": ["127.0.0.1/32"]},
                   {"name": "dev", "port": str(pair.dev), "profile": "raw"})
    with fx.running_gateway(config, TIMEOUT) as (gateway, bus):
        outsider = client_from("127.0.0.2", web_port)
        assert read_all(outsider) == b""  # not even a 403: nothing at all
        outsider.close()
        assert gateway.web is not None
        until(lambda: gateway.web is not None and gateway.web.access.refused == 1, "the refusal counted")
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/metrics", timeout=TIMEOUT) as response:
            assert response.status == 200
            assert 'gateway_connections_denied_total{listener="web"} 1' in response.read().decode()


def test_refusals_are_logged_at_most_once_a_minute_per_address(caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    guard = AccessGuard("dev", [parse_network("10.0.0.0/8")], clock=lambda: now[0])  # type: ignore[list-item]
    caplog.set_level(logging.WARNING, logger="gateway.access")
    assert guard(("10.1.2.3", 5000))
    assert not guard(("192.168.1.5", 5000))
    now[0] += 59
    assert not guard(("192.168.1.5", 5001))
    assert not guard(("192.168.1.6", 5000))  # another address: its own line
    now[0] += 2
    assert not guard(("192.168.1.5", 5002))
    lines = [r.getMessage() for r in caplog.records]
    assert sum("192.168.1.5" in line for line in lines) == 2
    assert sum("192.168.1.6" in line for line in lines) == 1
    assert guard.refused == 4


def test_ipv4_mapped_peers_match_ipv4_networks() -> None:
    guard = AccessGuard("dev", [parse_network("192.168.1.0/24"), parse_network("::1/128")])  # type: ignore[list-item]
    assert guard.allows("::ffff:192.168.1.7")
    assert guard.allows("::1")
    assert not guard.allows("::ffff:10.0.0.1")
    assert not guard.allows("not an address")
    assert host_address("fe80::1%eth0") is not None


@pytest.mark.parametrize(("allow", "where", "message"), [
    ('["10.0.0.1/8"]', 7, "host bits set (did you mean 10.0.0.0/8?)"),
    ('["nonsense"]', 7, "is not an IP network"),
    ("[]", 7, "must list at least one network"),
    ('"10.0.0.0/8"', 7, "must be an array of strings"),
])
def test_bad_allow_lists_are_reported_with_their_line(allow: str, where: int, message: str) -> None:
    text = (f'[gateway]\nname = "t"\n\n[[device]]\nname = "d"\nport = "/dev/ttyX"\nallow = {allow}\n'
            'profile = "raw"\ntcp = 4000\n')
    with pytest.raises(ConfigError) as info:
        parse_config(text, "g.toml", check_profile=check_profile)
    assert f"g.toml:{where}" in str(info.value) and message in str(info.value)


def test_allow_needs_a_listener_and_web_allow_is_read() -> None:
    text = '[gateway]\nname = "t"\n[[device]]\nname = "d"\nport = "/dev/ttyX"\nprofile = "raw"\nallow = ["::1/128"]\n'
    with pytest.raises(ConfigError, match="only valid with tcp, rfc2217 or modbus_tcp"):
        parse_config(text, "g.toml", check_profile=check_profile)
    config = parse_config('[gateway]\nname = "t"\n[web]\nallow = ["192.168.0.0/16"]\n'
                          '[[device]]\nname = "d"\nport = "/dev/ttyX"\nprofile = "raw"\n', "g.toml")
    assert config.web is not None and [str(n) for n in config.web.allow or ()] == ["192.168.0.0/16"]


def test_a_modbus_tcp_listener_honours_allow(tmp_path: Path) -> None:
    port = free_port()
    with mh.rtu_bus(tmp_path) as (pair, _slave):
        text = "\n".join([
            "[gateway]", 'name = "test"', f"state_dir = {json.dumps(str(tmp_path / 'state'))}", "",
            "[[device]]", 'name = "bus"', f"port = {json.dumps(str(pair.dev))}", "baudrate = 115200",
            'profile = "modbus"', f'modbus_tcp = "127.0.0.1:{port}"', 'allow = ["127.0.0.1/32"]',
            "[device.modbus]", "timeout = 0.5", ""])
        config = parse_config(text, "<test>", check_profile=check_profile)
        with fx.running_gateway(config, TIMEOUT) as (gateway, bus):
            bus.wait("device_status", lambda d, status, detail: status == "online")
            outsider = client_from("127.0.0.2", port)
            outsider.sendall(bytes.fromhex("000100000006010300000001"))  # read holding 0
            try:
                assert read_all(outsider) == b""
            except ConnectionResetError:
                pass  # closed with the request unread
            outsider.close()
            guard = gateway.modbus["bus"].tcp.access
            until(lambda: guard.refused == 1, "the refusal counted")
            insider = ModbusTcpClient("127.0.0.1", port=port, timeout=5.0, retries=0)
            assert insider.connect()
            try:
                assert not insider.read_holding_registers(0, count=1, device_id=1).isError()
            finally:
                insider.close()


def test_an_rfc2217_listener_honours_allow(tmp_path: Path, pair: SocatPair) -> None:
    port = free_port()
    config = build(tmp_path, None, {"name": "dev", "port": str(pair.dev), "profile": "raw",
                                    "rfc2217": f"127.0.0.1:{port}", "allow": ["127.0.0.1/32"]})
    with fx.running_gateway(config, TIMEOUT) as (gateway, bus):
        outsider = client_from("127.0.0.2", port)
        assert read_all(outsider) == b""  # not even the Telnet negotiation an RFC 2217 client gets
        outsider.close()
        bridge = gateway.rfc2217["dev"]
        until(lambda: bridge.access is not None and bridge.access.refused == 1, "the refusal counted")
        insider = client_from("127.0.0.1", port)
        assert insider.recv(1) == b"\xff"  # IAC: the negotiation starts
        insider.close()
