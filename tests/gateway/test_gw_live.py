"""The gateway in-process against socat pairs: the TCP bridge both ways,
several clients, a slow client dropped while a fast one keeps up,
max_clients, unplug/replug with clients staying connected (via inotify and
via the retry timer), status events, parse errors that never stop the
readings, sequence numbers across restarts, and UDP datagrams.

The gateway runs on its own thread; tests wait for its public events (or
for bytes on real sockets) with deadlines, never by sleeping.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest
from mqtt_fixtures import free_port
from ptyio import read_fd, write_fd

from gateway.app import Gateway
from gateway.backoff import Backoff
from gateway.config import GatewayConfig, parse_config
from gateway.readings import check_profile
from gateway.socat import SocatPair

TIMEOUT = 10.0

pytestmark = pytest.mark.timeout(60)


# -- harness -------------------------------------------------------------------


def config_for(state_dir: Path, *devices: dict[str, Any]) -> GatewayConfig:
    lines = ["[gateway]", 'name = "test"', f"state_dir = {json.dumps(str(state_dir))}", ""]
    for device in devices:
        lines.append("[[device]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in device.items()]
        lines.append("")
    return parse_config("\n".join(lines), "<test>", check_profile=check_profile)


def running(config: GatewayConfig, **kwargs: Any) -> AbstractContextManager[tuple[Gateway, fx.BusLog]]:
    return fx.running_gateway(config, TIMEOUT, **kwargs)


def connect(port: int, bus: fx.BusLog, count: int, **options: int) -> socket.socket:
    """A client the gateway has registered (its ``client_connected`` came)."""
    sock = socket.socket()
    for level_name, value in options.items():
        sock.setsockopt(socket.SOL_SOCKET, getattr(socket, level_name), value)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", port))
    local = sock.getsockname()[1]
    bus.wait("client_connected", lambda d, peer, n: peer[1] == local)
    return sock


# -- the TCP bridge --------------------------------------------------------------


def test_bytes_flow_both_ways_between_the_device_and_several_clients(tmp_path: Path, pair: SocatPair) -> None:
    port = free_port(0)
    config = config_for(tmp_path, {"name": "dev", "port": str(pair.dev), "profile": "raw",
                                   "tcp": f"127.0.0.1:{port}"})
    with running(config) as (gateway, bus):
        assert bus.wait("device_status")[0][1] == "online"
        clients = [connect(port, bus, i + 1) for i in range(3)]
        peer = pair.open_peer()
        try:
            write_fd(peer, b"hello clients\n")
            for client in clients:
                assert fx.read_exactly(client, 14) == b"hello clients\n"
            for i, client in enumerate(clients):
                client.sendall(f"from {i}\n".encode())
                assert read_fd(peer, 7) == f"from {i}\n".encode()
        finally:
            os.close(peer)
            for client in clients:
                client.close()
        assert gateway.links["dev"].bytes_out == 21


def test_a_slow_client_is_dropped_while_a_fast_one_gets_everything(tmp_path: Path, pair: SocatPair) -> None:
    port = free_port(0)
    config = config_for(tmp_path, {"name": "dev", "port": str(pair.dev), "profile": "raw",
                                   "tcp": f"127.0.0.1:{port}", "client_buffer": 65536})
    payload = os.urandom(1 << 20) * 8  # 8 MiB: far more than the slow client's buffers
    with running(config) as (gateway, bus):
        slow = connect(port, bus, 1, SO_RCVBUF=4096)  # never reads
        fast = connect(port, bus, 2)
        peer = pair.open_peer()
        writer = threading.Thread(target=write_fd, args=(peer, payload, 30.0))
        digest = hashlib.sha256()
        received = 0
        try:
            writer.start()
            while received < len(payload):
                chunk = fast.recv(1 << 16)
                assert chunk, "the fast client was disconnected"
                digest.update(chunk)
                received += len(chunk)
            writer.join()
        finally:
            os.close(peer)
        assert digest.digest() == hashlib.sha256(payload).digest()
        slow_port = slow.getsockname()[1]
        dropped = bus.wait("client_disconnected", lambda d, peer, reason, n: peer[1] == slow_port)
        assert dropped[0][2] == "too slow"
        assert gateway.bridges["dev"].dropped_slow == 1
        assert list(gateway.bridges["dev"].clients.values()) == [fast.getsockname()]
        slow.close()
        fast.close()


def test_a_client_faster_than_the_device_is_paused_and_nothing_is_dropped(tmp_path: Path, pair: SocatPair) -> None:
    # The device side reads nothing at first: the pty and socat fill, the
    # gateway's write queue grows past the high-water mark and the client
    # must be paused (TCP backpressure) instead of the queue overflowing
    # its 1 MiB limit and dropping the rest. Then every byte must arrive, in order.
    port = free_port(0)
    config = config_for(tmp_path, {"name": "dev", "port": str(pair.dev), "profile": "raw",
                                   "tcp": f"127.0.0.1:{port}"})
    payload = os.urandom(4 << 20)
    with running(config) as (gateway, bus):
        client = connect(port, bus, 1)
        peer = pair.open_peer()
        sender = threading.Thread(target=client.sendall, args=(payload,), daemon=True)
        try:
            sender.start()
            bridge = gateway.bridges["dev"]
            deadline = time.monotonic() + TIMEOUT
            while bridge.paused == 0:  # state of the gateway, polled with a deadline
                assert time.monotonic() < deadline, f"never paused; {gateway.links['dev'].statistics()}"
                time.sleep(0.01)
            got = read_fd(peer, len(payload), 40)
            sender.join(TIMEOUT)
        finally:
            os.close(peer)
            client.close()
        assert hashlib.sha256(got).digest() == hashlib.sha256(payload).digest()
        link = gateway.links["dev"]
        assert (link.dropped_to_device, link.serial.dropped) == (0, 0)
        assert bridge.statistics()["paused_for_device"] >= 1


def test_max_clients_refuses_the_extra_client_and_keeps_the_first(tmp_path: Path, pair: SocatPair) -> None:
    port = free_port(0)
    config = config_for(tmp_path, {"name": "dev", "port": str(pair.dev), "profile": "raw",
                                   "tcp": f"127.0.0.1:{port}", "max_clients": 1})
    with running(config) as (gateway, bus):
        first = connect(port, bus, 1)
        extra = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        bus.wait("client_disconnected", lambda d, peer, reason, n: reason == "max_clients")
        assert extra.recv(10) == b""  # closed by the gateway
        peer = pair.open_peer()
        try:
            write_fd(peer, b"still here\n")
            assert fx.read_exactly(first, 11) == b"still here\n"
        finally:
            os.close(peer)
        assert gateway.bridges["dev"].refused == 1
        first.close()
        extra.close()


def test_a_client_retrying_past_max_clients_is_logged_once_and_counted_each_time(
        tmp_path: Path, pair: SocatPair, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port(0)
    config = config_for(tmp_path, {"name": "dev", "port": str(pair.dev), "profile": "raw",
                                   "tcp": f"127.0.0.1:{port}", "max_clients": 1})
    with caplog.at_level(logging.WARNING, logger="gateway.bridge"), running(config) as (gateway, bus):
        first = connect(port, bus, 1)
        for attempt in range(1, 6):
            extra = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
            bus.wait("client_disconnected", lambda d, peer, reason, n: reason == "max_clients", count=attempt)
            assert extra.recv(10) == b""
            extra.close()
        assert gateway.bridges["dev"].refused == 5
        first.close()
    refusals = [r for r in caplog.records if "max_clients (1) reached" in r.getMessage()]
    assert len(refusals) == 1


# -- unplug, replug, hot-plug ------------------------------------------------------


def _exchange(peer_pair: SocatPair, clients: list[socket.socket], text: bytes) -> None:
    """Device -> every client, and one client -> device."""
    peer = peer_pair.open_peer()
    try:
        write_fd(peer, text)
        for client in clients:
            assert fx.read_exactly(client, len(text)) == text
        clients[0].sendall(text.upper())
        assert read_fd(peer, len(text)) == text.upper()
    finally:
        os.close(peer)


@pytest.mark.parametrize("hotplug", [True, False], ids=["inotify", "retry-timer"])
def test_unplug_keeps_clients_connected_and_replug_resumes_the_data(tmp_path: Path, pair: SocatPair,
                                                                     hotplug: bool) -> None:
    port = free_port(0)
    config = config_for(tmp_path, {"name": "dev", "port": str(pair.dev), "profile": "raw",
                                   "tcp": f"127.0.0.1:{port}"})
    # With inotify the retry timer is pushed out of reach, so only the
    # hot-plug event can explain a quick reopen; without it, short retries.
    backoff = (lambda: Backoff(60.0, 60.0)) if hotplug else (lambda: Backoff(0.05, 0.2))
    with running(config, hotplug=hotplug, backoff=backoff) as (gateway, bus):
        clients = [connect(port, bus, i + 1) for i in range(2)]
        _exchange(pair, clients, b"before unplug\n")

        pair.unplug()
        offline = bus.wait("device_status", lambda d, status, detail: status == "offline")
        assert offline[0][0] == "dev"
        assert "client_disconnected" not in bus.names()
        clients[1].sendall(b"while offline\n")  # dropped and counted, not fatal

        replugged = time.monotonic()
        pair.replug()
        bus.wait("device_status", lambda d, status, detail: status == "online", count=2)
        assert time.monotonic() - replugged < 5.0
        _exchange(pair, clients, b"after replug\n")
        assert "client_disconnected" not in bus.names()
        statuses = [a[1] for n, a in bus.events if n == "device_status"]
        assert statuses == ["online", "offline", "online"]
        assert gateway.links["dev"].opens == 2
        assert gateway.links["dev"].dropped_to_device == len(b"while offline\n")
        for client in clients:
            client.close()


def test_a_device_missing_at_start_is_offline_and_opens_when_it_appears(tmp_path: Path) -> None:
    pair = SocatPair(tmp_path / "later", "dev")
    (tmp_path / "later").mkdir()
    port = free_port(0)
    config = config_for(tmp_path, {"name": "dev", "port": str(pair.dev), "profile": "raw",
                                   "tcp": f"127.0.0.1:{port}"})
    with running(config, backoff=lambda: Backoff(60.0, 60.0)) as (gateway, bus):
        # Ready although the device is missing: the listener is up and the
        # status says which device is not there.
        assert gateway.readiness.summary() == "0/1 devices online; offline: dev"
        assert "not found" in bus.wait("device_status")[0][2]
        client = connect(port, bus, 1)
        pair.start()
        try:
            bus.wait("device_status", lambda d, status, detail: status == "online")
            _exchange(pair, [client], b"first words\n")
        finally:
            pair.unplug()
            client.close()


# -- readings --------------------------------------------------------------------


def test_parse_errors_are_counted_and_logged_once_per_burst_without_stopping_readings(
        tmp_path: Path, pair: SocatPair, caplog: pytest.LogCaptureFixture) -> None:
    config = config_for(tmp_path, {"name": "env", "port": str(pair.dev), "profile": "keyvalue"})
    caplog.set_level(logging.WARNING, logger="gateway.readings")
    with running(config) as (gateway, bus):
        peer = pair.open_peer()
        try:
            write_fd(peer, b"temp=20.5 hum=40\r\n")
            garbage = b"".join(b"\x00\xff garbage %d no pairs\r\n" % i for i in range(50))
            write_fd(peer, garbage + b"x" * 100_000 + b"\r\n" + b"temp=21.0 hum=41\r\n")
            readings = [a[0] for a in bus.wait("reading", count=2)]
        finally:
            os.close(peer)
        assert [r["fields"] for r in readings] == [{"temp": 20.5, "hum": 40}, {"temp": 21.0, "hum": 41}]
        assert [r["seq"] for r in readings] == [1, 2]
        stats = gateway.links["env"].readings.statistics()
        assert stats["failures"] == 51 and stats["framer_dropped"] == 1 and stats["successes"] == 2
        assert stats["bursts"] == 1
        warnings = [r for r in caplog.records if r.name == "gateway.readings"]
        assert len(warnings) == 1 and "env: cannot parse" in warnings[0].getMessage()


def test_the_link_hands_each_chunk_to_the_bridge_then_the_framer(
        tmp_path: Path, pair: SocatPair, caplog: pytest.LogCaptureFixture) -> None:
    # One ``read`` consumer per device: the link calls what is attached (the
    # bridge first, since it attached first) with each chunk before parsing
    # it, and a consumer that raises costs neither the bridge nor the readings.
    port = free_port(0)
    config = config_for(tmp_path, {"name": "env", "port": str(pair.dev), "profile": "keyvalue",
                                   "tcp": f"127.0.0.1:{port}"})
    with running(config) as (gateway, bus):
        link, bridge = gateway.links["env"], gateway.bridges["env"]
        seen: list[tuple[bytes, int]] = []

        def recorder(chunk: bytes) -> None:
            seen.append((chunk, link.readings.stats.successes))

        def broken(chunk: bytes) -> None:
            raise RuntimeError("a buggy consumer")

        link.attach(broken)
        link.attach(recorder)
        link.attach(recorder)  # attaching twice changes nothing
        assert link._consumers == [bridge.device_data, broken, recorder]
        client = connect(port, bus, 1)
        peer = pair.open_peer()
        try:
            write_fd(peer, b"temp=20.5\r\n")
            assert fx.read_exactly(client, 11) == b"temp=20.5\r\n"
            (first,), = bus.wait("reading")
        finally:
            os.close(peer)
            client.close()
        assert first["fields"] == {"temp": 20.5}
        # The recorder ran before the framer had made the reading of its chunk.
        assert b"".join(chunk for chunk, _ in seen) == b"temp=20.5\r\n" and seen[0][1] == 0
        assert any("a buggy consumer" in (r.exc_text or "") or r.exc_info for r in caplog.records
                   if r.name == "gateway.device")
        link.detach(broken)
        link.detach(broken)  # unknown: ignored
        assert link._consumers == [bridge.device_data, recorder]


def test_sequence_numbers_continue_across_restarts(tmp_path: Path, pair: SocatPair) -> None:
    config = config_for(tmp_path, {"name": "env", "port": str(pair.dev), "profile": "keyvalue"})
    seen: list[int] = []
    for run in range(2):
        with running(config) as (gateway, bus):
            peer = pair.open_peer()
            try:
                write_fd(peer, b"".join(b"n=%d\r\n" % (run * 10 + i) for i in range(3)))
                seen += [a[0]["seq"] for a in bus.wait("reading", count=3)]
            finally:
                os.close(peer)
    assert seen == [1, 2, 3, 4, 5, 6]


def test_each_reading_is_sent_as_a_json_datagram(tmp_path: Path, pair: SocatPair) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(TIMEOUT)
    config = config_for(tmp_path, {"name": "meter", "port": str(pair.dev), "profile": "csv",
                                   "columns": ["volts", "amps"],
                                   "udp": f"127.0.0.1:{listener.getsockname()[1]}"})
    with running(config) as (gateway, bus):
        peer = pair.open_peer()
        try:
            write_fd(peer, b"230.1,0.5\r\n230.4,0.7\r\n")
            datagrams = [json.loads(listener.recv(65536)) for _ in range(2)]
        finally:
            os.close(peer)
            listener.close()
    assert [d["fields"] for d in datagrams] == [{"volts": 230.1, "amps": 0.5}, {"volts": 230.4, "amps": 0.7}]
    assert [d["seq"] for d in datagrams] == [1, 2]
    assert all(d["device"] == "meter" and abs(d["ts"] - time.time()) < 60 for d in datagrams)
