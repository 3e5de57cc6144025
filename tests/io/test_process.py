"""circuits.io.process.Process with real child processes."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from circuits import BaseComponent, Manager, handler
from circuits.core.events import Event, stopped
from circuits.io import Process
from circuits.io.events import close, write
from circuits.io.process import close_stdin, start

from .helpers import Recorder, run_until

PY = sys.executable


def test_stdout_stderr_and_exit_status(app: Manager, recorder: Recorder) -> None:
    p = Process([PY, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"]).register(app)
    p.fire(start())
    run_until(app, lambda: recorder.count("terminated"))
    assert recorder.args("terminated") == [(3,)]
    assert p.status == 3 and not p.alive
    assert b"".join(a[0] for a in recorder.args("stdout")) == b"out\n"
    assert b"".join(a[0] for a in recorder.args("stderr")) == b"err\n"
    assert p.stdout.getvalue() == b"out\n" and p.stderr.getvalue() == b"err\n"
    assert recorder.args("started") == [(p,)]
    assert recorder.count("read", "process") == 0  # distinct events, not a shared `read`
    # The 3.x view: the pipes' own channels carry read/eof/closed.
    pid = p.child_pid
    assert b"".join(a[0] for a in recorder.args("read", f"{pid}.stdout")) == b"out\n"
    assert b"".join(a[0] for a in recorder.args("read", f"{pid}.stderr")) == b"err\n"
    assert recorder.count("eof", f"{pid}.stdout") == 1 and recorder.count("closed", f"{pid}.stdout") == 1
    assert p._terminated and p._stdout_closed and p._stderr_closed


def test_3x_pipe_channels_and_stop_terminates_the_child(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    p = Process(f"cat - > {target}; sleep 30", shell=True).register(app)
    p.start()
    assert not p._terminated and p._stdin is None  # the pipes join on the loop's next pass
    run_until(app, lambda: recorder.count("started"))
    p.fire(write("Hello"), p._stdin.channel)
    p.fire(close(), p._stdin.channel)
    run_until(app, lambda: target.exists() and target.read_bytes() == b"Hello")
    p.stop()  # the child, not the app
    run_until(app, lambda: recorder.count("terminated"))
    assert p.status == -signal.SIGTERM


def test_start_from_another_thread_while_the_loop_runs() -> None:
    app = Manager()
    recorder = Recorder().register(app)
    app.start()
    try:
        p = Process([PY, "-c", "import sys; sys.stdout.write(sys.stdin.read())"]).register(app)
        for _ in range(5):
            recorder.events.clear()
            p.start()  # this thread is not the loop's
            p.fire(write(b"ping"))
            p.fire(close())
            assert p.wait_exit(20) == 0
            deadline = time.monotonic() + 20
            while not recorder.count("terminated") and time.monotonic() < deadline:
                time.sleep(0.01)
            assert recorder.count("error") == 0, recorder.args("error")
            assert p.stdout.getvalue() == b"ping"
    finally:
        app.stop()
        app.join(10)


def test_all_output_is_fired_before_terminated(app: Manager, recorder: Recorder) -> None:
    # The child writes more than a pipe holds and exits at once.
    code = "import os; os.write(1, b'x' * 300000); os.write(2, b'y' * 100000)"
    for _ in range(3):
        recorder.events.clear()
        p = Process([PY, "-c", code]).register(app)
        p.start()
        run_until(app, lambda: recorder.count("terminated"))
        names = recorder.names("process")
        assert names.index("terminated") > max(i for i, n in enumerate(names) if n in ("stdout", "stderr"))
        assert len(p.stdout) == 300000 and len(p.stderr) == 100000
        p.unregister()


def test_stdin_round_trip_and_close(app: Manager, recorder: Recorder) -> None:
    p = Process(["cat"]).register(app)
    p.fire(start())
    data = os.urandom(1 << 20)
    for i in range(0, len(data), 65536):
        p.fire(write(data[i:i + 65536]))
    p.fire(close_stdin())
    run_until(app, lambda: recorder.count("terminated"))
    assert p.stdout.getvalue() == data
    assert b"".join(a[0] for a in recorder.args("stdout")) == data
    assert p.status == 0
    p.fire(write(b"too late"))
    run_until(app, lambda: recorder.count("error"))
    assert isinstance(recorder.args("error")[0][0], BrokenPipeError)


def test_str_writes_and_shell_cwd_env(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    p = Process('read line; echo "$line $FOO $(pwd)"', shell=True, cwd=str(tmp_path),
                env={"FOO": "bar", "PATH": os.environ["PATH"]}).register(app)
    p.start()
    p.fire(write("hello\n"))
    run_until(app, lambda: recorder.count("terminated"))
    assert p.stdout.getvalue() == f"hello bar {tmp_path}\n".encode()


@pytest.mark.parametrize("how, sig", [("kill", signal.SIGKILL), ("terminate", signal.SIGTERM),
                                      ("signal", signal.SIGINT)])
def test_signals(app: Manager, recorder: Recorder, how: str, sig: int) -> None:
    # The child puts SIGINT back to its default first: a test run started in
    # the background by a shell inherits SIGINT ignored, and `sleep` would
    # never die of it. It says so before the signal is sent.
    child = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_DFL); print('ready', flush=True); time.sleep(30)"
    p = Process([PY, "-c", child]).register(app)
    p.start()
    run_until(app, lambda: b"ready" in p.stdout.getvalue())
    if how == "signal":
        p.signal(sig)
    else:
        getattr(p, how)()
    run_until(app, lambda: recorder.count("terminated"))
    assert p.status == -sig
    p.kill()  # after the exit: a no-op, not an error


def test_a_missing_program_is_an_error_event(app: Manager, recorder: Recorder) -> None:
    p = Process(["/nonexistent/program"]).register(app)
    p.fire(start())
    run_until(app, lambda: recorder.count("error"))
    assert isinstance(recorder.args("error")[0][0], FileNotFoundError)
    assert recorder.count("started") == 0 and p.popen is None and not p.alive


def test_output_buffers_are_bounded(app: Manager, recorder: Recorder) -> None:
    p = Process([PY, "-c", "import os; [os.write(1, bytes([65 + i % 26]) * 100) for i in range(50)]"],
                max_output=1000).register(app)
    p.start()
    run_until(app, lambda: recorder.count("terminated"))
    everything = b"".join(a[0] for a in recorder.args("stdout"))
    assert len(everything) == 5000  # the events carry all of it
    assert p.stdout.getvalue() == everything[-1000:] and p.stdout.dropped == 4000


@pytest.mark.parametrize("exit_watch", ["pidfd", "sigchld", "thread"])
def test_the_exit_wakes_the_loop_without_polling(app: Manager, recorder: Recorder, exit_watch: str) -> None:
    p = Process([PY, "-c", "import time; time.sleep(0.3)"], exit_watch=exit_watch).register(app)
    p.start()
    run_until(app, lambda: recorder.count("started"))
    if exit_watch == "pidfd":
        assert p._pidfd is not None and app.loop.is_reading(p._pidfd)
    before = app.loop.passes
    started = time.monotonic()
    # Each pass may block for 30 s: only the exit itself can end them early.
    run_until(app, lambda: recorder.count("terminated"), timeout=20, step=30)
    assert time.monotonic() - started < 10
    assert app.loop.passes - before < 10
    assert p.status == 0


def test_terminated_does_not_wait_for_grandchildren_holding_the_pipes(
        app: Manager, recorder: Recorder) -> None:
    p = Process("sleep 30 & echo hi", shell=True).register(app)
    p.start()
    started = time.monotonic()
    run_until(app, lambda: recorder.count("terminated"), timeout=25)
    # The grandchild holds the pipes for 30 s; terminated came long before.
    assert time.monotonic() - started < 20
    assert p.stdout.getvalue() == b"hi\n"


def test_wait_in_a_handler(app: Manager, recorder: Recorder) -> None:
    results: list[Any] = []

    class go(Event):
        pass

    class Waiter(BaseComponent):
        channel = "waiter"

        @handler("go")
        def _go(self, process: Process) -> Any:
            process.start()
            status = yield process.wait()
            results.append(status)
            status = yield process.wait()  # already exited: at once
            results.append(status)

    p = Process([PY, "-c", "raise SystemExit(7)"]).register(app)
    Waiter().register(app).fire(go(p))
    run_until(app, lambda: len(results) == 2)
    assert results == [7, 7]


def test_wait_with_a_timeout(app: Manager) -> None:
    results: list[Any] = []

    class go(Event):
        pass

    class Waiter(BaseComponent):
        channel = "waiter"

        @handler("go")
        def _go(self, process: Process) -> Any:
            process.start()
            results.append((yield process.wait(timeout=0.1)))
            process.kill()
            results.append((yield process.wait()))

    p = Process(["sleep", "30"]).register(app)
    Waiter().register(app).fire(go(p))
    run_until(app, lambda: len(results) == 2)
    assert results == [None, -signal.SIGKILL]


def test_wait_exit_from_another_thread() -> None:
    app = Manager()
    p = Process([PY, "-c", "pass"]).register(app)
    app.start()
    try:
        p.fire(start())
        assert p.wait_exit(10) == 0
    finally:
        app.stop()
        app.join(10)
        app.loop.close()


def test_stopping_the_app_kills_the_child(app: Manager, recorder: Recorder) -> None:
    p = Process(["sleep", "30"]).register(app)
    p.start()
    run_until(app, lambda: recorder.count("started"))
    pid = p.child_pid
    assert pid is not None
    app.fire(stopped(app))  # what Manager.stop() fires
    run_until(app, lambda: recorder.count("terminated"))
    assert p.status == -signal.SIGKILL
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)  # already reaped: no zombie left behind


def test_restart_after_exit(app: Manager, recorder: Recorder) -> None:
    p = Process(["echo", "again"]).register(app)
    for n in (1, 2):
        p.fire(start())
        run_until(app, lambda n=n: recorder.count("terminated") == n)  # type: ignore[misc]
        assert p.stdout.getvalue() == b"again\n"
