"""@handler: names, channel, priority, filter, override, the ``event`` argument, add/remove."""

from __future__ import annotations

from typing import Any

import pytest

from circuits import BaseComponent, Component, Event, Manager, handler, reprhandler
from circuits.core.handlers import is_handler


class hello(Event):
    pass


class bye(Event):
    pass


def test_handler_marks_a_function_with_its_options() -> None:
    @handler("Hello", "bye", channel="c", priority=3, filter=True, override=True)
    def f(self: Any, event: Event) -> None:
        pass

    assert is_handler(f)
    assert f.names == ("hello", "bye")
    assert (f.channel, f.priority, f.filter, f.override, f.event) == ("c", 3, True, True, True)

    @handler("x")
    def g(self: Any, a: int) -> None:
        pass

    assert (g.channel, g.priority, g.filter, g.override, g.event) == (None, 0, False, False, False)

    @handler(False)
    def h(self: Any) -> None:
        pass

    assert not is_handler(h)


def test_one_handler_for_several_events() -> None:
    got: list[str] = []

    class App(BaseComponent):
        @handler("hello", "bye")
        def _on_both(self, event: Event) -> None:
            got.append(event.name)

    app = App()
    app.fire(hello())
    app.fire(bye())
    app.flush()
    assert got == ["hello", "bye"]


def test_optional_first_argument_named_event_receives_the_event() -> None:
    got: list[Any] = []

    class App(BaseComponent):
        @handler("hello")
        def _with(self, event: Event, x: int) -> None:
            got.append((event, x))

        @handler("hello")
        def _without(self, x: int) -> None:
            got.append(x)

    app = App()
    e = hello(5)
    app.fire(e)
    app.flush()
    assert got == [(e, 5), 5]


def test_handler_channel_overrides_the_components_channel() -> None:
    got: list[str] = []

    class App(BaseComponent):
        channel = "app"

        @handler("hello")
        def _mine(self) -> None:
            got.append("app")

        @handler("hello", channel="other")
        def _other(self) -> None:
            got.append("other")

        @handler("hello", channel="*")
        def _any(self) -> None:
            got.append("any")

    app = App()
    app.fire(hello(), "app")
    app.flush()
    assert sorted(got) == ["any", "app"]
    got.clear()
    app.fire(hello(), "other")
    app.flush()
    assert sorted(got) == ["any", "other"]
    got.clear()
    app.fire(hello(), "nobody")
    app.flush()
    assert got == ["any"]


def test_handler_without_names_handles_every_event_on_its_channel() -> None:
    got: list[str] = []

    class Spy(BaseComponent):
        channel = "spy"

        @handler()
        def _all(self, event: Event, *args: Any) -> None:
            got.append(event.name)

    class Global(BaseComponent):
        channel = "elsewhere"

        @handler(channel="*")
        def _everything(self, event: Event, *args: Any) -> None:
            got.append("global:" + event.name)

    app = Manager()
    Spy().register(app)
    Global().register(app)
    app.flush()
    got.clear()
    app.fire(hello(), "spy")
    app.fire(bye(), "other")
    app.flush()
    assert got == ["hello", "global:hello", "global:bye"]


def test_priority_orders_handlers() -> None:
    order: list[int] = []

    class App(BaseComponent):
        @handler("hello", priority=-1)
        def _low(self) -> None:
            order.append(-1)

        @handler("hello", priority=10)
        def _high(self) -> None:
            order.append(10)

        @handler("hello")
        def _zero(self) -> None:
            order.append(0)

        @handler("hello", priority=2.5)
        def _mid(self) -> None:
            order.append(2.5)

    app = App()
    app.fire(hello())
    app.flush()
    assert order == [10, 2.5, 0, -1]


def test_priority_across_components_beats_tree_order() -> None:
    order: list[str] = []

    class Early(Component):
        @handler("hello", priority=5)
        def _first(self) -> None:
            order.append("child with priority")

    class App(Component):
        def hello(self) -> None:
            order.append("root")

    app = App()
    Early().register(app)
    app.flush()
    app.fire(hello())
    app.flush()
    assert order == ["child with priority", "root"]


def test_filter_returning_a_value_stops_the_other_handlers() -> None:
    order: list[str] = []

    class App(BaseComponent):
        @handler("hello", filter=True)
        def _filter(self, x: int) -> Any:
            order.append("filter")
            return "filtered" if x else None

        @handler("hello")
        def _normal(self, x: int) -> str:
            order.append("normal")
            return "normal"

    app = App()
    v1 = app.fire(hello(1))
    app.flush()
    assert order == ["filter"] and v1.value == "filtered"
    order.clear()
    v2 = app.fire(hello(0))  # a filter returning None lets the others run
    app.flush()
    assert order == ["filter", "normal"] and v2.value == "normal"


def test_filters_run_before_normal_handlers_of_equal_priority_but_after_higher() -> None:
    order: list[str] = []

    class App(BaseComponent):
        @handler("hello")
        def _normal(self) -> None:
            order.append("normal")

        @handler("hello", filter=True)
        def _filter(self) -> None:
            order.append("filter")

        @handler("hello", priority=1)
        def _high(self) -> None:
            order.append("high")

    app = App()
    app.fire(hello())
    app.flush()
    assert order == ["high", "filter", "normal"]


def test_equal_priority_follows_tree_order_bob_before_fred() -> None:
    order: list[str] = []

    class Dog(Component):
        def woof(self) -> None:
            order.append(self.name)

    class Bob(Dog):
        pass

    class Fred(Dog):
        pass

    class Pound(Component):
        def __init__(self) -> None:
            super().__init__()
            self.bob = Bob().register(self)
            self.fred = Fred().register(self)

    class woof(Event):
        pass

    for _ in range(3):  # stable, not accidental
        pound = Pound()
        pound.fire(woof())
        pound.flush()
    assert order == ["Bob", "Fred"] * 3
    order.clear()
    pound = Manager() + Fred() + Bob()  # registration order decides
    pound.fire(woof())
    pound.flush()
    assert order == ["Fred", "Bob"]


def test_parent_handlers_run_before_children_at_equal_priority() -> None:
    order: list[str] = []

    class Leaf(Component):
        def hello(self) -> None:
            order.append("leaf")

    class Middle(Component):
        def __init__(self) -> None:
            super().__init__()
            Leaf().register(self)

        def hello(self) -> None:
            order.append("middle")

    class Top(Component):
        def hello(self) -> None:
            order.append("top")

    top = Top()
    Middle().register(top)
    top.fire(hello())
    top.flush()
    assert order == ["top", "middle", "leaf"]


def test_subclass_handler_adds_to_base_handler_without_override() -> None:
    order: list[str] = []

    class Base(BaseComponent):
        @handler("hello")
        def _base(self) -> None:
            order.append("base")

    class Added(Base):
        @handler("hello")
        def _added(self) -> None:
            order.append("added")

    class Replaced(Base):
        @handler("hello", override=True)
        def _replacement(self) -> None:
            order.append("replacement")

    for cls in (Added, Replaced):
        app = cls()
        app.fire(hello())
        app.flush()
    assert sorted(order[:2]) == ["added", "base"]
    assert order[2:] == ["replacement"]
    assert len(Added.handlers()) == 2
    assert len(Replaced.handlers()) == 1


def test_override_in_a_grandchild_also_hides_the_grandparent() -> None:
    order: list[str] = []

    class A(BaseComponent):
        @handler("hello")
        def _a(self) -> None:
            order.append("a")

    class B(A):
        @handler("hello")
        def _b(self) -> None:
            order.append("b")

    class C(B):
        @handler("hello", override=True)
        def _c(self) -> None:
            order.append("c")

    app = C()
    app.fire(hello())
    app.flush()
    assert order == ["c"]


def test_add_and_remove_handler_at_run_time() -> None:
    got: list[Any] = []

    @handler("hello")
    def on_hello(self: Any, x: int) -> int:
        got.append((self, x))
        return x * 2

    app = Manager()
    method = app.addHandler(on_hello)
    v = app.fire(hello(4))
    app.flush()
    assert got == [(app, 4)] and v.value == 8
    assert app.getHandlers(hello(), "*") == [method]
    app.removeHandler(method)
    app.fire(hello(5))
    app.flush()
    assert got == [(app, 4)]  # the cached dispatch list was invalidated
    assert app.getHandlers(hello(), "*") == []


def test_add_handler_for_a_named_event_and_remove_it_from_that_event_only() -> None:
    got: list[str] = []

    @handler()
    def on_any(self: Any, event: Event, *args: Any) -> None:
        got.append(event.name)

    class App(BaseComponent):
        channel = "app"

    app = App()
    method = app.addHandler(on_any, "hello")
    method2 = app.addHandler(on_any, "bye")
    assert method == method2
    app.fire(hello())
    app.fire(bye())
    app.flush()
    assert got == ["hello", "bye"]
    app.removeHandler(method, "hello")
    app.fire(hello())
    app.fire(bye())
    app.flush()
    assert got == ["hello", "bye", "bye"]


def test_remove_a_class_handler() -> None:
    got: list[str] = []

    class App(Component):
        def hello(self) -> None:
            got.append("hello")

    app = App()
    app.removeHandler(app.hello)
    app.fire(hello())
    app.flush()
    assert got == []


def test_handler_added_to_a_child_after_the_table_was_cached() -> None:
    got: list[str] = []

    @handler("hello")
    def late(self: Any) -> None:
        got.append("late")

    app = Manager()
    child = Component().register(app)
    app.fire(hello())
    app.flush()  # caches an empty dispatch list for hello
    child.addHandler(late)
    app.fire(hello())
    app.flush()
    assert got == ["late"]


def test_reprhandler_describes_a_handler() -> None:
    class App(BaseComponent):
        channel = "app"

        @handler("hello", priority=2)
        def _on_hello(self) -> None:
            pass

    assert reprhandler(App()._on_hello) == "<handler[app][hello] (App._on_hello)>"
    with pytest.raises(AttributeError):
        reprhandler(print)  # not a handler


def test_error_reports_describe_any_callable() -> None:
    from circuits.core.handlers import describe_handler

    def plain() -> None:
        pass

    assert describe_handler(plain).endswith("test_error_reports_describe_any_callable.<locals>.plain)>")


def test_add_handler_without_names_on_any_channel_or_on_the_components_channel() -> None:
    got: list[str] = []

    @handler(channel="*")
    def everything(self: Any, event: Event, *args: Any) -> None:
        got.append("everything:" + event.name)

    @handler()
    def mine(self: Any, event: Event, *args: Any) -> None:
        got.append("mine:" + event.name)

    class App(BaseComponent):
        channel = "app"

    app = App()
    g = app.addHandler(everything)
    m = app.addHandler(mine)
    app.fire(hello(), "app")
    app.fire(bye(), "elsewhere")
    app.flush()
    assert got == ["mine:hello", "everything:hello", "everything:bye"]
    app.removeHandler(g)
    app.removeHandler(m)
    app.fire(hello(), "app")
    app.flush()
    assert len(got) == 3


def test_an_explicit_handler_with_a_base_methods_name_adds_to_it_as_in_3x() -> None:
    from circuits import Component

    class Base(Component):
        def hello(self) -> str:
            return "base"

    class Added(Base):
        @handler("hello", priority=-1)
        def hello(self) -> str:
            return "added"

    class Replaced(Base):
        @handler("hello", override=True)
        def hello(self) -> str:
            return "replaced"

    class Plain(Base):
        def hello(self) -> str:  # plain Python overriding replaces the method
            return "plain"

    results = []
    for cls in (Added, Replaced, Plain):
        app = cls()
        v = app.fire(hello())
        app.flush()
        results.append(v.value)
    assert results == [["base", "added"], "replaced", "plain"]
