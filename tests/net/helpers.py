"""Helpers for the networking tests: record events, run apps in threads, real peers.

Tests wait on events (a Recorder and a condition variable) or on sockets
with a deadline; nothing sleeps a guessed time.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from circuits import BaseComponent, Event, Manager, handler

#: Generous bound for anything a test waits on; a healthy run takes milliseconds.
TIMEOUT = 10.0
#: Events that are loop bookkeeping, not interesting to record.
_IGNORED = frozenset({"generate_events"})


class probe(Event):
    """A marker the tests fire to know that everything queued before it was handled."""


class Recorder(BaseComponent):
    """Records every event on every channel, after its handlers ran (lowest priority)."""

    channel = "recorder"

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []
        self._cond = threading.Condition()

    @handler(channel="*", priority=-1000)
    def _record(self, event: Event, *args: Any, **kwargs: Any) -> None:
        if event.name in _IGNORED:
            return
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def of(self, name: str, channel: Any = None) -> list[Event]:
        """The events named ``name`` (on ``channel`` if given), in order."""
        with self._cond:
            return [e for e in self.events if e.name == name and (channel is None or channel in e.channels)]

    def names(self, channel: Any = None) -> list[str]:
        with self._cond:
            return [e.name for e in self.events if channel is None or channel in e.channels]

    def wait(self, predicate: Callable[[], Any], timeout: float = TIMEOUT, what: str = "") -> Any:
        """Wait until ``predicate()`` (called with the lock held) is truthy; return it."""
        with self._cond:
            result = self._cond.wait_for(predicate, timeout)
        assert result, f"timed out waiting for {what or predicate}; saw {self.names()}"
        return result

    def wait_for(self, name: str, channel: Any = None, count: int = 1,
                 where: Callable[[Event], bool] | None = None, timeout: float = TIMEOUT) -> list[Event]:
        """Wait until ``count`` events named ``name`` (matching ``where``) were handled; return them."""

        def matching() -> list[Event]:
            found = [e for e in self.events
                     if e.name == name and (channel is None or channel in e.channels) and (where is None or where(e))]
            return found if len(found) >= count else []

        return self.wait(matching, timeout, f"{count} x {name!r} on {channel!r}")

    def sync(self, app: Manager, rounds: int = 2) -> None:
        """Return once everything queued so far (and ``rounds``-1 generations of follow-ups) was handled."""
        for _ in range(rounds):
            marker = probe()
            app.fire(marker, "recorder")
            self.wait(lambda m=marker: any(e is m for e in self.events), what="probe")


@contextmanager
def running(*components: BaseComponent) -> Iterator[tuple[Manager, Recorder]]:
    """Register ``components`` on a new Manager, run it in a thread, stop it afterwards."""
    app = Manager()
    for component in components:
        component.register(app)
    recorder = Recorder().register(app)
    app.start()
    try:
        recorder.wait_for("started")
        yield app, recorder
    finally:
        app.stop()
        app.join(TIMEOUT)
        assert app._circuits_thread is not None and not app._circuits_thread.is_alive(), "the app did not stop"
        app.loop.close()


# -- real peers --------------------------------------------------------------
def recv_exactly(sock: socket.socket, n: int, timeout: float = TIMEOUT) -> bytes:
    """Read exactly ``n`` bytes (or fail at the deadline)."""
    sock.settimeout(timeout)
    chunks = bytearray()
    while len(chunks) < n:
        data = sock.recv(min(n - len(chunks), 1 << 20))
        if not data:
            raise AssertionError(f"EOF after {len(chunks)} of {n} bytes")
        chunks += data
    return bytes(chunks)


def recv_until_eof(sock: socket.socket, timeout: float = TIMEOUT) -> bytes:
    """Read until the peer closes (or fail at the deadline)."""
    deadline = time.monotonic() + timeout
    chunks = bytearray()
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no EOF within {timeout}s ({len(chunks)} bytes read)"
        sock.settimeout(left)
        data = sock.recv(1 << 20)
        if not data:
            return bytes(chunks)
        chunks += data


def recv_until(sock: socket.socket, marker: bytes, timeout: float = TIMEOUT) -> bytes:
    """Read until ``marker`` was received; return everything read."""
    deadline = time.monotonic() + timeout
    chunks = bytearray()
    while marker not in chunks:
        left = deadline - time.monotonic()
        assert left > 0, f"{marker!r} not received within {timeout}s (got {bytes(chunks)[-200:]!r})"
        sock.settimeout(left)
        data = sock.recv(65536)
        if not data:
            raise AssertionError(f"EOF before {marker!r} (got {bytes(chunks)[-200:]!r})")
        chunks += data
    return bytes(chunks)


def rst(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def payload(n: int, seed: int = 0) -> bytes:
    """``n`` bytes that are not periodic at small scales (misordering or loss shows)."""
    block = bytes((i * 7 + seed + (i >> 8) * 13) & 0xFF for i in range(65521))  # a prime length
    return (block * (n // len(block) + 1))[:n]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def socket_fds(port: int | None = None, path: str | None = None) -> int:
    """This process's descriptors on sockets of TCP ``port`` (either end) or UNIX ``path``.

    Unlike open_fds() this is blind to what other threads of the test process
    (a previous test's stragglers) open and close meanwhile.
    """
    inodes: set[str] = set()
    if port is not None:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = open(table).read().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                ports = {int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16)}
                if port in ports:
                    inodes.add(fields[9])
    if path is not None:
        for line in open("/proc/net/unix").read().splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 8 and fields[7] == path:
                inodes.add(fields[6])
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:[") and target[8:-1] in inodes:
            count += 1
    return count


def free_unix_path(tmp_path: Any, name: str = "s.sock") -> str:
    # AF_UNIX paths are limited to 107 bytes; pytest's tmp_path may be long.
    path = os.path.join(str(tmp_path), name)
    if len(path) >= 100:
        raise AssertionError(f"tmp path too long for AF_UNIX: {path}")
    return path


def ipv6_loopback_usable() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def spawn(target: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Run ``target`` in a thread; the dict gets its 'result' or 'error'."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = target()
        except BaseException as e:  # reported by the test that joins
            box["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def joined(thread: threading.Thread, box: dict[str, Any], timeout: float = TIMEOUT) -> Any:
    thread.join(timeout)
    assert not thread.is_alive(), "peer thread did not finish"
    if "error" in box:
        raise box["error"]
    return box.get("result")
