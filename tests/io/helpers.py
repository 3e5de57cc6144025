"""Helpers for the I/O tests: record events, drive a loop until something happened, socat."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from circuits import BaseComponent, Manager, handler

#: Generous bound for anything a test waits on; a healthy run takes milliseconds.
TIMEOUT = 10.0


class Recorder(BaseComponent):
    """Records every event it sees, on every channel."""

    def __init__(self, channel: Any = "recorder") -> None:
        super().__init__(channel=channel)
        self.events: list[Any] = []

    @handler(channel="*", priority=1000)
    def _record(self, event: Any, *args: Any, **kwargs: Any) -> None:
        self.events.append(event)

    def named(self, name: str, channel: Any = None) -> list[Any]:
        return [e for e in self.events if e.name == name and (channel is None or channel in e.channels)]

    def args(self, name: str, channel: Any = None) -> list[tuple[Any, ...]]:
        return [tuple(e.args) for e in self.named(name, channel)]

    def count(self, name: str, channel: Any = None) -> int:
        return len(self.named(name, channel))

    def names(self, channel: Any = None) -> list[str]:
        return [e.name for e in self.events if channel is None or channel in e.channels]


def run_until(app: Manager, predicate: Callable[[], Any], timeout: float = TIMEOUT, step: float = 0.05) -> None:
    """Run loop passes until ``predicate()`` holds; fail after ``timeout`` seconds.

    Each pass blocks in the poller until something happens (at most ``step``
    seconds, so the deadline is checked): no guessing with sleep().
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        app.tick(step)


def run_for(app: Manager, seconds: float, step: float = 0.05) -> int:
    """Run the loop for ``seconds`` of real time; returns the passes it took.

    Used to measure that a loop stays idle (no busy loop), never to wait
    for something to happen.
    """
    before = app.loop.passes
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.tick(step)
    return app.loop.passes - before


class Socat:
    """``socat pty,link=A pty,link=B`` in a directory: a null-modem cable of two ptys."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.a = str(directory / "A")
        self.b = str(directory / "B")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start socat and return once it says it transfers data (the links exist by then)."""
        self.proc = subprocess.Popen(
            ["socat", "-d", "-d", f"pty,raw,echo=0,link={self.a}", f"pty,raw,echo=0,link={self.b}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert self.proc.stderr is not None
        fd = self.proc.stderr.fileno()
        seen = b""
        deadline = time.monotonic() + TIMEOUT
        while b"starting data transfer loop" not in seen:
            left = deadline - time.monotonic()
            assert left > 0, f"socat did not start: {seen!r}"
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                assert chunk, f"socat exited: {seen!r}"
                seen += chunk
        assert os.path.islink(self.a) and os.path.islink(self.b)

    def kill(self) -> None:
        """Pull the plug: SIGKILL, as abrupt as a yanked USB adapter."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(TIMEOUT)
            if self.proc.stderr is not None:
                self.proc.stderr.close()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(TIMEOUT)
            if self.proc.stderr is not None:
                self.proc.stderr.close()
            self.proc = None


def open_peer(path: str) -> int:
    """Open the far end of a pty pair, blocking, as another program would."""
    return os.open(path, os.O_RDWR | os.O_NOCTTY)
