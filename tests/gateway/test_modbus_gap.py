"""``[device.modbus] frame_gap``: the silence the master keeps after an answer.

The default is the spec's t3.5 (1.75 ms above 19200 baud): measured on the
far end of a socat pair, every request arrives at least t3.5 after the
previous answer's last byte was handed to the pty (the gateway cannot have
read it earlier, and it waits t3.5 from its own read).  With ``frame_gap =
0`` the next queued request goes out in the loop pass that read the answer,
with no timer: right after the master has handled the chunk that completed
an answer, the next request is already on its way.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import threading
import time
from pathlib import Path

import modbus_harness as mh  # registered by this folder's conftest
import mqtt_fixtures as fx
import pytest

from circuits.protocols.modbus import encode_frame, silent_interval
from gateway.app import Gateway
from gateway.socat import SocatPair

pytestmark = pytest.mark.timeout(120)

#: Requests each of the two clients pipelines (one send): the master's queue
#: for them is never empty until the last ones, so every gap is the master's.
PIPELINED = 20
CLIENTS = 2


class TimingSlave(threading.Thread):
    """Unit 1 answering reads of holding registers (register i holds i), noting
    for every request when its first byte was read and, for every answer, the
    time just before it was written (monotonic, the gateway loop's clock)."""

    def __init__(self, fd: int, answers: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.answers = answers
        self.arrived: list[float] = []
        self.answered: list[float] = []
        self.finished = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        buf = b""
        while not self.stop.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                continue
            chunk = os.read(self.fd, 256)
            if not buf and chunk:
                self.arrived.append(time.monotonic())
            buf += chunk
            while len(buf) >= 8:
                request, buf = buf[:8], buf[8:]
                _, _, address, count = struct.unpack(">BBHH", request[:6])
                body = b"".join(struct.pack(">H", address + i) for i in range(count))
                frame = encode_frame(1, bytes((3, len(body))) + body)
                self.answered.append(time.monotonic())
                os.write(self.fd, frame)
                if len(self.answered) == self.answers:
                    self.finished.set()
                if buf:  # a master that sent before our answer: recorded as such
                    self.arrived.append(time.monotonic())


def pipelined_reads(port: int, client: int) -> list[tuple[int, list[int]]]:
    """PIPELINED reads of 2 registers in one send; (transaction id, registers) of each answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        requests = b"".join(struct.pack(">HHHBBHH", client * 100 + i, 0, 6, 1, 3, i, 2)
                            for i in range(PIPELINED))
        sock.sendall(requests)
        answers = []
        for _ in range(PIPELINED):
            head = fx.read_exactly(sock, 7)
            transaction, _, length, _ = struct.unpack(">HHHB", head)
            pdu = fx.read_exactly(sock, length - 1)
            assert pdu[0] == 3 and pdu[1] == 4, pdu
            answers.append((transaction, list(struct.unpack(">HH", pdu[2:]))))
        return answers


def run_load(port: int) -> None:
    """CLIENTS clients at once, every answer checked against the request it answers."""
    results: dict[int, list[tuple[int, list[int]]]] = {}
    threads = [threading.Thread(target=lambda c=c: results.__setitem__(c, pipelined_reads(port, c)))
               for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for c in range(CLIENTS):
        assert results[c] == [(c * 100 + i, [i, i + 1]) for i in range(PIPELINED)]


def with_gateway(tmp_path: Path, modbus: str, body) -> TimingSlave:  # type: ignore[no-untyped-def]
    port = fx.free_port()
    with SocatPair(tmp_path, "bus") as pair:
        peer = pair.open_peer()
        slave = TimingSlave(peer, CLIENTS * PIPELINED)
        slave.start()
        config = mh.modbus_config(tmp_path / "state", pair.dev, modbus_tcp=port, modbus=modbus)
        try:
            with fx.running_gateway(config, mh.TIMEOUT) as (gw, bus):
                bus.wait("device_status", lambda d, status, detail: status == "online")
                body(gw, port)
                assert slave.finished.wait(mh.TIMEOUT)
        finally:
            slave.stop.set()
            slave.join(mh.TIMEOUT)
            os.close(peer)
    return slave


def test_default_gap_is_t35_after_the_answers_last_byte(tmp_path: Path) -> None:
    slave = with_gateway(tmp_path, "timeout = 5", lambda gw, port: run_load(port))
    t35 = silent_interval(115200, 8, "N", 1)
    assert t35 == 0.00175
    assert len(slave.answered) == len(slave.arrived) == CLIENTS * PIPELINED
    # Request i + 1 came after answer i: its first byte was read at least t3.5
    # after the moment before answer i was written.
    gaps = [nxt - answered for answered, nxt in zip(slave.answered, slave.arrived[1:], strict=False)]
    assert len(gaps) == CLIENTS * PIPELINED - 1
    assert min(gaps) >= t35, sorted(gaps)[:5]


def test_frame_gap_given_in_milliseconds_is_kept(tmp_path: Path) -> None:
    slave = with_gateway(tmp_path, "timeout = 5\nframe_gap = 4", lambda gw, port: run_load(port))
    gaps = [nxt - answered for answered, nxt in zip(slave.answered, slave.arrived[1:], strict=False)]
    assert len(gaps) == CLIENTS * PIPELINED - 1
    assert min(gaps) >= 0.004, sorted(gaps)[:5]


def test_zero_gap_sends_the_next_request_in_the_pass_that_read_the_answer(tmp_path: Path) -> None:
    after: list[tuple[bool, int]] = []

    def body(gw: Gateway, port: int) -> None:
        master = gw.modbus["bus"].master
        answered = [0]

        def behind_the_master(chunk: bytes) -> None:
            # A consumer attached after the master: called (on the loop)
            # right after master.device_data() with the same chunk.
            total = sum(master.counts.values())
            if total != answered[0]:  # this chunk completed an answer
                answered[0] = total
                after.append((master.busy, master.statistics()["queued"]))

        gw.links["bus"].attach(behind_the_master)
        run_load(port)

    slave = with_gateway(tmp_path, "timeout = 5\nframe_gap = 0", body)
    assert len(slave.answered) == CLIENTS * PIPELINED
    assert len(after) == CLIENTS * PIPELINED
    # Whenever something was queued, it was sent before the pass ended: no
    # timer, no pass in between.
    assert all(busy or queued == 0 for busy, queued in after), after
    assert sum(busy for busy, _ in after) >= PIPELINED  # the queue was not empty by chance
