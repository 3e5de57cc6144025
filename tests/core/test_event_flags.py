"""Delivery flags however they are set: on the class body, on the class at
run time, on the instance before fire or inside a handler.

The dispatcher takes a short path for events that ask for nothing but
delivery (``Event._circuits_plain``); these tests pin down that every way
of asking for more still gets it.
"""

from __future__ import annotations

from typing import Any

from circuits import Component, Event, Manager, Value, handler


class ping(Event):
    pass


class Recording(Component):
    channel = "t"

    def init(self) -> None:
        self.seen: list[str] = []

    @handler(channel="*", priority=1000)
    def _all(self, event: Any, *args: Any, **kwargs: Any) -> None:
        self.seen.append(event.name)


def flushed(app: Manager) -> None:
    while len(app):
        app.flush()


def test_success_set_on_the_instance_before_fire() -> None:
    app = Recording()
    e = ping()
    e.success = True
    app.fire(e)
    flushed(app)
    assert "ping_success" in app.seen


def test_success_set_on_the_instance_by_a_handler() -> None:
    class App(Recording):
        def ping(self, event: Any) -> None:
            event.success = True

    app = App()
    app.fire(ping())
    flushed(app)
    assert "ping_success" in app.seen


def test_complete_set_on_the_class_at_run_time_and_taken_back() -> None:
    class later(Event):
        pass

    class sub(later):
        pass

    app = Recording()
    later.complete = True  # 3.x code does this at import time
    try:
        assert not sub._circuits_plain, "a subclass follows its base's flag"
        app.fire(sub())
        flushed(app)
        assert "sub_complete" in app.seen
    finally:
        later.complete = False
    app.seen.clear()
    app.fire(sub())
    flushed(app)
    assert "sub_complete" not in app.seen
    assert sub._circuits_plain


def test_class_body_flag_reads_back_as_given() -> None:
    class noisy(Event):
        success = True
        alert_done = True

    assert noisy.success is True and noisy().success is True
    assert noisy.complete is False and Event.success is False
    app = Recording()
    app.fire(noisy())
    flushed(app)
    assert {"noisy_success", "noisy_done"} <= set(app.seen)


def test_stopped_assigned_directly_stops_the_next_handlers() -> None:
    class App(Component):
        channel = "t"

        def init(self) -> None:
            self.ran: list[str] = []

        @handler("ping", priority=2)
        def first(self, event: Any) -> None:
            self.ran.append("first")
            event.stopped = True  # not event.stop(): 2.x code assigns it

        @handler("ping", priority=1)
        def second(self) -> None:
            self.ran.append("second")

    app = App()
    app.fire(ping())
    flushed(app)
    assert app.ran == ["first"]


def test_cancelled_assigned_directly_before_dispatch() -> None:
    app = Recording()
    e = ping()
    app.fire(e)
    e.cancelled = True
    flushed(app)
    assert "ping" not in app.seen


def test_a_class_that_computes_stopped_itself_is_asked_after_each_handler() -> None:
    class claimed(Event):
        @property  # type: ignore[override]
        def stopped(self) -> bool:
            return self.value is not None and self.value.result

    class App(Component):
        channel = "t"

        def init(self) -> None:
            self.ran: list[str] = []

        @handler("claimed", priority=2)
        def first(self) -> Any:
            self.ran.append("first")
            return "mine"

        @handler("claimed", priority=1)
        def second(self) -> None:
            self.ran.append("second")

    app = App()
    app.fire(claimed())
    flushed(app)
    assert app.ran == ["first"]


def test_fire_gives_a_value_in_the_state_a_new_value_has() -> None:
    app = Recording()
    e = ping()
    fired = app.fire(e)
    fresh = Value(e, app)
    for name in ("event", "manager", "result", "handled", "errors", "promise", "_value", "_circuits_stop"):
        assert getattr(fired, name) == getattr(fresh, name), name


def test_a_stopped_event_fired_again_stays_stopped() -> None:
    class App(Recording):
        @handler("ping", priority=1)
        def one(self) -> None:
            self.seen.append("one")

    app = App()
    e = ping()
    e.stop()
    app.fire(e)
    flushed(app)
    assert "one" not in app.seen, "the priority-1000 recorder ran, then the stop held"
