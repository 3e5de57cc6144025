"""``gateway run -c FILE`` as a subprocess for the tests that need a real process
(SIGKILL, SIGHUP): its log is collected by a thread and waited on by pattern,
and with ``notify=True`` it gets a NOTIFY_SOCKET the test reads, like systemd's.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 15.0


class GatewayRun:
    """``gateway run -c FILE`` as a subprocess; its log is collected by a thread."""

    def __init__(self, config: Path, *, notify_socket: str | None = None) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop("NOTIFY_SOCKET", None)
        if notify_socket is not None:
            env["NOTIFY_SOCKET"] = notify_socket
        self.process = subprocess.Popen([sys.executable, "-m", "gateway", "run", "-c", str(config)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        self.log: list[str] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self.cond:
                self.log.append(line)
                self.cond.notify_all()

    def wait_log(self, pattern: str, timeout: float = TIMEOUT) -> str:
        """The first log line matching ``pattern`` (AssertionError at the deadline)."""
        regex = re.compile(pattern)

        def found() -> str | None:
            return next((line for line in self.log if regex.search(line)), None)

        with self.cond:
            ok = self.cond.wait_for(lambda: found() is not None or self.process.poll() is not None, timeout)
            line = found()
            assert ok and line is not None, f"gateway log never matched {pattern!r}: {''.join(self.log)[-3000:]}"
            return line

    def stop(self) -> int:
        """SIGTERM, then the exit status (SIGKILL if it does not stop in time)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(TIMEOUT)


class NotifyListener:
    """A bound AF_UNIX datagram socket, like systemd's: what the service sends, in order."""

    def __init__(self, directory: Path) -> None:
        self.path = os.fspath(directory / "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages: list[dict[str, str]] = []

    def wait_for(self, key: str, value: str | None = None, timeout: float = TIMEOUT) -> dict[str, str]:
        """The next message (after those already returned) that sets ``key`` (to ``value``)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {key}={value or '*'} from the service; got {self.messages}"
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append(fields)
            if key in fields and (value is None or fields[key] == value):
                return fields

    def close(self) -> None:
        self.sock.close()
