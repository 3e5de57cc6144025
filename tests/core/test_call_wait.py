"""Generator handlers: yield, nested generators, call/wait (with timeouts), futures."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import pytest

from circuits import Component, Event, FakeClock, Manager, Value, sleep
from circuits.core import TimeoutError as CoreTimeoutError
from circuits.core import wait_future

from .helpers import TIMEOUT, running


class hello(Event):
    pass


class foo(Event):
    pass


class bar(Event):
    pass


class never(Event):
    pass


def test_yield_none_resumes_on_a_later_pass() -> None:
    steps: list[str] = []

    class App(Component):
        def hello(self) -> Any:
            steps.append("a")
            yield
            steps.append("b")
            yield
            steps.append("c")
            return "done"

    app = App()
    v = app.fire(hello())
    app.tick(0)  # dispatched: the task starts on the next pass, as in 3.x
    assert steps == [] and not v.handled
    app.tick(0)
    assert steps == ["a"] and not v.handled
    app.tick(0)
    assert steps == ["a", "b"]
    app.tick(0)
    assert steps == ["a", "b", "c"]
    assert v.value == "done" and v.handled


def test_call_gives_the_value_of_the_called_event() -> None:
    got: list[Any] = []

    class App(Component):
        def hello(self) -> Any:
            v = yield self.call(foo(2))
            got.append(v)
            w = yield self.callEvent(foo(3))
            return v.value + w.value

        def foo(self, x: int) -> int:
            return x * 10

    app = App()
    value = app.fire(hello())
    app.flush()
    assert isinstance(got[0], Value) and got[0].value == 20
    assert value.value == 50


def test_call_waits_for_a_called_generator_handler_and_nests() -> None:
    order: list[str] = []

    class App(Component):
        def hello(self) -> Any:
            order.append("hello start")
            v = yield self.call(foo())
            order.append(f"hello got {v.value}")
            return v.value

        def foo(self) -> Any:
            order.append("foo start")
            v = yield self.call(bar())
            order.append("foo end")
            return v.value + 1

        def bar(self) -> Any:
            yield
            return 41

    app = App()
    value = app.fire(hello())
    app.flush()
    assert value.value == 42
    assert order == ["hello start", "foo start", "foo end", "hello got 42"]


def test_call_on_a_channel() -> None:
    class Other(Component):
        channel = "other"

        def foo(self) -> str:
            return "other"

    class Mine(Component):
        channel = "mine"

        def foo(self) -> str:
            return "mine"

        def hello(self) -> Any:
            v = yield self.call(foo(), "other")
            return v.value

    root = Manager()
    Other().register(root)
    Mine().register(root)
    value = root.fire(hello(), "mine")
    root.flush()
    assert value.value == "other"


def test_wait_for_the_next_event_of_a_name() -> None:
    got: list[Any] = []

    class App(Component):
        def hello(self) -> Any:
            v = yield self.wait("foo")
            got.append(v.value)
            v = yield self.waitEvent("Foo")  # either style of name
            got.append(v.value)

        def foo(self, x: int) -> int:
            return x

    app = App()
    app.fire(hello())
    app.flush()
    assert got == []
    app.fire(foo(1))
    app.flush()
    assert got == [1]
    app.fire(foo(2))
    app.flush()
    assert got == [1, 2]


def test_wait_for_a_name_on_a_channel() -> None:
    got: list[Any] = []

    class App(Component):
        def hello(self) -> Any:
            v = yield self.wait("foo", "wanted")
            got.append(v.value)

    class Foo(Component):
        channel = "*"

        def foo(self, x: str) -> str:
            return x

    app = App()
    Foo().register(app)
    app.fire(hello())
    app.flush()
    app.fire(foo("elsewhere"), "other")
    app.fire(foo("here"), "wanted")
    app.flush()
    assert got == ["here"]


def test_wait_on_an_event_already_handled_resumes_at_once() -> None:
    got: list[Any] = []

    class App(Component):
        def hello(self, e: Event) -> Any:
            v = yield self.wait(e)
            got.append(v.value)

        def foo(self) -> str:
            return "early"

    app = App()
    e = foo()
    app.fire(e)
    app.flush()
    app.fire(hello(e))
    app.flush()
    assert got == ["early"]


def test_call_timeout_raises_timeout_error_at_the_yield() -> None:
    got: list[Any] = []

    class App(Component):
        def hello(self) -> Any:
            try:
                yield self.call(foo(), timeout=5)
            except CoreTimeoutError as e:
                got.append(e)

        def foo(self) -> Any:
            yield self.wait("never")  # never completes

    app = App()
    clock = app.loop.clock = FakeClock()
    app.fire(hello())
    app.flush()
    app.tick(0)
    assert got == []
    clock.advance(4.9)
    app.tick(0)
    assert got == []
    clock.advance(0.2)
    app.tick(0)
    assert len(got) == 1
    assert isinstance(got[0], TimeoutError)  # the 3.x class is a builtin TimeoutError too


def test_wait_timeout_by_name_and_no_late_resume() -> None:
    got: list[Any] = []

    class App(Component):
        def hello(self) -> Any:
            try:
                v = yield self.wait("foo", timeout=1)
                got.append(v.value)
            except CoreTimeoutError as e:
                got.append(e)

        def foo(self) -> str:
            return "late"

    app = App()
    clock = app.loop.clock = FakeClock()
    app.fire(hello())
    app.flush()
    clock.advance(1)
    app.tick(0)
    assert len(got) == 1 and isinstance(got[0], TimeoutError)
    app.fire(foo())  # the waiter is gone: the handler is not resumed twice
    app.flush()
    assert len(got) == 1


def test_call_completing_in_time_cancels_its_timer() -> None:
    got: list[Any] = []

    class App(Component):
        def hello(self) -> Any:
            v = yield self.call(foo(), timeout=10)
            got.append(v.value)

        def foo(self) -> str:
            return "quick"

    app = App()
    clock = app.loop.clock = FakeClock()
    app.fire(hello())
    app.flush()
    assert got == ["quick"]
    assert app.loop.timer_count == 0
    clock.advance(20)
    app.tick(0)
    assert got == ["quick"]


def test_yield_a_nested_generator_gets_its_return_value() -> None:
    class App(Component):
        def _helper(self, x: int) -> Any:
            yield
            v = yield self.call(foo(x))
            return v.value * 2

        def hello(self) -> Any:
            result = yield self._helper(5)
            return result + 1

        def foo(self, x: int) -> int:
            return x

    app = App()
    value = app.fire(hello())
    app.flush()
    assert value.value == 11


def test_an_exception_in_a_nested_generator_can_be_caught_by_its_caller() -> None:
    class App(Component):
        def _fails(self) -> Any:
            yield
            raise ValueError("inner")

        def hello(self) -> Any:
            try:
                yield self._fails()
            except ValueError as e:
                return f"caught {e}"

    app = App()
    value = app.fire(hello())
    app.flush()
    assert value.value == "caught inner"
    assert not value.errors


def test_an_exception_in_a_generator_handler_fires_exception() -> None:
    got: list[Any] = []

    class App(Component):
        def hello(self) -> Any:
            yield
            raise ValueError("late failure")

        def exception(self, etype: Any, evalue: Any, tb: Any, handler: Any = None, fevent: Any = None) -> None:
            got.append((etype, str(evalue), fevent.name, handler))

    app = App()
    value = app.fire(hello())
    app.flush()
    assert got == [(ValueError, "late failure", "hello", app.hello)]  # the handler, not its generator
    assert value.errors and value.handled


def test_yielding_a_value_records_it_and_goes_on() -> None:
    class App(Component):
        def hello(self) -> Any:
            yield "partial"
            yield "more"

    app = App()
    value = app.fire(hello())
    app.flush()
    assert value.value == ["partial", "more"]


def test_generator_handler_value_notifies_once_done() -> None:
    changes: list[Any] = []

    class App(Component):
        def hello(self) -> Any:
            yield
            return "final"

        def hello_value_changed(self, value: Value) -> None:
            changes.append(value.value)

    app = App()
    v = app.fire(hello())
    v.notify = True
    app.flush()
    assert changes == ["final"]


def test_wait_future_resumes_with_a_result_from_another_thread() -> None:
    future: Future[int] = Future()
    got: list[Any] = []
    done = threading.Event()

    class App(Component):
        def hello(self) -> Any:
            try:
                got.append((yield wait_future(future)))
            finally:
                got.append(threading.current_thread().name)
                done.set()

    app = App()
    with running(app):
        app.fire(hello())
        threading.Thread(target=lambda: future.set_result(99)).start()
        assert done.wait(TIMEOUT)
    assert got == [99, "App"]  # resumed in the loop's thread


def test_wait_future_raises_the_futures_exception() -> None:
    future: Future[int] = Future()
    got: list[Any] = []

    class App(Component):
        def hello(self) -> Any:
            try:
                yield wait_future(future)
            except KeyError as e:
                got.append(e.args)

    app = App()
    app.fire(hello())
    app.flush()
    future.set_exception(KeyError("k"))
    app.tick(0)
    app.flush()
    assert got == [("k",)]


def test_yield_sleep_resumes_after_that_long_on_the_loop_clock() -> None:
    got: list[Any] = []

    class App(Component):
        def hello(self) -> Any:
            got.append("before")
            yield sleep(2)
            got.append("after")
            yield from sleep(1)  # the 'yield from' spelling works too
            got.append("end")

        def foo(self) -> None:
            got.append("foo")  # the loop keeps dispatching while hello sleeps

    app = App()
    clock = app.loop.clock = FakeClock()
    app.fire(hello())
    app.flush()
    app.fire(foo())
    app.flush()
    assert got == ["before", "foo"]
    clock.advance(1.9)
    app.tick(0)
    assert got == ["before", "foo"]
    clock.advance(0.2)
    app.tick(0)
    assert got == ["before", "foo", "after"]
    clock.advance(1)
    app.tick(0)
    assert got == ["before", "foo", "after", "end"]
    with pytest.raises(TypeError):
        sleep("soon")


def test_a_nested_generator_that_catches_the_timeout_returns_its_value_to_its_caller() -> None:
    got: list[Any] = []

    class App(Component):
        def hello(self) -> Any:
            got.append((yield self._patient()))

        def _patient(self) -> Any:
            try:
                yield self.wait("never", timeout=1)
            except CoreTimeoutError:
                return "gave up"
            return "never"

    app = App()
    clock = app.loop.clock = FakeClock()
    app.fire(hello())
    app.flush()
    clock.advance(1)
    app.tick(0)
    assert got == ["gave up"]


def test_waiting_many_times_on_events_already_done_does_not_grow_the_stack() -> None:
    # Each wait on a done event resumes the task from the ready queue, not
    # from inside the wait: thousands of waits need no deeper stack.
    got: list[int] = []

    class App(Component):
        def hello(self) -> Any:
            done = self.fire(foo())
            yield self.wait(done.event)
            depth = _depth()
            for _ in range(3000):
                yield self.wait(done.event)
            got.append(_depth() - depth)

        def foo(self) -> str:
            return "foo"

    app = App()
    app.fire(hello())
    app.flush()
    assert got == [0]


def _depth() -> int:
    import inspect

    return len(inspect.stack(0))


def test_a_suspension_resumed_before_the_task_yields_it_still_delivers() -> None:
    from circuits.core.tasks import Suspension

    got: list[Any] = []
    early = Suspension()
    early.resume("already")  # e.g. a reply that came back before the task started

    class App(Component):
        def hello(self) -> Any:
            got.append((yield early))

    app = App()
    app.fire(hello())
    app.flush()
    assert got == ["already"]
    early.resume("twice")  # a second resume is ignored
    app.flush()
    assert got == ["already"]


def test_a_zero_timeout_fails_at_once_unless_the_event_is_done() -> None:
    got: list[Any] = []

    class App(Component):
        def hello(self) -> Any:
            done = self.fire(foo())
            pending = self.fire(bar())
            yield self.wait(done.event)  # done now: a zero timeout would still pass
            got.append((yield self.wait(done.event, timeout=0)).value)
            try:
                yield self.wait("bar", timeout=0)
            except CoreTimeoutError:
                got.append("timed out")
            got.append(pending.value)

        def foo(self) -> str:
            return "foo"

        def bar(self) -> str:
            return "bar"

    app = App()
    app.fire(hello())
    app.flush()
    assert got == ["foo", "timed out", "bar"]
