"""The loop: run/start/stop/tick/flush, generate_events, threads, signals, idleness."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from circuits import BaseComponent, Component, Event, Manager, Timer, handler
from circuits.core.runner import GENERATIONS_PER_PASS

from .helpers import TIMEOUT, Recorder, idle, running, wait_until_blocked

ROOT = Path(__file__).resolve().parents[2]


class hello(Event):
    pass


def test_run_fires_started_and_returns_the_stop_code() -> None:
    got: list[Any] = []

    class App(Component):
        def started(self, component: Any) -> None:
            got.append(("started", component, self.running))
            self.stop(3)

        def stopped(self, component: Any) -> None:
            got.append(("stopped", component, self.running))

    app = App()
    assert app.run() == 3
    assert got == [("started", app, True), ("stopped", app, False)]
    assert not app.running


def test_run_without_a_code_returns_none_and_can_run_again() -> None:
    class App(Component):
        def started(self, component: Any) -> None:
            self.stop()

    app = App()
    assert app.run() is None
    assert app.run() is None


def test_run_on_a_child_runs_its_root() -> None:
    class Stopper(Component):
        def started(self, component: Any) -> None:
            self.stop(7)

    root = Manager()
    child = Stopper().register(root)
    assert child.run() == 7


def test_stop_when_not_running_does_nothing() -> None:
    app = Manager()
    app.stop(1)
    assert not app.running
    assert not app._circuits_queue  # no stopped event queued


def test_events_fired_before_stop_are_still_delivered() -> None:
    got: list[str] = []

    class App(Component):
        def started(self, component: Any) -> None:
            for i in range(3):
                self.fire(hello(i))
            self.stop(0)
            self.fire(hello("after"))

        def hello(self, i: Any) -> None:
            got.append(str(i))
            if i == 0:
                self.fire(Event.create("chained"))

        def chained(self) -> None:
            got.append("chained")

    assert App().run() == 0
    assert got == ["0", "1", "2", "after", "chained"]


def test_start_runs_in_a_thread_and_stop_ends_it() -> None:
    got: list[str] = []

    class App(Component):
        def hello(self) -> None:
            got.append(threading.current_thread().name)

    app = App()
    with running(app) as rec:
        assert app.running
        app.fire(hello())
        assert rec.wait_for("hello")
        assert got == ["App"]  # ran in the app's thread, named after it
    assert not app.running
    assert rec.count("stopped") == 1


def test_stop_from_another_thread_with_a_code() -> None:
    app = Manager()
    rec = Recorder().register(app)
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(app.run()))
    thread.start()
    assert rec.wait_for("started")
    app.stop("bye")
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert result == ["bye"]


def test_tick_dispatches_a_bounded_number_of_generations() -> None:
    got: list[int] = []

    class App(Component):
        def hello(self, n: int) -> None:
            got.append(n)
            self.fire(hello(n + 1))  # an endless chain: a pass must still end

    app = App()
    app.fire(hello(0))
    app.tick(0)
    assert got == list(range(GENERATIONS_PER_PASS))
    app.tick(0)
    assert got == list(range(2 * GENERATIONS_PER_PASS))
    passes = app.loop.passes
    app.tick(0)
    assert app.loop.passes == passes + 1


def test_tick_with_a_timeout_returns_when_idle() -> None:
    app = Manager()
    start = time.monotonic()
    app.tick(0.05)
    elapsed = time.monotonic() - start
    assert 0.04 <= elapsed < 2


def test_flush_runs_until_nothing_is_left() -> None:
    got: list[int] = []

    class App(Component):
        def hello(self, n: int) -> Any:
            got.append(n)
            if n < 5:
                self.fire(hello(n + 1))
            yield  # a task that goes on in the next round
            got.append(-n)

    app = App()
    app.fire(hello(0))
    app.flush()
    assert sorted(got) == [-5, -4, -3, -2, -1, 0, 0, 1, 2, 3, 4, 5]
    assert not app._circuits_queue and not app._circuits_ready


def test_generate_events_lets_a_generator_feed_the_loop() -> None:
    class Source(BaseComponent):
        def __init__(self) -> None:
            super().__init__()
            self.pending = 3
            self.asked: list[float] = []

        @handler("generate_events")
        def _generate(self, event: Any) -> None:  # no arguments, as in 3.x
            assert event.args == [] and event.max_wait == event.time_left
            self.asked.append(event.time_left)
            if self.pending:
                self.pending -= 1
                self.fire(hello())
            else:
                event.reduce_time_left(0.02)

    app = Manager()
    src = Source().register(app)
    rec = Recorder().register(app)
    app.flush()
    for _ in range(6):
        start = time.monotonic()
        app.tick()  # would block forever without the generator's reduce_time_left
        assert time.monotonic() - start < 2
    assert rec.count("hello") == 3
    assert src.asked[0] == -1  # no timers: unlimited until reduced


def test_generate_events_is_not_dispatched_without_a_generator() -> None:
    app = Manager()
    rec = Recorder().register(app)
    app.flush()
    app.tick(0)
    app.tick(0)
    assert "generate_events" not in rec.names()


def test_fire_from_another_thread_wakes_a_blocked_loop_at_once() -> None:
    app = Manager()
    with running(app) as rec:
        wait_until_blocked(app)
        passes = app.loop.passes
        idle(0.2)
        assert app.loop.passes == passes, "the loop was not blocked while idle"
        fired_at = time.monotonic()
        threading.Thread(target=lambda: app.fire(hello())).start()
        assert rec.wait_for("hello", timeout=TIMEOUT)
        latency = time.monotonic() - fired_at
        assert latency < 1.0  # a blocked loop with no timers would otherwise sleep forever


def test_many_threads_fire_concurrently_and_nothing_is_lost() -> None:
    counts: dict[int, int] = {}

    class App(Component):
        def hello(self, who: int) -> None:
            counts[who] = counts.get(who, 0) + 1

    app = App()
    with running(app) as rec:
        def spam(who: int) -> None:
            for _ in range(500):
                app.fire(hello(who))

        threads = [threading.Thread(target=spam, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        assert rec.wait_for("hello", count=2000)
    assert counts == {0: 500, 1: 500, 2: 500, 3: 500}


def test_an_idle_app_blocks_in_the_poller() -> None:
    app = Manager()
    with running(app):
        wait_until_blocked(app)
        passes = app.loop.passes
        idle(0.3)
        assert app.loop.passes - passes <= 1
        assert app.loop.sleeping


def test_a_thousand_idle_timers_cost_no_passes() -> None:
    app = Manager()
    for i in range(1000):
        Timer(3600 + i, hello()).register(app)
    assert app.loop.timer_count == 1000
    with running(app):
        wait_until_blocked(app)
        passes = app.loop.passes
        idle(0.3)
        assert app.loop.passes - passes <= 1
    assert app.loop.timer_count == 1000


# -- signals, in a real process ------------------------------------------------

SIGNAL_APP = textwrap.dedent("""
    import sys
    from circuits import Component

    class App(Component):
        def started(self, component):
            print("ready", flush=True)

        def signal(self, signo, stack):
            print("signal", signo, flush=True)

        def stopped(self, component):
            print("stopped", flush=True)

    code = App().run()
    print("run returned", code, flush=True)
""")


@pytest.mark.parametrize("signo", [signal.SIGINT, signal.SIGTERM])
def test_sigint_and_sigterm_fire_signal_then_stop(tmp_path: Path, signo: int) -> None:
    script = tmp_path / "app.py"
    script.write_text(SIGNAL_APP)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signo)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out.splitlines() == [f"signal {int(signo)}", "stopped", "run returned None"], err
    assert proc.returncode == 0, err


def test_signal_handlers_are_restored_after_run() -> None:
    before = signal.getsignal(signal.SIGINT)

    class App(Component):
        def started(self, component: Any) -> None:
            self.stop()

    App().run()
    assert signal.getsignal(signal.SIGINT) is before


def test_signals_write_to_the_loops_wake_up_socket_while_it_runs() -> None:
    seen: list[int] = []

    class App(Component):
        def started(self, component: Any) -> None:
            # Read the interpreter's wake-up fd by swapping it, then put it back.
            fd = signal.set_wakeup_fd(-1)
            signal.set_wakeup_fd(fd)
            seen.append(fd)
            self.stop()

    app = App()
    before = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(before)
    app.run()
    assert seen == [app.loop.wakeup_fileno()]
    after = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(after)
    assert after == before  # restored when run() returns
