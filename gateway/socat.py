"""Virtual serial pairs from socat, for tests, benchmarks and trying things out.

``SocatPair(directory, "thermo")`` makes two linked ptys: ``dev`` is the
port the gateway opens (configure ``port = "<dir>/thermo"``), ``peer`` is the
device's side, where a test writes what the "device" sends.  ``unplug()``
kills socat -- the gateway's pty reports an I/O error and socat removes both
links, just like a USB adapter being pulled -- and ``replug()`` starts it
again with the same link names.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import termios
import time
import tty
from pathlib import Path
from types import TracebackType

#: socat -d -d prints this once both ptys and their links exist.
_READY_MARK = b"starting data transfer loop"


class SocatError(RuntimeError):
    pass


class SocatPair:
    def __init__(self, directory: str | os.PathLike[str], name: str = "dev", *, timeout: float = 5.0) -> None:
        folder = Path(directory)
        self.dev = folder / name
        self.peer = folder / f"{name}.peer"
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def plugged(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> SocatPair:
        """Start socat; returns once both links exist (socat says so)."""
        if self.plugged:
            return self
        process = subprocess.Popen(
            ["socat", "-d", "-d", f"pty,raw,echo=0,link={self.dev}", f"pty,raw,echo=0,link={self.peer}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        assert process.stderr is not None
        deadline = time.monotonic() + self.timeout
        seen = b""
        # Read socat's log until it reports the transfer loop: an event, not
        # a guess.  The pipe stays open afterwards; socat only logs again
        # when it exits, far less than a pipe buffer.
        while _READY_MARK not in seen:
            line = _readline(process, deadline)
            if line is None:
                process.kill()
                process.wait()
                raise SocatError(f"socat did not start: {seen.decode(errors='replace')[-500:]}")
            seen += line
        self.process = process
        return self

    replug = start

    def unplug(self) -> None:
        """Kill socat: the pty vanishes under whoever has it open."""
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        process.wait(self.timeout)
        if process.stderr is not None:
            process.stderr.close()

    close = unplug

    def open_peer(self) -> int:
        """A raw, non-blocking descriptor on the device side."""
        fd = os.open(self.peer, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        make_raw(fd)
        return fd

    def __enter__(self) -> SocatPair:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.unplug()


def make_raw(fd: int) -> None:
    """Raw mode without echo: bytes pass unchanged in both directions."""
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


def _readline(process: subprocess.Popen[bytes], deadline: float) -> bytes | None:
    """One line of socat's stderr, or None at EOF or the deadline."""
    assert process.stderr is not None
    fd = process.stderr.fileno()
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 1)
        if not chunk:
            return None
        line += chunk
    return line
