"""``tcp_mode`` against a running gateway with a socat pair: ``one-writer`` lets
the first client write and the others only read until it leaves (then the
longest-connected one takes over); ``read-only`` lets nobody write, and what
they send is discarded and counted; ``max_clients`` still refuses.
"""

from __future__ import annotations

import json
import os
import select
import socket
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest
from mqtt_fixtures import free_port
from ptyio import read_fd

from gateway.config import ConfigError, GatewayConfig, parse_config
from gateway.readings import check_profile
from gateway.socat import SocatPair

TIMEOUT = 10.0
pytestmark = pytest.mark.timeout(60)


def build(state_dir: Path, web_port: int, device: dict[str, Any]) -> GatewayConfig:
    lines = ["[gateway]", 'name = "test"', f"state_dir = {json.dumps(str(state_dir))}", "",
             "[web]", f'listen = "127.0.0.1:{web_port}"', "", "[[device]]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in device.items()]
    return parse_config("\n".join(lines), "<test>", check_profile=check_profile)


def until(predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def connect(port: int, bus: fx.BusLog) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    local = sock.getsockname()[1]
    bus.wait("client_connected", lambda d, peer, n: peer[1] == local)
    return sock


def test_one_writer_lets_the_first_client_write_and_hands_over_when_it_leaves(
        tmp_path: Path, pair: SocatPair) -> None:
    port, web_port = free_port(0), free_port(0)
    config = build(tmp_path, web_port, {"name": "dev", "port": str(pair.dev), "profile": "raw",
                                        "tcp": f"127.0.0.1:{port}", "tcp_mode": "one-writer", "max_clients": 3})
    with fx.running_gateway(config, TIMEOUT) as (gateway, bus):
        bridge, link = gateway.bridges["dev"], gateway.links["dev"]
        first, second, third = (connect(port, bus) for _ in range(3))
        extra = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        bus.wait("client_disconnected", lambda d, peer, reason, n: reason == "max_clients")
        assert extra.recv(10) == b""  # max_clients still refuses
        extra.close()
        peer = pair.open_peer()
        try:
            second.sendall(b"from second\n")
            third.sendall(b"from third\n")
            until(lambda: bridge.discarded == 23, "the readers' bytes discarded")
            first.sendall(b"from first\n")
            assert read_fd(peer, 11) == b"from first\n"
            os.write(peer, b"to all\n")
            for client in (first, second, third):
                assert fx.read_exactly(client, 7) == b"to all\n"
            first.close()
            bus.wait("client_disconnected", lambda d, peer, reason, n: n == 2)
            second.sendall(b"second now\n")  # connected longest: the writer now
            assert read_fd(peer, 11) == b"second now\n"
            third.sendall(b"still not\n")
            until(lambda: bridge.discarded == 33, "the reader's bytes discarded")
            assert link.bytes_out == 22  # only the writers' bytes reached the device
            host, local = second.getsockname()
            assert bridge.statistics()["writer"] == f"{host}:{local}"
        finally:
            os.close(peer)
            second.close()
            third.close()


def test_read_only_writes_nothing_to_the_device_and_counts_what_it_discards(
        tmp_path: Path, pair: SocatPair) -> None:
    port, web_port = free_port(0), free_port(0)
    config = build(tmp_path, web_port, {"name": "dev", "port": str(pair.dev), "profile": "raw",
                                        "tcp": f"127.0.0.1:{port}", "tcp_mode": "read-only"})
    with fx.running_gateway(config, TIMEOUT) as (gateway, bus):
        bridge, link = gateway.bridges["dev"], gateway.links["dev"]
        clients = [connect(port, bus) for _ in range(2)]
        peer = pair.open_peer()
        try:
            for client in clients:
                client.sendall(b"write me\n")
            until(lambda: bridge.discarded == 18, "both clients' bytes discarded")
            os.write(peer, b"reading is fine\n")
            for client in clients:
                assert fx.read_exactly(client, 16) == b"reading is fine\n"
            assert link.bytes_out == 0 and link.dropped_to_device == 0
            assert not select.select([peer], [], [], 0)[0]  # nothing arrived at the device
            metrics = urllib.request.urlopen(f"http://127.0.0.1:{web_port}/metrics",
                                             timeout=TIMEOUT).read().decode()
            assert 'gateway_tcp_discarded_bytes_total{device="dev"} 18' in metrics
        finally:
            os.close(peer)
            for client in clients:
                client.close()


@pytest.mark.parametrize(("lines", "message"), [
    ('tcp = 4000\ntcp_mode = "single"\n', '<t>:8: [device "d"] tcp_mode: must be one of shared, one-writer, read-only'),
    ('tcp_mode = "read-only"\n', '<t>:7: [device "d"] tcp_mode: only valid with tcp'),
])
def test_bad_tcp_modes_are_reported_with_their_line(lines: str, message: str) -> None:
    text = f'[gateway]\nname = "t"\n\n[[device]]\nname = "d"\nport = "/dev/ttyX"\n{lines}profile = "raw"\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text, "<t>", check_profile=check_profile)
    assert message in str(info.value)
