"""Worker and task: blocking work in threads or processes; results come back through the loop."""

from __future__ import annotations

import os
import threading
from typing import Any

from circuits import Component, Event, Worker, task

from .helpers import TIMEOUT, running


def add(a: int, b: int = 0) -> int:
    return a + b


def whoami() -> tuple[int, str]:
    return os.getpid(), threading.current_thread().name


def fail() -> None:
    raise ValueError("worker failed")


def wait_on(gate: threading.Event) -> str:
    assert gate.wait(TIMEOUT)
    return "released"


class go(Event):
    pass


class Client(Component):
    """Calls a task when told to and keeps what came back."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.job = (args, kwargs)
        self.results: list[Any] = []
        self.done = threading.Event()

    def go(self) -> Any:
        args, kwargs = self.job
        value = yield self.call(task(*args, **kwargs), "worker")
        self.results.append((value.value, value.errors, threading.current_thread().name))
        self.done.set()


def test_thread_worker_runs_the_task_elsewhere_and_the_result_comes_back() -> None:
    app = Client(whoami)
    Worker().register(app)
    with running(app):
        app.fire(go())
        assert app.done.wait(TIMEOUT)
    (pid, thread), errors, resumed_in = app.results[0]
    assert pid == os.getpid()
    assert thread.startswith("Worker-worker") and thread != "Client"
    assert not errors
    assert resumed_in == "Client"  # the caller goes on in the loop's thread


def test_task_arguments_and_success_event() -> None:
    app = Client(add, 2, b=3)
    Worker().register(app)
    with running(app) as rec:
        app.fire(go())
        assert app.done.wait(TIMEOUT)
        assert rec.wait_for("task_success")
    assert app.results[0][:2] == (5, False)
    success = rec.first("task_success")
    assert success.args[1] == 5


def test_a_failing_task_fires_failure_and_exception_and_the_app_goes_on() -> None:
    errors: list[Any] = []

    class App(Client):
        def exception(self, etype: Any, evalue: Any, tb: Any, handler: Any = None, fevent: Any = None) -> None:
            errors.append((etype, str(evalue)))

    app = App(fail)
    Worker().register(app)
    with running(app) as rec:
        app.fire(go())
        assert app.done.wait(TIMEOUT)
        assert rec.wait_for("task_failure")
        assert rec.wait_for("exception")
        app.job = ((add, 1, 1), {})
        app.done.clear()
        app.fire(go())
        assert app.done.wait(TIMEOUT)
    value, failed, _ = app.results[0]
    assert failed and value[0] is ValueError
    assert errors == [(ValueError, "worker failed")]
    assert app.results[1][:2] == (2, False)


def test_the_loop_keeps_running_while_a_task_blocks() -> None:
    gate = threading.Event()
    app = Client(wait_on, gate)
    Worker().register(app)
    with running(app) as rec:
        app.fire(go())
        app.fire(Event.create("ping"))
        assert rec.wait_for("ping")  # handled while the task is still blocked
        assert not app.done.is_set()
        gate.set()
        assert app.done.wait(TIMEOUT)
    assert app.results[0][0] == "released"


def test_process_worker_runs_the_task_in_another_process() -> None:
    app = Client(whoami)
    Worker(process=True, workers=1).register(app)
    with running(app):
        app.fire(go())
        assert app.done.wait(TIMEOUT * 3)
    (pid, _), errors, resumed_in = app.results[0]
    assert pid != os.getpid()
    assert not errors and resumed_in == "Client"


def test_process_worker_computes_a_result() -> None:
    app = Client(pow, 2, 10)
    worker = Worker(process=True, workers=1).register(app)
    with running(app):
        app.fire(go())
        assert app.done.wait(TIMEOUT * 3)
    assert app.results[0][0] == 1024
    assert worker._executor is None  # shut down when the app stopped


def test_worker_options_and_shutdown_on_unregister() -> None:
    worker = Worker(workers=3, channel="pool")
    assert worker.channel == "pool" and worker.workers == 3 and not worker.process
    assert Worker().channel == "worker"
    app = Component()
    worker.register(app)
    assert worker.executor is worker.executor  # created once, on first use
    worker.unregister()
    app.flush()
    assert worker._executor is None


def test_several_tasks_run_in_parallel_threads() -> None:
    barrier = threading.Barrier(3, timeout=TIMEOUT)

    def meet(i: int) -> int:
        barrier.wait()  # only returns when three tasks run at the same time
        return i

    class App(Component):
        def __init__(self) -> None:
            super().__init__()
            self.got: list[int] = []
            self.done = threading.Event()

        def go(self) -> Any:
            values = [self.fire(task(meet, i), "worker") for i in range(3)]
            for v in values:
                yield self.wait(v.event)
            self.got = sorted(v.value for v in values)
            self.done.set()

    app = App()
    Worker(workers=3).register(app)
    with running(app):
        app.fire(go())
        assert app.done.wait(TIMEOUT)
    assert app.got == [0, 1, 2]
