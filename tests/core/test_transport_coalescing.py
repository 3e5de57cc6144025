"""Writes are coalesced per loop pass; a streaming tty is read in bursts.

A SOCK_SEQPACKET socket pair keeps the boundary of every send, so the
peer sees exactly how many system calls the transport made. The ttys are
real pseudo-terminals set up the way pyserial sets a port (raw, VMIN=0).
"""

from __future__ import annotations

import fcntl
import os
import select
import socket
import struct
import termios
import time
import tty
from collections.abc import Iterator

import pytest

from circuits import BaseComponent, Event, Manager, handler
from circuits.core.transport import COALESCE_LIMIT, Transport
from circuits.core.transport_owner import TransportOwner

from .helpers import settle, wait_until_blocked

WAIT = 5.0


class Owner(TransportOwner):
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.closed: list[str | None] = []
        self.drained = 0

    def transport_data(self, transport: Transport, data: bytes) -> None:
        self.chunks.append(data)

    def transport_closed(self, transport: Transport, reason: str | None) -> None:
        self.closed.append(reason)

    def transport_drained(self, transport: Transport) -> None:
        self.drained += 1


@pytest.fixture
def app() -> Iterator[Manager]:
    app = Manager()
    yield app
    app.loop.close()


@pytest.fixture
def packets() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setblocking(False)
    peer.settimeout(WAIT)
    yield ours, peer
    ours.close()
    peer.close()


def _nothing_to_read(sock: socket.socket) -> bool:
    return not select.select([sock], [], [], 0)[0]


def test_the_writes_of_one_pass_leave_in_one_send(app: Manager, packets: tuple[socket.socket, socket.socket]) -> None:
    ours, peer = packets
    owner = Owner()
    transport = Transport(app.loop, ours, owner)
    for part in (b"one ", b"two ", b"three"):
        transport.write(part)
    assert _nothing_to_read(peer)  # queued until the pass is over
    assert transport.buffered == len(b"one two three")
    app.tick(0)
    assert peer.recv(65536) == b"one two three"  # one record: one send
    assert _nothing_to_read(peer)
    assert transport.buffered == 0 and owner.drained == 1
    assert transport.bytes_out == len(b"one two three")


def test_write_returns_what_is_queued_and_minus_one_once_closed(
        app: Manager, packets: tuple[socket.socket, socket.socket]) -> None:
    # Serial.send and the bridges apply backpressure with this value.
    ours, peer = packets
    transport = Transport(app.loop, ours, Owner())
    assert transport.write(b"abc") == 3
    assert transport.write(b"") == 3
    assert transport.write(b"defg") == 7 == transport.buffered
    app.tick(0)
    assert peer.recv(65536) == b"abcdefg"
    assert transport.write(b"x") == 1
    transport.abort("test")
    assert transport.write(b"more") == -1


def test_writes_fired_as_events_in_one_pass_leave_in_one_send(app: Manager,
                                                              packets: tuple[socket.socket, socket.socket]) -> None:
    ours, peer = packets
    transport = Transport(app.loop, ours, Owner())
    class ping(Event):
        pass

    class Writer(BaseComponent):
        @handler("ping")
        def _ping(self, n: int) -> None:
            transport.write(b"%d," % n)

    Writer().register(app)
    app.flush()
    for n in range(5):
        app.fire(ping(n))
    app.tick(0)  # dispatches the five events (five writes), then sends them
    assert peer.recv(65536) == b"0,1,2,3,4,"
    assert _nothing_to_read(peer)


def test_a_write_past_the_coalescing_limit_goes_out_at_once(app: Manager,
                                                            packets: tuple[socket.socket, socket.socket]) -> None:
    ours, peer = packets
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * COALESCE_LIMIT)
    transport = Transport(app.loop, ours, Owner())
    transport.write(b"a" * 100)
    transport.write(b"b" * COALESCE_LIMIT)
    data = peer.recv(4 * COALESCE_LIMIT)  # no pass ran: the big write sent the queue itself
    assert data == b"a" * 100 + b"b" * COALESCE_LIMIT
    assert transport.buffered == 0


def test_close_sends_what_is_queued_then_closes(app: Manager, packets: tuple[socket.socket, socket.socket]) -> None:
    ours, peer = packets
    owner = Owner()
    transport = Transport(app.loop, ours, owner)
    transport.write(b"last words")
    transport.close()
    assert peer.recv(65536) == b"last words"
    assert transport.closed and owner.closed == [None]
    app.tick(0)  # the flush still queued on the loop finds nothing to do
    assert owner.closed == [None] and owner.drained == 0


def test_an_abort_drops_what_is_queued(app: Manager, packets: tuple[socket.socket, socket.socket]) -> None:
    ours, peer = packets
    owner = Owner()
    transport = Transport(app.loop, ours, owner)
    transport.write(b"never sent")
    transport.abort("gone")
    app.tick(0)
    assert owner.closed == ["gone"]
    assert peer.recv(65536) == b""  # the peer sees the close and nothing else


def test_a_write_from_another_thread_wakes_a_sleeping_loop(packets: tuple[socket.socket, socket.socket]) -> None:
    ours, peer = packets
    app = Manager()
    transport = Transport(app.loop, ours, Owner())
    app.start()
    try:
        wait_until_blocked(app)  # nothing to do, no timer: it sleeps until woken
        transport.write(b"wake up")
        assert peer.recv(65536) == b"wake up"
    finally:
        app.stop()
        app.join(WAIT)


# -- reading a tty in bursts ----------------------------------------------------
@pytest.fixture
def pty_pair() -> Iterator[tuple[int, int]]:
    """(device end, far end): the device end is set up as pyserial sets a port."""
    far, device = os.openpty()
    tty.setraw(device)
    attrs = termios.tcgetattr(device)
    attrs[6][termios.VMIN] = 0  # pyserial: reads never wait, so "nothing yet" reads b""
    attrs[6][termios.VTIME] = 0
    termios.tcsetattr(device, termios.TCSANOW, attrs)
    os.set_blocking(device, False)
    yield device, far
    for fd in (device, far):
        try:
            os.close(fd)
        except OSError:
            pass


def _readable(fd: int) -> None:
    assert select.select([fd], [], [], WAIT)[0], "no data reached the device end"


def _wait_pending(fd: int, count: int) -> None:
    """Wait until ``count`` bytes wait in the tty's read buffer (at most 4095 fit).

    Bytes written to the far end reach the device end's read buffer through a
    kernel worker, a piece at a time: only once they are there is what the
    first read of a poll returns fixed.
    """
    deadline = time.monotonic() + WAIT
    while _pending(fd) < count:
        assert time.monotonic() < deadline, f"only {_pending(fd)} of {count} bytes reached the device end"
        select.select([], [], [], 0.001)


def _pending(fd: int) -> int:
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


@pytest.mark.parametrize("bufsize", [4096, 65536])  # bigger than a tty ever hands out
def test_a_streaming_tty_is_read_more_than_once_per_poll(app: Manager, pty_pair: tuple[int, int],
                                                         bufsize: int) -> None:
    device, far = pty_pair
    owner = Owner()
    Transport(app.loop, device, owner, bufsize=bufsize, read_burst=16)
    sent = os.urandom(8190)
    assert os.write(far, sent) == len(sent)
    _wait_pending(device, 4095)  # the tty's read buffer is full, the rest queued behind it
    app.tick(0)  # one poll
    # The first read empties the buffer (a tty hands out at most 4 KiB a read)
    # and the burst reads on. How much the second read finds depends on how far
    # the kernel's worker got refilling the buffer, so only "more than once".
    assert len(owner.chunks) >= 2 and len(owner.chunks[0]) == 4095
    settle(app, lambda: sum(map(len, owner.chunks)) >= len(sent))
    assert b"".join(owner.chunks) == sent


def test_an_empty_read_in_a_burst_is_not_taken_for_a_hangup(app: Manager, pty_pair: tuple[int, int]) -> None:
    device, far = pty_pair
    owner = Owner()
    transport = Transport(app.loop, device, owner, bufsize=4096, read_burst=16)
    sent = os.urandom(4095)  # one full read, then nothing: the burst's second read comes back empty
    assert os.write(far, sent) == len(sent)
    _wait_pending(device, len(sent))
    app.tick(0)
    assert owner.chunks == [sent]
    assert not transport.closed and owner.closed == []  # b"" from a tty with VMIN=0: "nothing yet"
    more = os.urandom(100)
    os.write(far, more)
    settle(app, lambda: b"".join(owner.chunks) == sent + more)
    os.close(far)  # a real hangup: the poller reports it, then the read is taken for EOF
    settle(app, lambda: transport.closed)
    assert owner.closed == ["eof"]


def test_without_a_burst_a_tty_is_read_once_per_poll(app: Manager, pty_pair: tuple[int, int]) -> None:
    device, far = pty_pair
    owner = Owner()
    Transport(app.loop, device, owner, bufsize=4096)
    os.write(far, b"x" * 8190)
    _readable(device)
    app.tick(0)
    assert len(owner.chunks) == 1
    settle(app, lambda: sum(map(len, owner.chunks)) == 8190)


class LowWaterOwner(Owner):
    def __init__(self) -> None:
        super().__init__()
        self.writable_at: list[int] = []

    def transport_writable(self, transport: Transport) -> None:
        self.writable_at.append(transport.buffered)


def test_notify_below_calls_the_owner_once_when_the_queue_falls_to_the_mark(app: Manager) -> None:
    ours, peer = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    ours.setblocking(False)
    peer.settimeout(WAIT)
    try:
        owner = LowWaterOwner()
        transport = Transport(app.loop, ours, owner)
        payload = os.urandom(1 << 20)
        transport.write(payload)
        assert transport.buffered > 256 << 10  # the kernel took only a little of it
        assert transport.notify_below(256 << 10) is True
        got = bytearray()
        deadline = time.monotonic() + WAIT
        while len(got) < len(payload):
            assert time.monotonic() < deadline, f"got {len(got)} bytes"
            app.tick(0.01)
            while select.select([peer], [], [], 0)[0]:
                got += peer.recv(65536)
        assert bytes(got) == payload
        assert len(owner.writable_at) == 1 and owner.writable_at[0] <= 256 << 10
        assert transport.notify_below(0) is False  # already empty: nothing armed, nothing called
        app.tick(0)
        assert len(owner.writable_at) == 1
    finally:
        ours.close()
        peer.close()
