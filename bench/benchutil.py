"""What the gateway benchmarks share: waiting for a child process to say it is up."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time


def wait_for_output(process: subprocess.Popen[bytes], pattern: bytes, timeout: float = 15.0) -> bytes:
    """Read ``process``'s stderr until ``pattern`` (a regex) shows up; returns what was read."""
    assert process.stderr is not None
    fd = process.stderr.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    while not re.search(pattern, seen):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise RuntimeError(f"timed out waiting for {pattern!r}: {seen[-800:]!r}")
        chunk = os.read(fd, 65536)
        if not chunk:
            raise RuntimeError(f"process exited: {seen[-800:]!r}")
        seen += chunk
    return seen
