"""Daemon: a real subprocess forks twice, writes its pid file, and dies on SIGTERM.

The daemon's stdout is a FIFO the test reads (with a deadline) to learn
that it is up; its death is watched with a pidfd (it is not our child any
more, so it cannot be waited for).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from circuits import Manager
from circuits.app import Daemon, WritePID

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 10.0


def read_line(fd: int, timeout: float = TIMEOUT) -> str:
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(0.0, left))
        if not ready:
            raise AssertionError(f"no line within {timeout}s (got {data!r})")
        chunk = os.read(fd, 4096)
        if not chunk:  # the test holds a write end open, so this means something broke
            raise AssertionError("unexpected EOF on the FIFO")
        data += chunk
    return data.decode()


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs pidfd_open (Linux 5.3+)")
def test_a_real_daemon(tmp_path):
    pidfile = tmp_path / "app.pid"
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    # Open our end first, non-blocking, so neither side blocks in open().
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    # Held open until the end: the reader never sees EOF, so select() simply waits.
    keep = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        launcher = subprocess.run([sys.executable, str(Path(__file__).with_name("daemon_app.py")),
                                   str(pidfile), str(fifo)], env=env, timeout=TIMEOUT, capture_output=True)
        assert launcher.returncode == 0, launcher.stderr  # the first parent exits at once
        words = read_line(reader).split()
        assert words[0] == "daemon"
        pid, ppid, sid, cwd = int(words[1]), int(words[2]), int(words[3]), words[4]
        assert int(pidfile.read_text()) == pid  # written before "daemonized" is handled
        assert sid != pid  # the second fork: not a session leader
        assert os.getsid(pid) == sid != os.getsid(0)  # a session of its own (setsid)
        assert cwd == "/"
        assert ppid != os.getpid()
        pidfd = os.pidfd_open(pid)
        try:
            os.kill(pid, signal.SIGTERM)
            ready, _, _ = select.select([pidfd], [], [], TIMEOUT)
            assert ready, "the daemon did not exit on SIGTERM"
        finally:
            os.close(pidfd)
        assert not pidfile.exists()  # removed on the way out
    finally:
        os.close(keep)
        os.close(reader)


def test_write_pid_without_forking(tmp_path):
    pidfile = tmp_path / "x.pid"
    app = Manager()
    daemon = Daemon(str(pidfile)).register(app)
    app.fire(WritePID(), "daemon")
    app.flush()
    assert pidfile.read_text() == f"{os.getpid()}\n"
    assert daemon.stdout == os.devnull and daemon.path == "/"
