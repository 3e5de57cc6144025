"""The hex view's stream over /ws, with a raw WebSocket client: nothing runs
until a page watches, a watcher gets the backlog and then the live bytes,
leaving stops it, and a watcher that does not read is dropped like any slow
WebSocket client while the device goes on."""

from __future__ import annotations

import base64
import json
import os
import select
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mqtt_fixtures as fx  # registered by this folder's conftest
import pytest

from circuits.protocols.websocket.frames import Opcode, build_frame
from gateway.config import GatewayConfig, parse_config
from gateway.readings import check_profile
from gateway.socat import SocatPair

pytestmark = pytest.mark.timeout(120)
TIMEOUT = 20.0


def make_config(tmp_path: Path, pair: SocatPair) -> GatewayConfig:
    text = f"""
[gateway]
name = "greenhouse"
state_dir = {json.dumps(str(tmp_path / "state"))}

[web]
listen = "127.0.0.1:{fx.free_port(0)}"

[[device]]
name = "thermo"
port = {json.dumps(str(pair.dev))}
profile = "keyvalue"
"""
    return parse_config(text, "<test>", check_profile=check_profile)


class RawWs:
    """A minimal client: the handshake, masked text frames out, unmasked frames in."""

    def __init__(self, address: tuple[str, int], rcvbuf: int | None = None) -> None:
        self.sock = socket.socket()
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(address)
        host, port = address
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                          .encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            assert chunk, "closed during the handshake"
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head

    def send(self, message: dict[str, Any]) -> None:
        self.sock.sendall(build_frame(Opcode.TEXT, json.dumps(message).encode(), masking_key=os.urandom(4)))

    def _need(self, n: int, deadline: float) -> None:
        while len(self.buf) < n:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            assert chunk, "the server closed the connection"
            self.buf += chunk

    def next_message(self, deadline: float) -> dict[str, Any]:
        self._need(2, deadline)
        n = self.buf[1] & 0x7F
        start = 2
        if n == 126:
            self._need(4, deadline)
            n, start = int.from_bytes(self.buf[2:4], "big"), 4
        elif n == 127:
            self._need(10, deadline)
            n, start = int.from_bytes(self.buf[2:10], "big"), 10
        self._need(start + n, deadline)
        payload, self.buf = self.buf[start:start + n], self.buf[start + n:]
        return json.loads(payload) if payload[:1] == b"{" else {}

    def wait_for(self, test: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            message = self.next_message(deadline)
            if test(message):
                return message
        raise AssertionError(f"no {what} within {TIMEOUT} s")

    def close(self) -> None:
        self.sock.close()


def wait_until(test: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {TIMEOUT} s")
        time.sleep(0.01)


def traffic_hex(message: dict[str, Any]) -> str:
    return "".join(hx for _, _, hx, _ in message.get("chunks", ())) if message.get("type") == "traffic" else ""


def test_the_stream_runs_only_while_a_page_watches(tmp_path: Path, pair: SocatPair) -> None:
    with fx.running_gateway(make_config(tmp_path, pair), TIMEOUT) as (gateway, _):
        assert gateway.web is not None
        ring = gateway.links["thermo"].traffic
        fd = pair.open_peer()
        ws = RawWs(gateway.web.address)
        try:
            os.write(fd, b"temp=1\n")
            wait_until(lambda: ring.statistics()["rx"] == 7, "the ring records")
            assert ring.listener is None  # connected, not watching: nothing streams
            ws.send({"type": "watch", "device": "thermo"})
            backlog = ws.wait_for(lambda m: m.get("type") == "traffic", "backlog")
            assert backlog["backlog"] is True and traffic_hex(backlog) == b"temp=1\n".hex()
            assert backlog["chunks"][0][1] == "rx"
            os.write(fd, b"temp=2\n")
            live = ws.wait_for(lambda m: b"temp=2".hex() in traffic_hex(m), "live bytes")
            assert live["backlog"] is False
            ws.send({"type": "watch", "device": "nosuch"})
            ws.wait_for(lambda m: m.get("type") == "traffic_error", "an error for an unknown device")
            assert ring.listener is not None  # a bad request loses nothing: still watching thermo
            ws.send({"type": "unwatch"})
            wait_until(lambda: ring.listener is None, "unwatch")
            ws.send({"type": "watch", "device": "thermo"})
            ws.wait_for(lambda m: m.get("backlog") is True, "the backlog again")
            assert ring.listener is not None
        finally:
            ws.close()
            os.close(fd)
        # The page went away: the ring records on, and nothing else runs.
        wait_until(lambda: ring.listener is None, "the watch ends with the connection")
        assert gateway.web.traffic.statistics()["watching"] == {}


def test_a_watcher_that_does_not_read_is_dropped_and_the_device_goes_on(tmp_path: Path, pair: SocatPair) -> None:
    with fx.running_gateway(make_config(tmp_path, pair), TIMEOUT, ws_send_buffer=64 * 1024) as (gateway, _):
        assert gateway.web is not None
        ring = gateway.links["thermo"].traffic
        slow = RawWs(gateway.web.address, rcvbuf=4096)
        fd = pair.open_peer()
        try:
            slow.send({"type": "watch", "device": "thermo"})
            wait_until(lambda: ring.listener is not None, "the watch")
            line = b"n=1 pad=" + b"x" * 1000 + b"\n"
            deadline = time.monotonic() + TIMEOUT
            # Written until the dispatcher gives up on the reader that never reads.
            while gateway.web.ws.dropped_slow == 0:
                assert time.monotonic() < deadline, "the slow watcher was never dropped"
                _, writable, _ = select.select([], [fd], [], 0.5)
                if writable:
                    try:
                        os.write(fd, line * 4)
                    except BlockingIOError:
                        pass
            wait_until(lambda: ring.listener is None, "the dropped watcher's watch ends")
            before = gateway.links["thermo"].readings.stats.successes
            os.write(fd, b"n=2\n")
            wait_until(lambda: gateway.links["thermo"].readings.stats.successes > before, "readings go on")
        finally:
            slow.close()
            os.close(fd)


def test_the_ring_exists_only_once_a_dashboard_could_show_it(tmp_path: Path, pair: SocatPair) -> None:
    # Without [web] nobody can read the hex view, and recording is a good
    # part of a bridged echo's work: no ring. A dashboard started later (a
    # reload that adds [web]) gets rings that record from then on.
    from gateway.app import Gateway
    from gateway.sdnotify import SystemdNotifier

    with_web = make_config(tmp_path, pair)
    without = parse_config(f"""
[gateway]
name = "greenhouse"
state_dir = {json.dumps(str(tmp_path / "state"))}

[[device]]
name = "thermo"
port = {json.dumps(str(pair.dev))}
profile = "keyvalue"
""", "<test>", check_profile=check_profile)
    gateway = Gateway(without, notifier=SystemdNotifier({}))
    try:
        link = gateway.links["thermo"]
        assert link.traffic is None
        link.take(b"temp=1\n")  # bytes are still counted and parsed
        assert link.bytes_in == 7
        gateway.start_web(with_web)
        ring = link.traffic
        assert ring is not None and len(ring) == 0
        link.take(b"temp=2\n")
        assert [c.data for c in ring] == [b"temp=2\n"] and ring.statistics()["rx"] == 7
        assert link.keep_traffic() is ring  # one ring, not a new one per dashboard start
    finally:
        gateway.stop_web()
        gateway.close()
        gateway.loop.close()
