"""circuits.io.serial.Serial against socat pty pairs (a null-modem cable in software)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from circuits import BaseComponent, Manager, Timer, handler
from circuits.core.events import Event
from circuits.core.transport import BufferOverflow
from circuits.io import Serial
from circuits.io.events import open, write
from circuits.protocols.line import Line

from .helpers import TIMEOUT, Recorder, Socat, open_peer, run_for, run_until

MiB = 1 << 20


class beat(Event):
    """A heartbeat."""


def received(recorder: Recorder) -> bytes:
    return b"".join(a[0] for a in recorder.args("read", "serial"))


class PeerReader(threading.Thread):
    """Reads the far end until ``want`` bytes (or the end) arrived."""

    def __init__(self, fd: int, want: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.want = want
        self.data = bytearray()
        self.first = threading.Event()

    def run(self) -> None:
        while len(self.data) < self.want:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.data += chunk
            self.first.set()


def open_serial(app: Manager, recorder: Recorder, port: str, **kwargs: Any) -> Serial:
    serial = Serial(port, **kwargs).register(app)
    run_until(app, lambda: recorder.count("opened", "serial") or recorder.count("error", "serial"))
    assert recorder.count("error", "serial") == 0, recorder.args("error", "serial")
    return serial


@pytest.mark.parametrize("direction", ["to_peer", "from_peer", "both"])
def test_bytes_both_ways_byte_exact(app: Manager, recorder: Recorder, socat: Socat, direction: str) -> None:
    serial = open_serial(app, recorder, socat.a)
    peer = open_peer(socat.b)
    try:
        outgoing, incoming = os.urandom(MiB), os.urandom(MiB)
        reader = PeerReader(peer, MiB if direction != "from_peer" else 0)
        reader.start()
        writer = threading.Thread(target=os.write, args=(peer, incoming), daemon=True)
        if direction != "to_peer":
            writer.start()
        if direction != "from_peer":
            for i in range(0, MiB, 65536):
                serial.fire(write(outgoing[i:i + 65536]))
        run_until(app, lambda: (direction == "to_peer" or len(received(recorder)) >= MiB)
                  and (direction == "from_peer" or not reader.is_alive()))
        if direction != "from_peer":
            assert bytes(reader.data) == outgoing
        if direction != "to_peer":
            assert received(recorder) == incoming
            writer.join(TIMEOUT)
        assert recorder.count("error") == 0 and serial.dropped == 0
    finally:
        os.close(peer)


def test_a_reader_takes_the_bytes_by_a_call_instead_of_read_events(
        app: Manager, recorder: Recorder, socat: Socat) -> None:
    taken: list[bytes] = []
    serial = Serial(socat.a, autoopen=False).register(app)
    serial.reader = taken.append
    serial.fire(open())
    run_until(app, lambda: recorder.count("opened", "serial"))
    peer = open_peer(socat.b)
    try:
        payload = os.urandom(256 * 1024)
        writer = threading.Thread(target=os.write, args=(peer, payload), daemon=True)
        writer.start()
        run_until(app, lambda: len(b"".join(taken)) >= len(payload))
        writer.join(TIMEOUT)
        assert b"".join(taken) == payload
        assert recorder.count("read", "serial") == 0  # no event per chunk
    finally:
        os.close(peer)


def test_chunks_read_before_the_opened_event_was_dispatched_stay_in_order(
        app: Manager, recorder: Recorder, socat: Socat) -> None:
    # A chunk handed to the reader must never overtake a ``read`` event
    # still queued: until the port's last event was dispatched, chunks go as
    # events. Driven through the transport callback, so the timing is exact.
    order: list[tuple[str, bytes]] = []

    class Reads(BaseComponent):
        @handler("read", channel="serial")
        def _read(self, data: bytes) -> None:
            order.append(("event", data))

    Reads().register(app)
    serial = Serial(socat.a, autoopen=False).register(app)
    serial.reader = lambda data: order.append(("call", data))
    app.flush()
    serial.open()  # ``opened`` is queued, not yet dispatched
    transport = serial._transport
    assert transport is not None
    serial.transport_data(transport, b"one")  # before ``opened`` is handled: an event
    serial.transport_data(transport, b"two")  # ``read(one)`` still queued: an event
    app.flush()
    serial.transport_data(transport, b"three")  # all dispatched: a call
    assert order == [("event", b"one"), ("event", b"two"), ("call", b"three")]
    assert recorder.count("opened", "serial") == 1


def test_crlf_split_across_reads(app: Manager, recorder: Recorder, socat: Socat) -> None:
    open_serial(app, recorder, socat.a)
    Line(channel="serial").register(app)
    peer = open_peer(socat.b)
    try:
        os.write(peer, b"hello\r")
        run_until(app, lambda: received(recorder) == b"hello\r")
        assert recorder.args("line") == []
        os.write(peer, b"\nworld\r\n")
        run_until(app, lambda: recorder.count("line") == 2)
        assert recorder.args("line") == [(b"hello",), (b"world",)]
    finally:
        os.close(peer)


def test_invalid_utf8(app: Manager, recorder: Recorder, socat: Socat) -> None:
    open_serial(app, recorder, socat.a)
    Line(channel="serial", encoding="utf-8").register(app)
    peer = open_peer(socat.b)
    try:
        raw = b"caf\xc3\xa9 \xff\xfe\xc3!\r\nok\n"
        os.write(peer, raw)
        run_until(app, lambda: recorder.count("line") == 2)
        assert received(recorder) == raw  # read events carry the bytes as they came
        assert recorder.args("line") == [("café \ufffd\ufffd\ufffd!",), ("ok",)]
        assert recorder.count("exception") == 0 and recorder.count("error") == 0
    finally:
        os.close(peer)


def test_a_100kb_line_is_too_long_and_the_next_line_is_intact(
        app: Manager, recorder: Recorder, socat: Socat) -> None:
    open_serial(app, recorder, socat.a)
    line = Line(channel="serial").register(app)
    peer = open_peer(socat.b)
    try:
        writer = threading.Thread(target=os.write, args=(peer, b"x" * 100_000 + b"\nnext line\n"), daemon=True)
        writer.start()
        run_until(app, lambda: recorder.count("line"))
        writer.join(TIMEOUT)
        assert recorder.count("line_too_long") == 1
        assert recorder.args("line") == [(b"next line",)]
        assert line.dropped_lines == 1 and line.statistics()["streams"] == 1
        assert line.buffered == 0  # nothing of the long line kept
    finally:
        os.close(peer)


def test_unplug_mid_stream_then_replug(app: Manager, recorder: Recorder, socat: Socat) -> None:
    serial = open_serial(app, recorder, socat.a)
    peer = open_peer(socat.b)
    reader = PeerReader(peer, 4 * MiB)
    reader.start()
    serial.fire(write(os.urandom(512 * 1024)))
    run_until(app, lambda: reader.first.is_set())
    socat.kill()  # mid-stream: the peer has some of it, the rest is queued
    run_until(app, lambda: recorder.count("closed", "serial"))
    reader.join(TIMEOUT)
    os.close(peer)
    names = [n for n in recorder.names("serial") if n in ("error", "closed")]
    assert names == ["error", "closed"]
    [(reason,)] = recorder.args("closed", "serial")
    assert reason
    assert not serial.connected and app.loop.watched == 0
    # The loop goes on, idle: no busy loop on a dead descriptor.
    assert run_for(app, 0.5, step=0.1) <= 10
    # Plug it back in.
    socat.start()
    serial.fire(open())
    run_until(app, lambda: recorder.count("opened", "serial") == 2)
    peer = open_peer(socat.b)
    try:
        os.write(peer, b"again")
        serial.fire(write(b"back"))
        run_until(app, lambda: received(recorder).endswith(b"again"))
        assert os.read(peer, 100) == b"back"
        assert recorder.names("serial").count("error") == 1
    finally:
        os.close(peer)


HOLD = """
import sys, serial
try:
    port = serial.Serial(sys.argv[1], exclusive=True)
except serial.SerialException as e:
    print("busy", e, flush=True)
    sys.exit(3)
print("locked", flush=True)
sys.stdin.read()
"""


def test_an_exclusive_port_held_by_another_process(app: Manager, recorder: Recorder, socat: Socat) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, socat.a], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        serial = Serial(socat.a, exclusive=True).register(app)
        run_until(app, lambda: recorder.count("error", "serial"))
        assert recorder.count("opened") == 0 and not serial.connected
    finally:
        holder.communicate("", timeout=TIMEOUT)
    serial.fire(open())  # the other process is gone: now it opens
    run_until(app, lambda: recorder.count("opened", "serial"))


def test_a_second_process_cannot_open_our_exclusive_port(
        app: Manager, recorder: Recorder, socat: Socat) -> None:
    open_serial(app, recorder, socat.a, exclusive=True)
    other = subprocess.run([sys.executable, "-c", HOLD, socat.a], capture_output=True, text=True,
                           timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert other.returncode == 3 and other.stdout.startswith("busy")


def test_a_writer_with_no_reader_never_blocks_the_loop(app: Manager, recorder: Recorder, socat: Socat) -> None:
    # Nobody opens B: what the pty chain holds fills up, then our queue.
    serial = open_serial(app, recorder, socat.a, max_buffer=64 * 1024)
    beats = Timer(0.005, beat(), "beat", persist=True).register(app)
    chunk = os.urandom(16 * 1024)
    longest = 0.0
    for _ in range(MiB // len(chunk)):
        serial.fire(write(chunk))
        started = time.monotonic()
        app.tick(0)  # dispatches this write
        longest = max(longest, time.monotonic() - started)
    before = recorder.count("beat")
    run_until(app, lambda: recorder.count("beat") >= before + 5)  # the loop goes on
    beats.unregister()
    assert longest < 0.5
    transport = serial._transport
    assert transport is not None and serial.connected
    errors = recorder.args("error", "serial")
    assert len(errors) == 1 and isinstance(errors[0][0], BufferOverflow)
    assert transport.bytes_out < 256 * 1024  # what the ptys and socat hold
    assert 0 < serial.buffered <= 64 * 1024
    assert serial.dropped == MiB - transport.bytes_out - serial.buffered > 0


def test_opening_a_missing_port_is_an_error(app: Manager, recorder: Recorder, tmp_path: Any) -> None:
    serial = Serial(str(tmp_path / "ttyNOPE")).register(app)
    run_until(app, lambda: recorder.count("error", "serial"))
    assert recorder.count("opened") == 0 and not serial.connected
    assert recorder.count("exception") == 0


def test_a_write_in_the_pass_that_stops_the_application_reaches_the_device(
        app: Manager, recorder: Recorder, socat: Socat) -> None:
    # Writes are sent at the end of a pass; `stopped` in that same pass must
    # not drop them when it closes the port.
    serial = open_serial(app, recorder, socat.a)
    peer = open_peer(socat.b)
    try:
        @handler("beat")
        def last_words(component: Any) -> None:
            serial.fire(write(b"bye\n"))
            app.stop()

        app.addHandler(last_words)
        app.fire(beat())
        app.run()
        assert not serial.connected
        got = b""
        while len(got) < 4 and select.select([peer], [], [], TIMEOUT)[0]:
            got += os.read(peer, 64)
        assert got == b"bye\n"
    finally:
        os.close(peer)
