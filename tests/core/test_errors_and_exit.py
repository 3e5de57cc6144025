"""Errors in handlers, the stderr fallback, and stopping with SystemExit / KeyboardInterrupt."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from circuits import Component, Event, Manager, handler

from .helpers import TIMEOUT

ROOT = Path(__file__).resolve().parents[2]


class hello(Event):
    pass


class boom(Event):
    pass


class Bomb(Component):
    def boom(self) -> None:
        raise ZeroDivisionError("kaboom")


def test_an_error_fires_exception_and_the_app_keeps_running() -> None:
    got: list[Any] = []

    class App(Bomb):
        def exception(self, etype: Any, evalue: Any, tb: Any, handler: Any = None, fevent: Any = None) -> None:
            got.append((etype, evalue, tb, handler, fevent))

        def hello(self) -> str:
            return "still alive"

    app = App()
    e = boom()
    app.fire(e)
    after = app.fire(hello())
    app.flush()
    assert len(got) == 1
    etype, evalue, tb, failed_handler, fevent = got[0]
    assert etype is ZeroDivisionError and str(evalue) == "kaboom"
    assert isinstance(tb, list) and any("raise ZeroDivisionError" in line for line in tb)
    assert failed_handler == app.boom and fevent is e
    assert after.value == "still alive"
    assert e.value.errors and e.value.handled


def test_other_handlers_of_a_failing_event_still_run() -> None:
    got: list[str] = []

    class Other(Component):
        def boom(self) -> str:
            got.append("other")
            return "ok"

    app = Manager()
    Bomb().register(app)
    Other().register(app)
    v = app.fire(boom())
    app.flush()
    assert got == ["other"]
    assert v.errors


def test_unhandled_errors_are_printed_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    app = Bomb(channel="bombs")
    app.fire(boom())
    app.flush()
    err = capsys.readouterr().err
    assert "Unhandled error in <handler[bombs][boom] (Bomb.boom)>" in err
    assert "while handling <boom[bombs] ( )>" in err
    assert "Traceback (most recent call last):" in err
    assert 'raise ZeroDivisionError("kaboom")' in err
    assert err.rstrip().endswith("ZeroDivisionError: kaboom")


def test_a_handled_error_is_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    class App(Bomb):
        @handler("exception")
        def _quiet(self, *args: Any, **kwargs: Any) -> None:
            pass

    app = App()
    app.fire(boom())
    app.flush()
    assert capsys.readouterr().err == ""


def test_an_error_in_an_exception_handler_does_not_loop_forever(capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[str] = []

    class App(Bomb):
        def exception(self, *args: Any, **kwargs: Any) -> None:
            calls.append("exception")
            raise RuntimeError("the error handler is broken too")

    app = App()
    app.fire(boom())
    for _ in range(10):
        app.tick(0)
    assert not app._circuits_queue  # settled
    assert calls == ["exception"]
    err = capsys.readouterr().err
    assert "RuntimeError: the error handler is broken too" in err


# -- stopping from a handler ---------------------------------------------------


def test_system_exit_stops_gracefully_and_run_raises_it() -> None:
    order: list[str] = []

    class App(Component):
        def started(self, component: Any) -> None:
            self.fire(hello("before"))
            order.append("started:first")
            raise SystemExit(4)

        @handler("started", priority=-1)
        def _also_started(self, component: Any) -> None:
            order.append("started:second")  # same event: still runs

        def hello(self, when: str) -> None:
            order.append(f"hello:{when}")

        def stopped(self, component: Any) -> None:
            order.append("stopped")

    with pytest.raises(SystemExit) as info:
        App().run()
    assert info.value.code == 4
    assert order == ["started:first", "started:second", "hello:before", "stopped"]


def test_system_exit_from_a_generator_handler() -> None:
    class App(Component):
        def started(self, component: Any) -> Any:
            yield
            raise SystemExit("bye")

    with pytest.raises(SystemExit) as info:
        App().run()
    assert info.value.code == "bye"


def test_keyboard_interrupt_in_a_handler_stops_gracefully() -> None:
    order: list[str] = []

    class App(Component):
        def started(self, component: Any) -> None:
            self.fire(hello())
            raise KeyboardInterrupt

        def hello(self) -> None:
            order.append("hello")

        def stopped(self, component: Any) -> None:
            order.append("stopped")

    assert App().run() is None
    assert order == ["hello", "stopped"]


def test_stop_code_from_a_handler_is_returned_not_raised() -> None:
    class App(Component):
        def started(self, component: Any) -> None:
            self.stop(9)

    assert App().run() == 9


def test_hello_world(capsys: pytest.CaptureFixture[str]) -> None:
    """The landing page's Hello World."""

    class App(Component):
        def hello(self) -> None:
            print("Hello World!")

        def started(self, component: Any) -> None:
            self.fire(hello())
            raise SystemExit(0)

    with pytest.raises(SystemExit) as info:
        App().run()
    assert info.value.code == 0
    assert capsys.readouterr().out == "Hello World!\n"


def test_hello_world_as_a_script(tmp_path: Path) -> None:
    script = tmp_path / "hello.py"
    script.write_text(textwrap.dedent('''
        from circuits import Component, Event

        class hello(Event):
            """hello Event"""

        class App(Component):
            def hello(self):
                print("Hello World!")

            def started(self, component):
                self.fire(hello())
                raise SystemExit(0)

        App().run()
    '''))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=TIMEOUT * 2, env=env)
    assert done.stdout == "Hello World!\n"
    assert done.stderr == ""
    assert done.returncode == 0


def test_keyboard_interrupt_from_a_generator_handler() -> None:
    order: list[str] = []

    class App(Component):
        def started(self, component: Any) -> Any:
            yield
            order.append("interrupting")
            raise KeyboardInterrupt

        def stopped(self, component: Any) -> None:
            order.append("stopped")

    assert App().run() is None
    assert order == ["interrupting", "stopped"]
