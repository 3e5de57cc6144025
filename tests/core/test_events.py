"""Events: names, channels, values, follow-up events, stop/cancel/create."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from circuits import BaseComponent, Component, Event, Manager, Value, handler
from circuits.core.events import DerivedEvent, generate_events
from circuits.core.names import event_name

from .helpers import Recorder

# -- names ----------------------------------------------------------------


class hello(Event):
    """3.x style: the class name is the event name."""


class Woof(Event):
    """2.x style: CamelCase, handled by ``woof``."""


class IdentifySuccess(Event):
    pass


class MySpecialEvent(Event):
    pass


class read_value_changed(Event):
    pass


class Renamed(Event):
    name = "SomethingElse"


@pytest.mark.parametrize(("cls", "name"), [
    (hello, "hello"),
    (Woof, "woof"),
    (IdentifySuccess, "identify_success"),
    (MySpecialEvent, "my_special_event"),
    (read_value_changed, "read_value_changed"),
    (Renamed, "something_else"),
    (Event, "event"),
])
def test_event_name_comes_from_the_class_name(cls: type[Event], name: str) -> None:
    assert cls.name == name
    assert cls().name == name


@pytest.mark.parametrize(("given", "canonical"), [
    ("hello", "hello"), ("Woof", "woof"), ("IdentifySuccess", "identify_success"),
    ("MySpecialEvent", "my_special_event"), ("HTTPError", "http_error"),
    ("read_value_changed", "read_value_changed"), ("Read2Done", "read2_done"),
])
def test_event_name_function(given: str, canonical: str) -> None:
    assert event_name(given) == canonical


def test_both_styles_reach_their_handlers() -> None:
    seen: list[str] = []

    class App(Component):
        def hello(self) -> None:
            seen.append("hello")

        def woof(self) -> None:
            seen.append("woof")

        def identify_success(self) -> None:
            seen.append("identify_success")

        @handler("MySpecialEvent")  # a handler may name the event in either style
        def _special(self) -> None:
            seen.append("my_special_event")

    app = App()
    for cls in (hello, Woof, IdentifySuccess, MySpecialEvent):
        app.fire(cls())
    app.flush()
    assert seen == ["hello", "woof", "identify_success", "my_special_event"]


def test_arguments_reach_the_handler_and_events_index_like_their_arguments() -> None:
    got: list[Any] = []

    class App(Component):
        def hello(self, a: int, b: int, c: int = 0) -> None:
            got.append((a, b, c))

    app = App()
    e = hello(1, 2, c=3)
    assert (e[0], e[1], e["c"]) == (1, 2, 3)
    e[1] = 20
    e["c"] = 30
    app.fire(e)
    app.flush()
    assert got == [(1, 20, 30)]


def test_repr_names_event_channels_and_arguments() -> None:
    e = hello(1, x="y")
    Manager().fire(e, "a", "b")
    assert repr(e) == "<hello[a,b] (1 x='y')>"  # 3.x: one space between the two parts


def test_repr_of_positional_only_keywords_only_and_no_arguments() -> None:
    assert repr(hello(1, 2)) == "<hello[] (1, 2 )>"
    assert repr(hello(a=1, b="c")) == "<hello[] ( a=1, b='c')>"
    assert repr(hello()) == "<hello[] ( )>"


def test_create_makes_a_named_event() -> None:
    e = Event.create("FooBar", 1, k=2)
    assert isinstance(e, Event)
    assert e.name == "foo_bar"
    assert e.args == [1] and e.kwargs == {"k": 2}
    # The same name gives the same class (no unbounded class creation).
    assert type(Event.create("FooBar")) is type(e)
    got: list[Any] = []

    class App(Component):
        def foo_bar(self, x: int, k: int = 0) -> None:
            got.append((x, k))

    app = App()
    app.fire(e)
    app.flush()
    assert got == [(1, 2)]


def test_child_event_names_and_parent() -> None:
    e = hello()
    child = e.child("success", e, 1)
    assert child.name == "hello_success"
    assert child.parent is e
    assert isinstance(child, Event)
    assert issubclass(DerivedEvent, Event)


# -- channels ---------------------------------------------------------------


class Listener(Component):
    def __init__(self, channel: str, log: list[str]) -> None:
        super().__init__(channel=channel)
        self.log = log

    def hello(self) -> None:
        self.log.append(self.channel)


def make_tree() -> tuple[Manager, list[str]]:
    log: list[str] = []
    app = Manager()
    for name in ("a", "b", "c"):
        Listener(name, log).register(app)
    return app, log


def test_fire_on_one_channel_reaches_only_that_channel() -> None:
    app, log = make_tree()
    app.fire(hello(), "b")
    app.flush()
    assert log == ["b"]


def test_fire_on_several_channels_delivers_once_to_each() -> None:
    app, log = make_tree()
    app.fire(hello(), "a", "c")
    app.flush()
    assert sorted(log) == ["a", "c"]


def test_fire_on_star_reaches_every_channel() -> None:
    app, log = make_tree()
    app.fire(hello(), "*")
    app.flush()
    assert log == ["a", "b", "c"]


def test_event_class_channels_are_used_when_fire_gives_none() -> None:
    class to_b(Event):
        name = "hello"
        channels = ("b",)

    app, log = make_tree()
    e = to_b()
    app.fire(e)
    app.flush()
    assert log == ["b"]
    # Explicit channels win over the class attribute.
    app.fire(to_b(), "c")
    app.flush()
    assert log == ["b", "c"]


def test_fire_defaults_to_the_firing_components_channel() -> None:
    app, log = make_tree()
    b = next(c for c in app.components if c.channel == "b")
    e = hello()
    b.fire(e)
    app.flush()
    assert log == ["b"]
    assert e.channels == ("b",)


def test_fire_records_the_channels_actually_used() -> None:
    app, _ = make_tree()
    e = hello()
    app.fire(e, "a", "c")
    assert e.channels == ("a", "c")
    e2 = hello()
    app.fire(e2)  # a plain Manager has no channel: "*"
    assert e2.channels == ("*",)


def test_fire_on_a_component_instance_targets_that_component() -> None:
    log: list[str] = []
    app = Manager()
    one = Listener("same", log).register(app)
    Listener("same", log).register(app)
    app.fire(hello(), one)
    app.flush()
    assert log == ["same"]  # only ``one``, not the other component on the same channel


# -- values -----------------------------------------------------------------


class Returner(Component):
    def __init__(self, result: Any, channel: str = "*") -> None:
        super().__init__(channel=channel)
        self.result = result

    def hello(self) -> Any:
        return self.result


def test_fire_returns_the_events_value() -> None:
    app = Manager()
    Returner(42).register(app)
    e = hello()
    value = app.fire(e)
    assert isinstance(value, Value)
    assert value is e.value
    assert value.value is None and not value.result
    app.flush()
    assert value.value == 42
    assert value.result and not value.errors and value.handled


def test_several_results_are_collected_in_a_list() -> None:
    app = Manager()
    for r in (1, None, 2, 3):
        Returner(r).register(app)
    value = app.fire(hello())
    app.flush()
    assert value.value == [1, 2, 3]
    assert list(value) == [1, 2, 3] and value[1] == 2 and 3 in value
    assert str(Value()) == "None"


def test_a_value_may_wrap_the_value_of_another_event() -> None:
    class inner(Event):
        pass

    class App(Component):
        def hello(self) -> Value:
            return self.fire(inner())

        def inner(self) -> str:
            return "deep"

    app = App()
    value = app.fire(hello())
    app.flush()
    assert value.value == "deep"
    assert value.result


def test_value_notify_fires_value_changed_on_the_firing_component() -> None:
    changes: list[Any] = []

    class App(Component):
        def hello(self) -> str:
            return "hi"

        def hello_value_changed(self, value: Value) -> None:
            changes.append(value.value)

    app = App()
    value = app.fire(hello())
    value.notify = True
    app.flush()
    assert changes == ["hi"]


def test_event_class_notify_and_named_notification() -> None:
    changes: list[Any] = []

    class ping(Event):
        notify = True

    class App(Component):
        def ping(self) -> int:
            return 1

        def ping_value_changed(self, value: Value) -> None:
            changes.append(("class", value.value))

        def custom_note(self, value: Value) -> None:
            changes.append(("named", value.value))

    app = App()
    app.fire(ping())
    app.flush()
    v = app.fire(hello())
    v.notify = "custom_note"
    v.value = 5  # setting a value by hand informs too
    app.flush()
    assert changes == [("class", 1), ("named", 5)]


def test_value_without_notify_fires_nothing() -> None:
    rec = Recorder()
    app = Manager()
    rec.register(app)
    Returner(1).register(app)
    app.fire(hello())
    app.flush()
    assert not any(n.endswith("value_changed") for n in rec.names())


# -- follow-up events -------------------------------------------------------


class identify(Event):
    success = True


def test_success_event_gets_the_event_and_its_value() -> None:
    got: list[Any] = []

    class App(Component):
        def identify(self) -> str:
            return "Bob"

        def identify_success(self, evt: Event, result: Any) -> None:
            got.append((evt, result))

    app = App()
    e = identify()
    app.fire(e)
    app.flush()
    assert got == [(e, "Bob")]


def test_no_success_when_not_asked_or_when_a_handler_failed(capsys: pytest.CaptureFixture[str]) -> None:
    got: list[str] = []

    class App(Component):
        def hello(self) -> None:
            pass

        def identify(self) -> None:
            raise ValueError("nope")

        def hello_success(self, *args: Any) -> None:
            got.append("hello_success")

        def identify_success(self, *args: Any) -> None:
            got.append("identify_success")

    app = App()
    app.fire(hello())
    app.fire(identify())
    app.flush()
    assert got == []
    assert "ValueError: nope" in capsys.readouterr().err


def test_success_channels_redirect_the_success_event() -> None:
    log: list[str] = []

    class Watcher(Component):
        channel = "watch"

        def identify_success(self, evt: Event, result: Any) -> None:
            log.append(f"watch:{result}")

    class Worker(Component):
        channel = "work"

        def identify(self) -> int:
            return 7

        def identify_success(self, evt: Event, result: Any) -> None:
            log.append("work")

    app = Manager()
    Watcher().register(app)
    Worker().register(app)
    e = identify()
    e.success_channels = ("watch",)
    app.fire(e, "work")
    app.flush()
    assert log == ["watch:7"]


def test_failure_event_gets_the_event_and_the_error() -> None:
    got: list[Any] = []

    class boom(Event):
        failure = True

    class App(Component):
        def boom(self) -> None:
            raise KeyError("k")

        def boom_failure(self, evt: Event, error: Any) -> None:
            got.append((evt, error))

    app = App()
    e = boom()
    value = app.fire(e)
    app.flush()
    assert len(got) == 1
    evt, (etype, evalue, tb) = got[0]
    assert evt is e and etype is KeyError and evalue.args == ("k",)
    assert any("raise KeyError" in line for line in tb)
    assert value.errors
    assert value.value[0] is KeyError


def test_failure_channels_redirect_the_failure_event() -> None:
    log: list[str] = []

    class boom(Event):
        failure = True
        failure_channels = ("errors",)

    class Errors(Component):
        channel = "errors"

        def boom_failure(self, evt: Event, error: Any) -> None:
            log.append("errors")

    class App(Component):
        channel = "app"

        def boom(self) -> None:
            raise RuntimeError

        def boom_failure(self, evt: Event, error: Any) -> None:
            log.append("app")

    root = Manager()
    Errors().register(root)
    App().register(root)
    root.fire(boom(), "app")
    root.flush()
    assert log == ["errors"]


def test_complete_fires_after_everything_the_event_caused() -> None:
    order: list[str] = []

    class job(Event):
        complete = True

    class step(Event):
        pass

    class App(Component):
        def job(self) -> str:
            order.append("job")
            self.fire(step(1))
            return "result"

        def step(self, n: int) -> None:
            order.append(f"step{n}")
            if n < 3:
                self.fire(step(n + 1))

        def job_complete(self, evt: Event, value: Any) -> None:
            order.append(f"complete:{value}")

    app = App()
    app.fire(job())
    app.flush()
    assert order == ["job", "step1", "step2", "step3", "complete:result"]


def test_complete_waits_for_generator_handlers_of_follow_up_events() -> None:
    order: list[str] = []

    class job(Event):
        complete = True

    class slow(Event):
        pass

    class App(Component):
        def job(self) -> None:
            self.fire(slow())

        def slow(self) -> Any:
            order.append("slow started")
            yield  # go on at the next pass
            order.append("slow finished")

        def job_complete(self, evt: Event, value: Any) -> None:
            order.append("complete")

    app = App()
    app.fire(job())
    app.flush()
    assert order == ["slow started", "slow finished", "complete"]  # exactly once


def test_an_event_fired_from_another_thread_is_not_an_effect_of_the_event_being_handled() -> None:
    # While `job` is handled, a thread fires `chore`, whose handler waits for
    # an event that comes only after job's `complete`. Counted as an effect of
    # `job`, it would hold `complete` back for ever.
    order: list[str] = []

    class job(Event):
        complete = True

    class chore(Event):
        pass

    class later(Event):
        pass

    class App(Component):
        def job(self) -> None:
            thread = threading.Thread(target=self.fire, args=(chore(),))
            thread.start()
            thread.join()  # the foreign fire happens while this handler runs

        def chore(self) -> Any:
            order.append("chore started")
            yield self.wait("later")
            order.append("chore finished")

        def job_complete(self, evt: Event, value: Any) -> None:
            order.append("complete")
            self.fire(later())

    app = App()
    app.fire(job())
    app.flush()
    for _ in range(10):
        app.tick(0)
    # (chore's task starts on the pass after its dispatch, so it may start
    # before or after job completes; it can only finish after `later`.)
    assert sorted(order) == ["chore finished", "chore started", "complete"]
    assert order.index("complete") < order.index("chore finished")


def test_complete_channels() -> None:
    log: list[str] = []

    class job(Event):
        complete = True
        complete_channels = ("done",)

    class Done(Component):
        channel = "done"

        def job_complete(self, *args: Any) -> None:
            log.append("done")

    class App(Component):
        channel = "app"

        def job(self) -> None:
            pass

        def job_complete(self, *args: Any) -> None:
            log.append("app")

    root = Manager()
    Done().register(root)
    App().register(root)
    root.fire(job(), "app")
    root.flush()
    assert log == ["done"]


def test_alert_done_fires_done_with_the_value() -> None:
    got: list[Any] = []

    class App(Component):
        def hello(self) -> int:
            return 3

        def hello_done(self, value: Any) -> None:
            got.append(value)

    app = App()
    e = hello()
    e.alert_done = True
    app.fire(e)
    app.flush()
    assert got == [3]


# -- stop / cancel ------------------------------------------------------------


def test_stop_prevents_the_remaining_handlers() -> None:
    ran: list[str] = []

    class App(BaseComponent):
        @handler("hello", priority=2)
        def first(self, event: Event) -> None:
            ran.append("first")
            event.stop()

        @handler("hello", priority=1)
        def second(self) -> None:
            ran.append("second")

    app = App()
    e = hello()
    app.fire(e)
    app.flush()
    assert ran == ["first"]
    assert e.stopped


def test_cancel_before_dispatch_means_no_handler_runs() -> None:
    ran: list[str] = []

    class App(Component):
        def hello(self) -> None:
            ran.append("hello")

        def hello_success(self, *args: Any) -> None:
            ran.append("success")

    app = App()
    e = hello()
    e.success = True
    app.fire(e)
    e.cancel()
    other = hello()
    other.success = True
    app.fire(other)
    app.flush()
    assert ran == ["hello", "success"]  # only the second event
    assert e.cancelled


def test_generate_events_reduce_time_left_only_reduces() -> None:
    e = generate_events(None, 5)
    assert e.time_left == 5
    e.reduce_time_left(10)
    assert e.time_left == 5
    e.reduce_time_left(2)
    assert e.time_left == 2
    e.reduce_time_left(-1)  # negative is not a reduction
    assert e.time_left == 2
    unlimited = generate_events(None, -1)
    unlimited.reduce_time_left(3)
    assert unlimited.time_left == 3
    unlimited.reduce_time_left(0)
    assert unlimited.time_left == 0


def test_fire_event_and_flush_events_are_the_2x_names() -> None:
    app = Manager()
    Returner("r").register(app)
    value = app.fireEvent(hello(), "*")
    app.flushEvents()
    assert value.value == "r"
    assert Manager.fireEvent is Manager.fire and Manager.flushEvents is Manager.flush
    assert Manager.callEvent is Manager.call and Manager.waitEvent is Manager.wait


def test_repr_names_component_channels_by_name() -> None:
    app = Manager()
    target = Component(channel="x").register(app)
    e = hello()
    app.fire(e, target, "y")
    assert repr(e) == "<hello[Component,y] ( )>"


def test_fire_with_a_priority_queues_ahead_of_larger_priorities() -> None:
    order: list[str] = []

    class App(Component):
        def note(self, what: str) -> None:
            order.append(what)

    note = Event.create  # one event class per name is enough here
    app = App()
    app.flush()
    app.fire(note("note", "late"), priority=5)
    app.fire(note("note", "early"), priority=-1)
    app.fire(note("note", "normal"), priority=0)
    app.fire(note("note", "plain"))  # no priority: appended in order
    app.flush()
    assert order == ["early", "normal", "late", "plain"]


def test_an_event_is_indexed_by_position_or_keyword_only() -> None:
    e = Event(1, 2, foo="bar")
    assert (e[0], e["foo"]) == (1, "bar")
    e[1], e["foo"] = 3, "baz"
    assert (e.args, e.kwargs) == ([1, 3], {"foo": "baz"})
    with pytest.raises(TypeError):
        e[None]  # type: ignore[index]
    with pytest.raises(TypeError):
        e[None] = 1  # type: ignore[index]
    with pytest.raises(KeyError):
        e["missing"]


def test_an_unfired_event_shows_no_channels() -> None:
    e = Event.create("hello")
    assert repr(e) == "<hello[] ( )>"
    Component().fire(e)
    assert repr(e) == "<hello[*] ( )>"


def test_a_failed_events_value_unpacks_as_type_value_traceback() -> None:
    import types

    class App(Component):
        def boom(self) -> None:
            raise KeyError("k")

    app = App()
    v = app.fire(Event.create("boom"))
    app.flush()
    etype, evalue, tb = v
    assert v.errors and etype is KeyError and isinstance(evalue, KeyError)
    assert isinstance(tb, types.TracebackType)


def test_several_results_including_a_fired_events_value_read_as_results() -> None:
    class App(Component):
        @handler("many", priority=1)
        def _first(self) -> str:
            return "first"

        @handler("many")
        def _nested(self) -> Any:
            return self.fire(Event.create("inner"))

        def inner(self) -> str:
            return "inner"

    app = App()
    v = app.fire(Event.create("many"))
    app.flush()
    assert v.value == ["first", "inner"] and list(v) == ["first", "inner"] and "inner" in v


def test_membership_is_direct_children_or_their_class() -> None:
    class Child(Component):
        pass

    root = Manager()
    child = Child().register(root)
    grandchild = Component().register(child)
    assert child in root and Child in root
    assert grandchild not in root and grandchild in child
    assert root not in child
