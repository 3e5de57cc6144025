"""What the gateway benchmarks share: a child process's stderr (wait for a
line, keep draining it), a throwaway mosquitto, and a mosquitto_sub that
records what a topic receives."""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import threading
import time
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_SUB = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"
STDBUF = shutil.which("stdbuf") or "/usr/bin/stdbuf"
#: ser2net 4.x serving a serial device on a TCP port: SCRIPT DEVICE PORT.
SER2NET_SCRIPT = """#!/bin/sh
cfg=$(mktemp /tmp/s2nXXXX.yaml)
cat > $cfg <<EOC
connection: &con1
  accepter: tcp,127.0.0.1,$2
  connector: serialdev,$1,115200n81,local
  options:
    kickolduser: false
EOC
exec ser2net -n -d -c $cfg
"""


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


def start_subscriber(port: int, topic: str, count: int, received: Path) -> subprocess.Popen[bytes]:
    """mosquitto_sub on 127.0.0.1:``port`` writing ``count`` QoS 1 messages of
    ``topic`` to ``received``; returns once it is subscribed."""
    with received.open("wb") as out:
        # Line-buffered, so the SUBACK note reaches the file at once.
        sub = subprocess.Popen([STDBUF, "-oL", MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-d",
                                "-t", topic, "-C", str(count)],
                               stdout=out, stderr=subprocess.DEVNULL)
    # -d logs the protocol exchange among the messages: SUBACK there means subscribed.
    deadline = time.monotonic() + 10
    while b"SUBACK" not in received.read_bytes():
        if time.monotonic() > deadline:
            raise RuntimeError("mosquitto_sub did not subscribe")
        select.select([], [], [], 0.01)
    return sub


def drain(process: subprocess.Popen[bytes]) -> None:
    """Keep reading a process's stderr so it never blocks on a full pipe."""
    def run() -> None:
        assert process.stderr is not None
        try:
            while process.stderr.read(65536):
                pass
        except (OSError, ValueError):
            pass
    threading.Thread(target=run, daemon=True).start()


def start_broker(work: Path, port: int) -> subprocess.Popen[bytes]:
    """A mosquitto on 127.0.0.1:``port`` (anonymous, no persistence, no queue
    limits), its config in ``work``; returns once it is running."""
    (work / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n"
        "log_type information\nmax_queued_messages 0\nmax_inflight_messages 0\n")
    broker = subprocess.Popen([MOSQUITTO, "-c", str(work / "mosquitto.conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_output(broker, b"running")
    except BaseException:
        broker.kill()
        broker.wait(10)
        raise
    drain(broker)
    return broker
