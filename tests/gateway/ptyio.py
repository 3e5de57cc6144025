"""Reading and writing the test's end of a socat pair (a pty descriptor), with deadlines."""

from __future__ import annotations

import os
import select
import time

TIMEOUT = 10.0


def read_fd(fd: int, size: int, timeout: float = TIMEOUT) -> bytes:
    """Exactly ``size`` bytes from ``fd``, or an AssertionError saying what came by the deadline."""
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) < size:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            got = repr(data) if len(data) <= 200 else f"{len(data)} bytes"
            raise AssertionError(f"got {got}, wanted {size} bytes")
        data += os.read(fd, size - len(data))
    return data


def write_fd(fd: int, data: bytes, timeout: float = TIMEOUT) -> None:
    """All of ``data`` to ``fd`` (in pty-sized pieces), or an AssertionError at the deadline."""
    view = memoryview(data)
    deadline = time.monotonic() + timeout
    while view:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([], [fd], [], left)[1]:
            raise AssertionError("the device side would not take the data")
        view = view[os.write(fd, view[:4096]):]
