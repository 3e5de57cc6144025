"""circuits.io.stdio and the lazy circuits.io.stdin/stdout/stderr, in child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import tty
from pathlib import Path

import pytest

import circuits.io
import circuits.io.stdio as stdio

ROOT = Path(__file__).resolve().parents[2]

NO_SIDE_EFFECTS = r"""
import fcntl, os, signal, sys, threading
def state():
    return (sorted(os.listdir("/proc/self/fd")), [fcntl.fcntl(fd, fcntl.F_GETFL) for fd in (0, 1, 2)],
            threading.active_count(), signal.getsignal(signal.SIGCHLD))
before = state()
import circuits.io, circuits.io.stdio
assert state() == before, (before, state())
assert not {"stdin", "stdout", "stderr"} & set(vars(circuits.io)), "built eagerly"
assert circuits.io.stdio._streams == {}
stdin = circuits.io.stdin  # built now, but the descriptor is only touched once it opens
assert stdin is circuits.io.stdin is circuits.io.stdio.stdin
assert type(stdin).__name__ == "StdIn" and stdin.closed
assert type(circuits.io.stdout).__name__ == "StdOut" and type(circuits.io.stderr).__name__ == "StdErr"
assert (circuits.io.stdin.channel, circuits.io.stdout.channel, circuits.io.stderr.channel) == ("stdin", "stdout", "stderr")
assert state() == before, (before, state())
try:
    circuits.io.nothing
except AttributeError:
    pass
else:
    raise AssertionError("module __getattr__ invents attributes")
"""

ECHO = r"""
import os, sys
from circuits import BaseComponent, Manager, handler
import circuits.io
from circuits.io.events import close, write

class Echo(BaseComponent):
    channel = "stdin"

    @handler("read")
    def _read(self, data):
        self.fire(write(data.upper()), "stdout")
        self.fire(write("<%d>" % len(data)), "stderr")

    @handler("eof")
    def _eof(self):
        self.fire(close(), "stdout")

    @handler("closed", channel="stdout")
    def _done(self):
        self.stop()

app = Manager()
for component in (circuits.io.stdin, circuits.io.stdout, circuits.io.stderr, Echo()):
    component.register(app)
app.run()
# The standard streams are still open, and blocking again.
assert os.get_blocking(0) and os.get_blocking(1)
os.fstat(0), os.fstat(1)
"""


def run_child(script: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=30, check=False, **kwargs)  # type: ignore[call-overload]


def test_importing_circuits_io_has_no_side_effects() -> None:
    result = run_child(NO_SIDE_EFFECTS, stdin=subprocess.PIPE, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b"" and result.stderr == b""


def test_stdin_and_stdout_through_pipes() -> None:
    data = "line one\nzwei größe\n" * 5000
    result = run_child(ECHO, input=data.encode(), capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == data.encode().upper()  # bytes, as in 3.x: no encoding was given
    assert result.stderr.startswith(b"<")


def test_redirected_regular_files(tmp_path: Path) -> None:
    (tmp_path / "in").write_bytes(b"from a file\n" * 1000)
    with open(tmp_path / "in", "rb") as stdin, open(tmp_path / "out", "wb") as stdout:
        result = run_child(ECHO, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "out").read_bytes() == b"FROM A FILE\n" * 1000


def test_dev_null_as_stdin() -> None:
    result = run_child(ECHO, stdin=subprocess.DEVNULL, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b""


def test_a_terminal() -> None:
    # A pty (character device) goes through the poller, not the file path.
    controller, terminal = os.openpty()
    try:
        tty.setraw(terminal)
        proc = subprocess.Popen([sys.executable, "-c", ECHO], cwd=ROOT, stdin=terminal, stdout=terminal,
                                stderr=subprocess.PIPE)
        os.close(terminal)
        terminal = -1
        os.write(controller, b"typed\n")
        got = b""
        while b"TYPED\n" not in got:
            got += os.read(controller, 1024)
        os.write(controller, b"\x04")  # raw mode: ^D is just a byte, no EOF
        got = b""
        while b"\x04" not in got:
            got += os.read(controller, 1024)
        proc.kill()
        proc.wait(10)
        assert proc.stderr is not None
        proc.stderr.close()
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)


@pytest.mark.parametrize("name", ["stdin", "stdout", "stderr"])
def test_standard_stream_is_built_once(name: str) -> None:
    assert getattr(circuits.io, name) is getattr(stdio, name) is stdio.standard_stream(name)
