"""Run every example as a program and compare what it prints with the manual.

Most examples run until interrupted (the manual says "Press ^C to exit").
Each is started as a subprocess; the test reads its output as it comes
(never sleeping a guessed time), and once the expected output is there,
sends SIGINT and checks that the program exits cleanly. The whole stdout,
up to the exit, must equal the manual's output exactly.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TUTORIAL = EXAMPLES / "tutorial"

#: Upper bound for an example to show its output (start-up included).
TIMEOUT = 20.0
#: Silence that tells a do-nothing example (001, 002) is idling in its loop.
QUIET = 1.0


class Program:
    """A running example whose stdout and stderr are collected as they come."""

    def __init__(self, path: Path) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(path)], cwd=str(ROOT), env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = b""
        self.err = b""
        self.selector = selectors.DefaultSelector()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for stream, name in ((self.proc.stdout, "out"), (self.proc.stderr, "err")):
            os.set_blocking(stream.fileno(), False)
            self.selector.register(stream, selectors.EVENT_READ, name)

    @property
    def stdout(self) -> str:
        return self.out.decode()

    @property
    def stderr(self) -> str:
        return self.err.decode()

    def _read(self, timeout: float) -> bool:
        """Read whatever arrives within ``timeout``; False if nothing did."""
        got = False
        for key, _ in self.selector.select(timeout):
            data = os.read(key.fileobj.fileno(), 65536)  # type: ignore[union-attr]
            if not data:
                self.selector.unregister(key.fileobj)
                continue
            got = True
            if key.data == "out":
                self.out += data
            else:
                self.err += data
        return got

    def wait_for(self, condition: Callable[[Program], bool], timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self):
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                pytest.fail(f"timed out waiting for output\nstdout: {self.stdout!r}\nstderr: {self.stderr!r}")
            if self.proc.poll() is not None and not self.selector.get_map():
                pytest.fail(f"exited early ({self.proc.returncode})\n"
                            f"stdout: {self.stdout!r}\nstderr: {self.stderr!r}")
            self._read(min(left, 0.5))

    def wait_for_quiet(self, quiet: float = QUIET, timeout: float = TIMEOUT) -> None:
        """Wait until the program prints nothing and uses no CPU for ``quiet`` s.

        The CPU check (Linux /proc) tells "idle in the loop" from "still
        importing" on a slow machine; an idle loop must not spin anyway.
        """
        deadline = time.monotonic() + timeout
        since = time.monotonic()
        cpu = _cpu_ticks(self.proc.pid)
        while time.monotonic() - since < quiet:
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"never went quiet\nstdout: {self.stdout!r}\nstderr: {self.stderr!r}")
            if self.proc.poll() is not None:
                pytest.fail(f"exited early ({self.proc.returncode})\nstderr: {self.stderr!r}")
            if self._read(0.1):
                since = time.monotonic()
            now_cpu = _cpu_ticks(self.proc.pid)
            if now_cpu != cpu:
                cpu = now_cpu
                since = time.monotonic()

    def interrupt(self, timeout: float = TIMEOUT) -> int:
        """Send SIGINT, collect the rest of the output, return the exit code."""
        self.proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + timeout
        while self.selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                state = _process_state(self.proc.pid)
                self.kill()
                pytest.fail(f"did not exit on SIGINT\nstdout: {self.stdout!r}\nstderr: {self.stderr!r}\n{state}")
            self._read(left)
        return self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))

    def finish(self, timeout: float = TIMEOUT) -> int:
        """Wait for a program that ends by itself; return its exit code."""
        deadline = time.monotonic() + timeout
        while self.selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                pytest.fail(f"did not exit\nstdout: {self.stdout!r}\nstderr: {self.stderr!r}")
            self._read(left)
        return self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self) -> None:
        self.kill()
        self.selector.close()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def _cpu_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.fixture
def run():
    programs: list[Program] = []

    def start(path: Path) -> Program:
        program = Program(path)
        programs.append(program)
        return program

    yield start
    for program in programs:
        program.close()


def _process_state(pid: int) -> str:
    """Where a stuck child is (kernel wait channel, signal masks), for the failure message."""
    try:
        wchan = Path(f"/proc/{pid}/wchan").read_text()
        status = [line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if line.startswith(("State", "Sig", "Shd"))]
    except OSError as exc:
        return f"(no /proc state: {exc})"
    return f"wchan: {wchan}\n" + "\n".join(status)


def interrupted_cleanly(program: Program, rc: int) -> None:
    assert rc == 0, f"exit code {rc}\nstderr: {program.stderr}"
    assert "KeyboardInterrupt" not in program.stderr


def prints(expected: str) -> Callable[[Program], bool]:
    """Wait condition: stdout has reached the length of the expected output."""
    return lambda p: len(p.stdout) >= len(expected) or not expected.startswith(p.stdout)


# -- examples that print something, then run until ^C ------------------------

MANUAL_OUTPUT = {
    TUTORIAL / "003.py": "Hello World!\n",
    TUTORIAL / "004.py": "Hello I'm Bob!\nHello I'm Fred!\n",
    TUTORIAL / "006.py": "Woof! I'm Bob!\nWoof! I'm Fred!\n",
    TUTORIAL / "007.py": "Woof! I'm Bob!\n",
    TUTORIAL / "008.py": "Woof! I'm Bob!\nWoof! I'm Fred!\n",
    EXAMPLES / "handler_returns.py": "In pound:\nBob\nFred\n",
    EXAMPLES / "handler_annotation.py": "Start event detected\n",
}


@pytest.mark.parametrize("path", list(MANUAL_OUTPUT), ids=lambda p: p.name)
def test_prints_the_manuals_output(run, path):
    expected = MANUAL_OUTPUT[path]
    program = run(path)
    program.wait_for(prints(expected))
    rc = program.interrupt()
    assert program.stdout == expected
    interrupted_cleanly(program, rc)


@pytest.mark.parametrize("name", ["handler_returns.py", "handler_annotation.py"])
def test_debugger_examples_log_events_on_stderr(run, name):
    program = run(EXAMPLES / name)
    program.wait_for(lambda p: "<started[" in p.stderr)
    rc = program.interrupt()
    interrupted_cleanly(program, rc)
    assert "<stopped[" in program.stderr
    if name == "handler_returns.py":
        assert "<identify_success[" in program.stderr


# -- do-nothing examples ------------------------------------------------------

@pytest.mark.parametrize("name", ["001.py", "002.py"])
def test_does_nothing_until_interrupted(run, name):
    program = run(TUTORIAL / name)
    program.wait_for_quiet()
    rc = program.interrupt()
    assert program.stdout == ""
    assert program.stderr == ""
    interrupted_cleanly(program, rc)


# -- 005: the graph -----------------------------------------------------------

# The manual's output, pids replaced by PID. The manual's copy lost the
# leading spaces that indent Bob and Fred one level below Pound.
MANUAL_005 = """\
* <Pound/* PID:MainThread (queued=0, channels=1, handlers=3) [R]>
 * <Bob/* PID:MainThread (queued=0, channels=1, handlers=1) [S]>
 * <Fred/* PID:MainThread (queued=0, channels=1, handlers=1) [S]>
Hello I'm Bob!
Hello I'm Fred!
"""

_STATE = re.compile(r" \[[RS]\]>$", re.M)


def _run_005(run) -> str:
    program = run(TUTORIAL / "005.py")
    program.wait_for(lambda p: p.stdout.count("\n") >= 5)
    rc = program.interrupt()
    interrupted_cleanly(program, rc)
    return re.sub(rf"\b{program.proc.pid}:", "PID:", program.stdout)


def test_005_prints_the_graph_then_the_greetings(run):
    # The [R]/[S] flags are compared in the next test.
    assert _STATE.sub(" [.]>", _run_005(run)) == _STATE.sub(" [.]>", MANUAL_005)


def test_005_flags_only_the_root_as_running(run):
    assert _run_005(run) == MANUAL_005


# -- 009: the error nobody catches --------------------------------------------

def test_009_prints_nothing_but_reports_the_errors(run):
    # The manual (circuits 2.x) printed nothing at all; we never swallow an
    # error: with no Debugger, the unhandled NameError is reported on stderr.
    program = run(TUTORIAL / "009.py")
    program.wait_for(lambda p: p.stderr.count("NameError: name 'name' is not defined") >= 2)
    rc = program.interrupt()
    interrupted_cleanly(program, rc)
    assert program.stdout == ""
    assert program.stderr.count("Traceback (most recent call last):") == 2
    assert "Bob.bark" in program.stderr
    assert "Fred.bark" in program.stderr
    assert 'print("Woof! I\'m %s!" % name)' in program.stderr


def test_009_with_the_debugger_the_debugger_reports_the_errors(run, tmp_path):
    # The manual's next step: change the last line to run Pound with a Debugger.
    source = (TUTORIAL / "009.py").read_text()
    assert source.rstrip().endswith("\nPound().run()")
    changed = tmp_path / "009_debugger.py"
    changed.write_text(source.rstrip()[: -len("Pound().run()")]
                       + "from circuits import Debugger\n(Pound() + Debugger()).run()\n")
    program = run(changed)
    program.wait_for(lambda p: p.stderr.count("ERROR <handler") >= 2 and p.stderr.endswith("\n"))
    rc = program.interrupt()
    interrupted_cleanly(program, rc)
    assert program.stdout == ""
    err = program.stderr
    assert "Unhandled error" not in err  # the Debugger handled the exception events
    for line in ("<started[*]", "<bark[bob] ( )>", "<bark[fred] ( )>", "ERROR <handler[bob][bark] (Bob.bark)>",
                 "ERROR <handler[fred][bark] (Fred.bark)>", "<signal[*] (2,", "<stopped[*]"):
        assert line in err, line
    assert err.index("<bark[bob]") < err.index("ERROR <handler[bob][bark] (Bob.bark)>") < err.index("<stopped[*]")
    assert err.count("""print("Woof! I'm %s!" % name)""") >= 2


# -- hello.py: stops by itself ------------------------------------------------

def test_hello_prints_and_exits(run):
    program = run(EXAMPLES / "hello.py")
    rc = program.finish()
    assert (rc, program.stdout, program.stderr) == (0, "Hello World!\n", "")


def test_every_example_is_tested():
    tested = set(MANUAL_OUTPUT) | {TUTORIAL / n for n in ("001.py", "002.py", "005.py", "009.py")}
    tested.add(EXAMPLES / "hello.py")
    seed_examples = {TUTORIAL / f"{i:03}.py" for i in range(1, 10)} | {
        EXAMPLES / n for n in ("handler_returns.py", "handler_annotation.py", "hello.py")}
    assert seed_examples <= tested
    for path in seed_examples:
        assert path.exists(), path
