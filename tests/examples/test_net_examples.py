"""The networking examples, run as programs and talked to over real sockets.

Each example is started as a subprocess; the test reads its output as it
comes (never sleeping a guessed time) to learn where it listens, talks to
it, then sends SIGINT and checks that it exits cleanly.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TIMEOUT = 20.0


class Program:
    """A running example; stdout is collected as it comes, stderr goes to a file.

    (A file, not a pipe: the Debugger logs every event there, and a full pipe
    would stall the program while the test talks to it.)
    """

    def __init__(self, *args: str) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
        self.errfile = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "-u", *args], cwd=str(ROOT), env=env,
                                     stdout=subprocess.PIPE, stderr=self.errfile)
        self.out = b""
        self.selector = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)

    @property
    def err(self) -> bytes:
        self.errfile.seek(0)
        return self.errfile.read()

    def _read(self, timeout: float) -> None:
        for key, _ in self.selector.select(timeout):
            data = os.read(key.fileobj.fileno(), 65536)  # type: ignore[union-attr]
            if not data:
                self.selector.unregister(key.fileobj)
            else:
                self.out += data

    def wait_for_output(self, pattern: str) -> re.Match[str]:
        """Read stdout until ``pattern`` matches it (or fail at the deadline)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            match = re.search(pattern, self.out.decode(errors="replace"))
            if match:
                return match
            left = deadline - time.monotonic()
            if left <= 0 or (self.proc.poll() is not None and not self.selector.get_map()):
                raise AssertionError(f"no {pattern!r} in stdout={self.out!r} stderr={self.err[-2000:]!r}")
            self._read(min(left, 1.0))

    def interrupt(self) -> int:
        """^C, then collect the rest of the output until it exits."""
        self.proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + TIMEOUT
        while self.selector.get_map() and time.monotonic() < deadline:
            self._read(0.5)
        return self.proc.wait(max(0.1, deadline - time.monotonic()))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.selector.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.errfile.close()


@pytest.fixture
def run() -> Iterator[type[Program]]:
    programs: list[Program] = []

    def start(*args: str) -> Program:
        program = Program(*args)
        programs.append(program)
        return program

    yield start  # type: ignore[misc]
    for program in programs:
        program.kill()


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    sock.settimeout(TIMEOUT)
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, f"EOF after {data!r}"
        data += chunk
    return data


def test_echoserver_echoes_with_real_sockets(run):
    program = run(str(EXAMPLES / "echoserver.py"), "127.0.0.1:0")
    port = int(program.wait_for_output(r"Listening on 127\.0\.0\.1:(\d+)\n").group(1))
    clients = [socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) for _ in range(3)]
    for i, client in enumerate(clients):
        client.sendall(b"hello %d\r\n" % i)
    for i, client in enumerate(clients):
        assert recv_exactly(client, 9) == b"hello %d\r\n" % i
    big = bytes(range(256)) * 1024
    clients[0].sendall(big)
    assert recv_exactly(clients[0], len(big)) == big
    for client in clients:
        client.close()
    assert program.interrupt() == 0
    assert b"<read[server]" in program.err  # the Debugger logs events on stderr
    assert b"Traceback" not in program.err


def test_chat_server_relays_to_the_other_clients(run):
    program = run(str(EXAMPLES / "chat_server.py"), "0")
    port = int(program.wait_for_output(r"Listening on 127\.0\.0\.1:(\d+)\n").group(1))
    alice = socket.create_connection(("localhost", port), timeout=TIMEOUT)
    bob = socket.create_connection(("localhost", port), timeout=TIMEOUT)
    # Alice was connected before Bob: she gets what Bob says (and so both are known).
    bob.sendall(b"hi, this is bob\r\n")
    assert recv_exactly(alice, 15) == b"hi, this is bob"  # stripped, as in the HowTo
    alice.sendall(b"hello bob\r\n")
    assert recv_exactly(bob, 9) == b"hello bob"
    carol = socket.create_connection(("localhost", port), timeout=TIMEOUT)
    carol.sendall(b"carol here\n")
    assert recv_exactly(alice, 10) == b"carol here"
    assert recv_exactly(bob, 10) == b"carol here"
    bob.close()  # disconnect: Bob leaves the list; the others keep chatting
    alice.sendall(b"bye bob\n")
    assert recv_exactly(carol, 7) == b"bye bob"
    alice.close()
    carol.close()
    assert program.interrupt() == 0
    assert b"Traceback" not in program.err, program.err


def test_udp_broadcast_counts_on_the_loopback_network(run):
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("0.0.0.0", 0))  # broadcasts reach wildcard-bound sockets
    listener.settimeout(TIMEOUT)
    port = listener.getsockname()[1]
    try:
        program = run(str(EXAMPLES / "udp_broadcast.py"), str(port),
                      "--address", "127.255.255.255", "--interval", "0.02")
        source = int(program.wait_for_output(r"Broadcasting to 127\.255\.255\.255:\d+ from port (\d+)\n").group(1))
        numbers = []
        for _ in range(5):
            data, (host, sport) = listener.recvfrom(100)
            assert (host, sport) == ("127.0.0.1", source)
            numbers.append(int(data))
        assert numbers == list(range(numbers[0], numbers[0] + 5)) and numbers[0] == 0
        assert program.interrupt() == 0
        assert program.err == b""
    finally:
        listener.close()
