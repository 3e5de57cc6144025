"""Short timed waits (under FINE_WAIT) go through select() on the epoll
descriptor: they must still end when a descriptor becomes readable, never
end before their time, and wake for another thread's call."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from circuits.core import loop as loop_module
from circuits.core.loop import FINE_WAIT, Loop

pytestmark = pytest.mark.skipif(loop_module._EPOLL is None, reason="epoll only (Linux)")


def test_a_fine_wait_is_used_and_never_ends_early() -> None:
    loop = Loop()
    try:
        loop.selector  # noqa: B018 - creates the epoll selector
        assert loop._fine_fd is not None  # a low descriptor: select() can take it
        wait = 0.0013  # not a whole number of ms, under FINE_WAIT
        assert wait < FINE_WAIT
        start = time.monotonic()
        loop.poll(wait)
        assert time.monotonic() - start >= wait
    finally:
        loop.close()


def test_a_fine_wait_ends_for_a_readable_descriptor() -> None:
    loop = Loop()
    ours, peer = socket.socketpair()
    ours.setblocking(False)
    got: list[bytes] = []
    try:
        loop.add_reader(ours, lambda: got.append(ours.recv(100)))
        peer.send(b"ready")
        loop.poll(0.0055)  # short: through select(); the data is already there
        assert got == [b"ready"]
    finally:
        loop.close()
        ours.close()
        peer.close()


def test_a_fine_wait_wakes_for_another_threads_call() -> None:
    loop = Loop()
    ran = threading.Event()
    try:
        loop.prepare_sleep()
        thread = threading.Thread(target=loop.call_soon_threadsafe, args=(ran.set,))
        thread.start()
        thread.join()
        # The wake-up byte is on the socket epoll watches: the wait ends at
        # once and the call runs in the pass (it is not lost, whatever the wait).
        loop.poll(0.0099)
        loop.run_calls()
        assert ran.is_set()
    finally:
        loop.close()
