"""Modbus TCP -> RTU through the gateway, with real peers on both sides.

pymodbus's RTU server (``modbus_slave.py``) is the slave on one end of a
socat pty pair; the gateway is the master on the other end and serves
``modbus_tcp``; pymodbus's TCP client (or a raw socket, where a test needs
bytes pymodbus would not send) is the client.
"""

from __future__ import annotations

import asyncio
import os
import random
import select
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import modbus_harness as mh  # registered by this folder's conftest
import mqtt_fixtures as fx
import pytest
from pymodbus.client import AsyncModbusTcpClient, ModbusTcpClient

from circuits.protocols.modbus import encode_frame
from gateway.app import Gateway
from gateway.socat import SocatPair

pytestmark = pytest.mark.timeout(120)

GATEWAY_PATH_UNAVAILABLE, GATEWAY_TARGET_FAILED, SERVER_BUSY, ILLEGAL_ADDRESS = 0x0A, 0x0B, 0x06, 0x02


@pytest.fixture
def gateway(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Gateway, fx.BusLog, int]]:
    """The gateway serving Modbus TCP on a free port; ``modbus`` keys from the test's marker."""
    marker = request.node.get_closest_marker("modbus")
    modbus = marker.args[0] if marker else "timeout = 0.5"
    port = fx.free_port()
    with mh.rtu_bus(tmp_path) as (pair, _slave):
        config = mh.modbus_config(tmp_path / "state", pair.dev, modbus_tcp=port, modbus=modbus)
        with fx.running_gateway(config, mh.TIMEOUT) as (gw, bus):
            bus.wait("device_status", lambda d, status, detail: status == "online")
            yield gw, bus, port


def client(port: int, timeout: float = 5.0) -> ModbusTcpClient:
    c = ModbusTcpClient("127.0.0.1", port=port, timeout=timeout, retries=0)
    assert c.connect()
    return c


def test_every_function_code(gateway: tuple[Gateway, fx.BusLog, int]) -> None:
    _, _, port = gateway
    c = client(port)
    try:
        assert c.read_coils(0, count=7, device_id=1).bits[:7] == [i % 3 == 0 for i in range(7)]
        assert c.read_discrete_inputs(3, count=4, device_id=1).bits[:4] == [False, True, False, True]
        assert c.read_holding_registers(10, count=5, device_id=1).registers == [10, 11, 12, 13, 14]
        assert c.read_input_registers(0, count=3, device_id=2).registers == [1000, 1001, 1002]
        assert not c.write_coil(1, True, device_id=1).isError()
        assert not c.write_register(20, 4242, device_id=1).isError()
        assert not c.write_coils(30, [True, False, True], device_id=1).isError()
        assert not c.write_registers(40, [7, 8, 9], device_id=2).isError()
        rw = c.readwrite_registers(read_address=40, read_count=3, write_address=50, values=[5, 6],
                                   device_id=2)
        assert rw.registers == [7, 8, 9]
        # Read back what was written, each from the unit it went to.
        assert c.read_coils(0, count=3, device_id=1).bits[:3] == [True, True, False]
        assert c.read_holding_registers(20, count=1, device_id=1).registers == [4242]
        assert c.read_coils(30, count=3, device_id=1).bits[:3] == [True, False, True]
        assert c.read_holding_registers(50, count=2, device_id=2).registers == [5, 6]
        assert c.read_holding_registers(40, count=1, device_id=1).registers == [40]  # unit 1 untouched
    finally:
        c.close()


def test_device_exception_passes_through(gateway: tuple[Gateway, fx.BusLog, int]) -> None:
    _, _, port = gateway
    c = client(port)
    try:
        answer = c.read_holding_registers(250, count=2, device_id=1)
        assert answer.isError() and answer.exception_code == ILLEGAL_ADDRESS
        assert c.read_holding_registers(5, count=1, device_id=1).registers == [5]
    finally:
        c.close()


def test_absent_unit_times_out_and_the_next_request_is_served(gateway: tuple[Gateway, fx.BusLog, int]) -> None:
    gw, _, port = gateway
    c = client(port)
    try:
        started = time.monotonic()
        answer = c.read_holding_registers(0, count=1, device_id=9)
        elapsed = time.monotonic() - started
        assert answer.isError() and answer.exception_code == GATEWAY_TARGET_FAILED
        assert elapsed >= 0.5  # the configured timeout was waited for, not cut short
        assert c.read_holding_registers(7, count=2, device_id=1).registers == [7, 8]
        assert gw.modbus["bus"].master.counts[(9, "timeout")] == 1
    finally:
        c.close()


def test_a_timeout_after_answered_requests_waits_the_whole_timeout(
        gateway: tuple[Gateway, fx.BusLog, int]) -> None:
    """The timeout timer stays armed across answers (master: one timer, not
    one per request): answered requests for longer than half the timeout
    leave it due while the absent unit's request is on the bus, and that
    request still gets its whole timeout."""
    gw, _, port = gateway
    c = client(port)
    try:
        first = time.monotonic()
        i = 0
        while time.monotonic() - first < 0.3:
            assert c.read_holding_registers(i % 100, count=1, device_id=1).registers == [i % 100]
            i += 1
        started = time.monotonic()
        answer = c.read_holding_registers(0, count=1, device_id=9)
        assert time.monotonic() - started >= 0.5
        assert answer.isError() and answer.exception_code == GATEWAY_TARGET_FAILED
        assert c.read_holding_registers(7, count=2, device_id=1).registers == [7, 8]
        assert gw.modbus["bus"].master.counts[(9, "timeout")] == 1
    finally:
        c.close()


def test_five_clients_200_requests_each_all_matched(gateway: tuple[Gateway, fx.BusLog, int]) -> None:
    _, _, port = gateway

    async def one(index: int) -> list[str]:
        c = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=10, retries=0)
        assert await c.connect()
        wrong = []
        try:
            for i in range(200):
                unit, address, count = 1 + (i + index) % 2, (i * 7 + index) % 190, 1 + (i + index) % 10
                table = (i + index) % 2
                if table:
                    got = (await c.read_input_registers(address, count=count, device_id=unit)).registers
                    want = [1000 + a for a in range(address, address + count)]
                else:
                    got = (await c.read_holding_registers(address, count=count, device_id=unit)).registers
                    want = list(range(address, address + count))
                if got != want:
                    wrong.append(f"client {index} request {i}: {got} != {want}")
        finally:
            c.close()
        return wrong

    async def all_clients() -> list[list[str]]:
        return await asyncio.gather(*(one(i) for i in range(5)))

    results = asyncio.run(all_clients())
    assert [w for ws in results for w in ws] == []


# -- raw sockets: what pymodbus's client would not send ---------------------------


def adu(transaction: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", transaction, 0, len(pdu) + 1, unit) + pdu


def read_answer(sock: socket.socket) -> tuple[int, int, bytes]:
    head = fx.read_exactly(sock, 7)
    transaction, protocol, length, unit = struct.unpack(">HHHB", head)
    assert protocol == 0
    return transaction, unit, fx.read_exactly(sock, length - 1)


def raw_client(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=mh.TIMEOUT)
    return sock


def read_holding(address: int, count: int) -> bytes:
    return struct.pack(">BHH", 3, address, count)


@pytest.mark.modbus("timeout = 0.3\nqueue = 2")
def test_full_queue_answers_busy_and_pipelined_answers_keep_their_ids(
        gateway: tuple[Gateway, fx.BusLog, int]) -> None:
    _, _, port = gateway
    with raw_client(port) as sock:
        # Four at once to an absent unit: two wait for the bus (queue = 2,
        # the first may already be on the wire), the rest are refused.
        sock.sendall(b"".join(adu(100 + i, 9, read_holding(0, 1)) for i in range(5)))
        answers = {}
        for _ in range(5):
            transaction, unit, pdu = read_answer(sock)
            answers[transaction] = (unit, pdu)
        codes = sorted(pdu[1] for _, pdu in answers.values())
        assert set(answers) == {100, 101, 102, 103, 104}
        assert all(unit == 9 and pdu[0] == 0x83 for unit, pdu in answers.values())
        assert SERVER_BUSY in codes and GATEWAY_TARGET_FAILED in codes
        assert codes.count(GATEWAY_TARGET_FAILED) in (2, 3)
        # Still usable afterwards.
        sock.sendall(adu(7, 1, read_holding(3, 2)))
        assert read_answer(sock) == (7, 1, bytes([3, 4, 0, 3, 0, 4]))


def test_broadcast_is_sent_and_not_answered(gateway: tuple[Gateway, fx.BusLog, int]) -> None:
    _, _, port = gateway
    with raw_client(port) as sock:
        write = struct.pack(">BHH", 6, 60, 0x1234)
        sock.sendall(adu(1, 0, write) + adu(2, 1, read_holding(60, 1)) + adu(3, 2, read_holding(60, 1)))
        # The first answer is the read's: nothing answers a broadcast.
        assert read_answer(sock) == (2, 1, bytes([3, 2, 0x12, 0x34]))
        assert read_answer(sock) == (3, 2, bytes([3, 2, 0x12, 0x34]))


def test_requests_the_gateway_answers_itself(gateway: tuple[Gateway, fx.BusLog, int]) -> None:
    _, _, port = gateway
    with raw_client(port) as sock:
        sock.sendall(adu(1, 1, bytes([0x2B, 0x0E, 1, 0])))  # no RTU framing for function 43
        assert read_answer(sock) == (1, 1, bytes([0xAB, 0x01]))
        sock.sendall(adu(2, 1, read_holding(0, 126)))  # more than 125 registers
        assert read_answer(sock) == (2, 1, bytes([0x83, 0x03]))
        sock.sendall(adu(3, 250, read_holding(0, 1)))  # no such unit on a serial line
        assert read_answer(sock) == (3, 250, bytes([0x83, GATEWAY_PATH_UNAVAILABLE]))
        sock.sendall(adu(4, 0, read_holding(0, 1)))  # a read cannot be broadcast
        assert read_answer(sock) == (4, 0, bytes([0x83, GATEWAY_PATH_UNAVAILABLE]))


@pytest.mark.parametrize("garbage", [
    struct.pack(">HHHB", 1, 0x1234, 6, 1) + read_holding(0, 1),  # protocol id not 0
    struct.pack(">HHHB", 1, 0, 300, 1) + bytes(299),  # length past 254
    struct.pack(">HHHB", 1, 0, 1, 1),  # length without a function code
], ids=["protocol", "too-long", "too-short"])
def test_a_misbehaving_client_is_closed_alone(gateway: tuple[Gateway, fx.BusLog, int], garbage: bytes) -> None:
    gw, _, port = gateway
    good = client(port)
    try:
        assert good.read_holding_registers(1, count=1, device_id=1).registers == [1]
        with raw_client(port) as bad:
            bad.sendall(garbage)
            assert bad.recv(100) == b""  # closed by the gateway, nothing answered
        assert good.read_holding_registers(2, count=1, device_id=1).registers == [2]
        assert gw.modbus["bus"].tcp.closed_bad == 1  # type: ignore[union-attr]
    finally:
        good.close()


def test_garbage_on_the_bus_is_skipped(tmp_path: Path) -> None:
    port = fx.free_port()
    with mh.rtu_bus(tmp_path) as (pair, _slave):
        config = mh.modbus_config(tmp_path / "state", pair.dev, modbus_tcp=port, modbus="timeout = 1")
        with fx.running_gateway(config, mh.TIMEOUT) as (gw, bus):
            bus.wait("device_status", lambda d, status, detail: status == "online")
            c = client(port)
            # A second writer on the slave's end: noise on the line, as the
            # master hears it.
            noise = pair.open_peer()
            try:
                rng = random.Random(14)
                for attempt in range(3):
                    os.write(noise, rng.randbytes(1024))
                    assert c.read_holding_registers(30 + attempt, count=3, device_id=2).registers == \
                        [30 + attempt, 31 + attempt, 32 + attempt]
                master = gw.modbus["bus"].master
                fx_wait(lambda: master.garbage_bytes >= 3 * 1024 - 64, "the noise counted as garbage")
            finally:
                os.close(noise)
                c.close()


def fx_wait(predicate: Any, what: str, timeout: float = mh.TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_offline_port_answers_path_unavailable(tmp_path: Path) -> None:
    port = fx.free_port()
    with mh.rtu_bus(tmp_path) as (pair, _slave):
        config = mh.modbus_config(tmp_path / "state", pair.dev, modbus_tcp=port, modbus="timeout = 1")
        with fx.running_gateway(config, mh.TIMEOUT) as (_gw, bus):
            bus.wait("device_status", lambda d, status, detail: status == "online")
            c = client(port)
            try:
                assert c.read_holding_registers(0, count=1, device_id=1).registers == [0]
                pair.unplug()
                bus.wait("device_status", lambda d, status, detail: status == "offline")
                answer = c.read_holding_registers(0, count=1, device_id=1)
                assert answer.isError() and answer.exception_code == GATEWAY_PATH_UNAVAILABLE
            finally:
                c.close()


@pytest.mark.modbus("timeout = 0.5\nrs485 = true")
def test_rs485_on_a_port_without_it_is_a_clear_error_and_the_bus_still_works(
        gateway: tuple[Gateway, fx.BusLog, int], caplog: pytest.LogCaptureFixture) -> None:
    gw, _, port = gateway
    master = gw.modbus["bus"].master
    # A pty has no RS-485 mode: the ioctl fails with ENOTTY.
    assert "Inappropriate ioctl" in master.rs485_error
    assert any("has no kernel RS-485 mode" in r.getMessage() and r.levelname == "ERROR"
               for r in caplog.get_records("setup"))
    c = client(port)
    try:
        assert c.read_holding_registers(1, count=2, device_id=1).registers == [1, 2]
    finally:
        c.close()


def closed_after(sock: socket.socket) -> float:
    """Seconds until the gateway closes ``sock`` (which must get no answer meanwhile)."""
    started = time.monotonic()
    assert sock.recv(100) == b""
    return time.monotonic() - started


@pytest.mark.modbus("timeout = 0.5\nclient_idle = 0.6\nclient_partial = 0.4")
def test_a_silent_client_is_closed_and_a_busy_one_is_not(gateway: tuple[Gateway, fx.BusLog, int]) -> None:
    gw, _, port = gateway
    good = client(port)
    try:
        with raw_client(port) as silent:
            silent.setblocking(False)
            served = 0
            # The other client keeps the bus busy the whole time: only the
            # silent one passes its deadline.
            while True:
                assert good.read_holding_registers(served % 100, count=1, device_id=1).registers == [served % 100]
                served += 1
                try:
                    if silent.recv(100) == b"":
                        break
                except BlockingIOError:
                    continue
        assert good.read_holding_registers(5, count=1, device_id=1).registers == [5]
        tcp = gw.modbus["bus"].tcp  # type: ignore[union-attr]
        assert tcp.closed_idle == 1 and tcp.closed_partial == 0 and len(tcp.clients) == 1
    finally:
        good.close()


@pytest.mark.modbus("timeout = 0.5\nclient_idle = 0.6\nclient_partial = 0.4")
def test_a_client_that_never_sends_is_closed_after_client_idle(gateway: tuple[Gateway, fx.BusLog, int]) -> None:
    gw, _, port = gateway
    with raw_client(port) as silent:
        assert closed_after(silent) >= 0.6 - 0.05
    assert gw.modbus["bus"].tcp.closed_idle == 1  # type: ignore[union-attr]


@pytest.mark.modbus("timeout = 0.8\nclient_idle = 0.3\nclient_partial = 0.3")
def test_a_client_waiting_for_the_bus_is_not_idle(gateway: tuple[Gateway, fx.BusLog, int]) -> None:
    gw, _, port = gateway
    with raw_client(port) as sock:
        sock.sendall(adu(1, 9, read_holding(0, 1)))  # unit 9 is absent: 0.8 s to the answer
        assert read_answer(sock) == (1, 9, bytes([0x83, GATEWAY_TARGET_FAILED]))
        assert closed_after(sock) >= 0.3 - 0.05  # idle from the answer on
    assert gw.modbus["bus"].tcp.closed_idle == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("partial", [
    struct.pack(">HHHB", 1, 0, 6, 1)[:3],  # half an MBAP header
    adu(1, 1, read_holding(0, 1))[:9],  # a header and part of its PDU
], ids=["half-header", "cut-pdu"])
@pytest.mark.modbus("timeout = 0.5\nclient_idle = 30\nclient_partial = 0.5")
def test_an_unfinished_request_is_closed_after_client_partial(
        gateway: tuple[Gateway, fx.BusLog, int], partial: bytes) -> None:
    gw, _, port = gateway
    good = client(port)
    try:
        with raw_client(port) as bad:
            bad.sendall(partial)
            assert closed_after(bad) >= 0.5 - 0.05
        assert good.read_holding_registers(3, count=1, device_id=1).registers == [3]
        tcp = gw.modbus["bus"].tcp  # type: ignore[union-attr]
        assert tcp.closed_partial == 1 and tcp.closed_idle == 0
    finally:
        good.close()


@pytest.mark.modbus("timeout = 0.5\nclient_idle = 30\nclient_partial = 0.6")
def test_trickled_bytes_do_not_extend_client_partial(gateway: tuple[Gateway, fx.BusLog, int]) -> None:
    gw, _, port = gateway
    request = adu(1, 1, read_holding(0, 1))
    with raw_client(port) as bad:
        bad.setblocking(False)
        started = time.monotonic()
        sent = 0
        # One byte per 0.15 s would take 1.8 s for the request: far past 0.6 s.
        while sent < len(request) - 1:
            try:
                bad.sendall(request[sent:sent + 1])
            except OSError:
                break  # closed while sending
            sent += 1
            try:
                if bad.recv(100) == b"":
                    break
            except BlockingIOError:
                time.sleep(0.15)  # pacing the trickle, not waiting for an outcome
        else:
            bad.setblocking(True)
            assert bad.recv(100) == b""
        assert time.monotonic() - started < len(request) * 0.15
    assert gw.modbus["bus"].tcp.closed_partial == 1  # type: ignore[union-attr]


class CorruptingSlave(threading.Thread):
    """A unit 1 on the pair's peer end that answers FC 3 with register = address,
    the first ``damaged`` answers with their CRC flipped (line noise), the
    first ``short`` ones with a register less than asked (a valid frame that
    does not answer the request)."""

    def __init__(self, fd: int, damaged: int = 0, short: int = 0) -> None:
        super().__init__(daemon=True)
        self.fd, self.damaged, self.short = fd, damaged, short
        self.stop = threading.Event()

    def run(self) -> None:
        buf = b""
        while not self.stop.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                buf += os.read(self.fd, 256)
            while len(buf) >= 8:
                request, buf = buf[:8], buf[8:]
                _, _, address, count = struct.unpack(">BBHH", request[:6])
                if self.short:
                    self.short -= 1
                    count -= 1
                body = b"".join(struct.pack(">H", address + i) for i in range(count))
                frame = encode_frame(1, bytes((3, len(body))) + body)
                if self.damaged:
                    self.damaged -= 1
                    frame = frame[:-1] + bytes([frame[-1] ^ 0x5A])
                os.write(self.fd, frame)


@pytest.mark.parametrize("damage", [
    # Not after the request's timeout (30 s here, longer than the client
    # waits): the answer was whole and damaged, so the client gets 0x0B
    # once t3.5 passed.
    pytest.param({"damaged": 1}, id="a bad CRC is given up once the line is silent"),
    # A CRC-valid answer with fewer registers than asked: relayed to no one
    # (the TCP path checks answers without decoding them), 0x0B instead.
    pytest.param({"short": 1}, id="a valid frame that does not answer the request"),
])
def test_a_bad_answer_is_0x0b_and_the_next_request_is_served(tmp_path: Path, damage: dict[str, int]) -> None:
    port = fx.free_port()
    with SocatPair(tmp_path, "bus") as pair:
        peer = pair.open_peer()
        slave = CorruptingSlave(peer, **damage)
        slave.start()
        config = mh.modbus_config(tmp_path / "state", pair.dev, modbus_tcp=port, modbus="timeout = 30")
        try:
            with fx.running_gateway(config, mh.TIMEOUT) as (gw, bus):
                bus.wait("device_status", lambda d, status, detail: status == "online")
                c = client(port, timeout=10)
                try:
                    answer = c.read_holding_registers(4, count=3, device_id=1)
                    assert answer.isError() and answer.exception_code == GATEWAY_TARGET_FAILED
                    assert c.read_holding_registers(4, count=3, device_id=1).registers == [4, 5, 6]
                    assert gw.modbus["bus"].master.counts == {(1, "invalid"): 1, (1, "ok"): 1}
                finally:
                    c.close()
        finally:
            slave.stop.set()
            slave.join(mh.TIMEOUT)
            os.close(peer)
