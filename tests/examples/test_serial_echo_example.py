"""examples/serial_echo.py on a real socat pty pair."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import tty
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "serial_echo.py"


def _wait_for(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        select.select([], [], [], 0.01)


def _read_until(fd: int, marker: bytes, timeout: float = 10.0) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} in {data!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            data += os.read(fd, 4096)
    return data


def test_lines_come_back(tmp_path: Path) -> None:
    a, b = tmp_path / "ttyA", tmp_path / "ttyB"
    socat = subprocess.Popen(["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
                             stderr=subprocess.DEVNULL)
    try:
        _wait_for(a)
        _wait_for(b)
        echo = subprocess.Popen([sys.executable, str(EXAMPLE), str(a)], stdout=subprocess.PIPE)
        try:
            assert b"echoing on" in _read_until(echo.stdout.fileno(), b"\n")
            peer = os.open(b, os.O_RDWR | os.O_NOCTTY)
            tty.setraw(peer)
            try:
                os.write(peer, b"hello\r\nwor")
                os.write(peer, b"ld\n")
                assert _read_until(peer, b"world\r\n") == b"hello\r\nworld\r\n"
            finally:
                os.close(peer)
        finally:
            echo.send_signal(signal.SIGINT)
            assert echo.wait(10) == 0
            echo.stdout.close()
    finally:
        socat.terminate()
        socat.wait(5)
