"""Manager, BaseComponent, Component: implicit handlers, the tree, channels, singletons."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from circuits import BaseComponent, Component, Event, Manager, handler
from circuits.core import SingletonError
from circuits.core.events import prepare_unregister
from circuits.core.manager import describe

from .helpers import Recorder


class hello(Event):
    pass


class bye(Event):
    pass


# -- implicit handlers --------------------------------------------------------


class Greeter(Component):
    def hello(self) -> str:
        return "public"

    def _private(self) -> str:
        return "private"

    @handler(False)
    def helper(self) -> str:
        return "not a handler"

    @handler("bye")
    def explicit(self) -> str:
        return "explicit"


def test_public_methods_become_handlers_of_their_own_name() -> None:
    app = Greeter()
    v = app.fire(hello())
    app.flush()
    assert v.value == "public"


def test_private_and_opted_out_methods_are_not_handlers() -> None:
    app = Greeter()
    values = [app.fire(Event.create(name)) for name in ("_private", "private", "helper", "explicit")]
    app.flush()
    assert [v.value for v in values] == [None, None, None, None]
    assert app.helper() == "not a handler"  # still an ordinary method
    v = app.fire(Event.create("bye"))
    app.flush()
    assert v.value == "explicit"  # an explicit @handler keeps its own names


def test_handlers_and_handles() -> None:
    names = sorted(n for f in Greeter.handlers() for n in f.names)
    assert names == ["bye", "hello"]
    assert Greeter.handles("hello", "bye")
    assert Greeter.handles("Hello")  # canonical names
    assert not Greeter.handles("hello", "helper")
    assert not Greeter.handles("_private")


def test_base_component_methods_are_not_implicit_handlers() -> None:
    class Plain(BaseComponent):
        def hello(self) -> str:
            return "nope"

    app = Plain()
    v = app.fire(hello())
    app.flush()
    assert v.value is None
    assert Plain.handlers() == []


def test_framework_methods_are_never_implicit_handlers() -> None:
    class App(Component):
        def init(self, x: int = 0) -> None:
            self.x = x

    app = App(x=3)
    assert app.x == 3
    v = app.fire(Event.create("init", 9))
    app.flush()
    assert v.value is None and app.x == 3


def test_inherited_public_methods_are_handlers_in_subclasses() -> None:
    class Dog(Component):
        def woof(self) -> str:
            return self.name

    class Bob(Dog):
        pass

    bob = Bob()
    v = bob.fire(Event.create("woof"))
    bob.flush()
    assert v.value == "Bob"


def test_redefining_a_method_in_a_subclass_replaces_it() -> None:
    class Dog(Component):
        def woof(self) -> str:
            return "dog"

    class Quiet(Dog):
        def woof(self) -> str:
            return "quiet"

    app = Quiet()
    v = app.fire(Event.create("woof"))
    app.flush()
    assert v.value == "quiet"  # not ["quiet", "dog"]: ordinary Python overriding


def test_init_hook_gets_the_constructor_arguments() -> None:
    got: list[Any] = []

    class App(Component):
        def init(self, a: int, b: int = 2, channel: str = "x") -> None:
            got.append((a, b, channel, self.channel))

    App(1, b=3, channel="chan")
    assert got == [(1, 3, "chan", "chan")]


# -- channel ---------------------------------------------------------------


def test_channel_default_class_attribute_and_keyword() -> None:
    class OnB(Component):
        channel = "b"

    assert Component().channel == "*"
    assert OnB().channel == "b"
    assert OnB(channel="c").channel == "c"
    assert Component(channel="k").channel == "k"
    assert Component(channel=None).channel == "*"


def test_component_handlers_listen_on_their_channel_only() -> None:
    got: list[str] = []

    class App(Component):
        def hello(self) -> None:
            got.append(self.channel)

    root = Manager()
    App(channel="a").register(root)
    App(channel="b").register(root)
    App().register(root)  # "*": every channel
    root.fire(hello(), "a")
    root.flush()
    assert sorted(got) == ["*", "a"]


# -- the tree ----------------------------------------------------------------


def test_register_sets_parent_and_root_and_fires_registered() -> None:
    got: list[Any] = []

    class Parent(Component):
        def registered(self, component: Any, manager: Any) -> None:
            got.append((component, manager))

    parent = Parent()
    child = Component()
    assert child.register(parent) is child
    grandchild = Component().register(child)
    parent.flush()
    assert child.parent is parent and child.root is parent
    assert grandchild.parent is child and grandchild.root is parent
    assert parent.components == [child] and child.components == [grandchild]
    assert got == [(child, parent), (grandchild, child)]


def test_registering_a_subtree_updates_every_root() -> None:
    root = Manager()
    sub = Component()
    leaf = Component().register(Component().register(sub))
    assert leaf.root is sub
    sub.register(root)
    assert leaf.root is root and leaf.parent.root is root
    assert leaf.loop is root.loop  # one loop (and selector) per root


def test_plus_operators_register() -> None:
    a, b, c = Component(), Component(), Component()
    result = a + b
    assert result is a and b.parent is a
    a += c
    assert c.parent is a
    m = Manager()
    m += a
    assert a.parent is m and a.root is m and c.root is m
    chained = Manager() + Component() + Component()
    assert len(chained.components) == 2


def test_events_fired_before_registration_are_delivered_after_it() -> None:
    got: list[str] = []

    class App(Component):
        def hello(self) -> None:
            got.append("hello")

    child = Component()
    child.fire(hello())
    app = App()
    child.register(app)
    app.flush()
    assert got == ["hello"]


def test_registering_with_a_new_parent_detaches_from_the_old_one() -> None:
    first, second = Manager(), Manager()
    child = Component().register(first)
    child.register(second)
    assert first.components == [] and second.components == [child]
    assert child.root is second


def test_unregister_two_stages_and_in_subtree() -> None:
    events: list[Any] = []

    class Watcher(Component):
        channel = "*"

        def prepare_unregister(self, event: Event, component: Any) -> None:
            events.append(("prepare", component.parent is not component,
                           event.in_subtree(leaf), event.in_subtree(sub), event.in_subtree(self)))

        def unregistered(self, component: Any, manager: Any) -> None:
            events.append(("unregistered", component, manager))

    root = Watcher()
    sub = Component().register(root)
    leaf = Component().register(sub)
    root.flush()
    sub.unregister()
    assert sub.parent is root  # nothing happens until the loop runs
    root.flush()
    assert events == [("prepare", True, True, True, False), ("unregistered", sub, root)]
    assert sub.parent is sub and sub.root is sub and leaf.root is sub
    assert root.components == []


def test_in_subtree_outside_a_tree() -> None:
    root = Manager()
    target = Component().register(root)
    other = Component().register(root)
    e = prepare_unregister(target)
    assert e.in_subtree(target)
    assert not e.in_subtree(other)
    assert not e.in_subtree(root)
    assert not e.in_subtree(Component())


def test_unregistered_is_delivered_to_the_component_itself_then_it_is_gone() -> None:
    got: list[str] = []

    class Leaving(Component):
        channel = "leaving"

        def unregistered(self, component: Any, manager: Any) -> None:
            got.append("unregistered")

        def hello(self) -> None:
            got.append("hello")

    root = Manager()
    leaving = Leaving().register(root)
    root.fire(hello(), "leaving")
    root.flush()
    leaving.unregister()
    root.flush()
    root.fire(hello(), "leaving")
    root.flush()
    assert got == ["hello", "unregistered"]


def test_minus_operators_unregister() -> None:
    root = Manager()
    a = Component().register(root)
    b = Component().register(root)
    assert (root - a) is root
    root -= b
    root.flush()
    assert root.components == []


def test_unregister_twice_or_when_not_registered_is_harmless() -> None:
    rec = Recorder()
    root = Manager()
    rec.register(root)
    child = Component().register(root)
    root.flush()
    child.unregister()
    child.unregister()
    root.flush()
    assert rec.count("unregistered") == 1
    assert rec.count("prepare_unregister") == 1
    lonely = Component()
    lonely.unregister()
    lonely.flush()
    assert lonely.parent is lonely


def test_re_register_after_unregister() -> None:
    got: list[str] = []

    class App(Component):
        channel = "app"

        def hello(self) -> None:
            got.append("hello")

    root = Manager()
    app = App().register(root)
    app.unregister()
    root.flush()
    app.register(root)
    root.fire(hello(), "app")
    root.flush()
    assert got == ["hello"]


# -- singleton -----------------------------------------------------------------


def test_singleton_allows_one_instance_per_tree() -> None:
    class Only(Component):
        singleton = True

    root = Manager()
    Only().register(root)
    with pytest.raises(SingletonError):
        Only().register(root)
    deeper = Component().register(root)
    with pytest.raises(SingletonError):
        Only().register(deeper)  # anywhere in the same tree
    Only().register(Manager())  # another tree is fine
    assert sum(isinstance(c, Only) for c in root.components) == 1


# -- Manager -----------------------------------------------------------------


def test_manager_identity_and_repr() -> None:
    class Pound(Component):
        def hello(self) -> None:
            pass

    pound = Pound()
    assert pound.name == "Pound"
    assert pound.pid == os.getpid()
    assert not pound.running
    assert isinstance(pound, Manager)
    me = f"{os.getpid()}:{threading.current_thread().name}"
    assert repr(pound) == f"<Pound/* {me} (queued=0) [S]>"  # the 3.x form
    assert describe(pound) == f"<Pound/* {me} (queued=0, channels=1, handlers=1) [S]>"  # graph()'s
    assert repr(Manager()) == f"<Manager/ {me} (queued=0) [S]>"  # a Manager has no channel
    assert repr(Component(channel=(1, 2))).startswith("<Component/(1, 2) ")
    bob = Component(channel="bob").register(pound)
    assert repr(bob).startswith("<Component/bob ")
    pound.fire(hello())
    assert "queued=2" in repr(pound)  # registered + hello


def test_len_is_the_number_of_queued_events_and_a_manager_stays_true() -> None:
    class App(Component):
        def hello(self) -> None:
            self.fire(bye())

        def bye(self) -> None:
            pass

    app = App()
    assert len(app) == 0 and bool(app)
    app.fire(hello())
    app.fire(hello())
    child = Component().register(app)
    assert len(app) == 3 and len(child) == 3  # the root's queue: a child counts it too
    passes = 0
    while len(app):
        app.flush()
        passes += 1
    assert passes == 1 and len(app) == 0 and bool(app)


def test_a_started_manager_runs_in_a_thread_that_start_returns() -> None:
    app = Manager()
    thread, bridge = app.start()
    try:
        assert bridge is None and thread.is_alive() and thread is app._circuits_thread
        assert app._Manager__thread is thread  # what 3.x code polls
    finally:
        app.stop()
        app.join(5)
    assert not thread.is_alive() and app._Manager__thread is None


def test_statistics() -> None:
    root = Manager()
    Component().register(root)
    stats = root.statistics()
    assert stats["components"] == 2
    assert stats["queued"] == 1  # registered
    root.flush()
    assert root.statistics()["queued"] == 0


def test_registering_twice_with_the_same_parent_is_a_no_op() -> None:
    rec = Recorder()
    root = Manager()
    rec.register(root)
    child = Component().register(root)
    assert child.register(root) is child
    root.flush()
    assert root.components == [rec, child]
    assert rec.count("registered") == 2  # the recorder's and the child's, once each


def test_a_component_method_that_would_replace_the_loop_is_refused() -> None:
    import pytest

    with pytest.raises(TypeError, match=r"App\.flush replaces Manager\.flush"):
        class App(Component):  # noqa: F841 - defining it is the test
            def flush(self) -> None:
                pass

    class Fine(Component):  # overriding and calling the original stays allowed
        def stop(self, code=None):  # noqa: ANN001, ANN201
            return super().stop(code)

    Fine()


def test_a_method_named_tick_handles_tick_events_and_the_loop_still_runs() -> None:
    class tick(Event):
        pass

    class Clock(Component):
        def init(self) -> None:
            self.ticks = 0

        def tick(self) -> None:
            self.ticks += 1
            if self.ticks == 3:
                self.stop()
            else:
                self.fire(tick())

        def started(self, component: Any) -> None:
            self.fire(tick())

    clock = Clock()
    clock.run()  # run() never calls the handler as its loop pass
    assert clock.ticks == 3


def test_a_tick_override_that_calls_super_is_the_loop_pass_run_uses() -> None:
    passes: list[int] = []

    class OnePass(Manager):
        def tick(self, timeout: float = -1) -> None:
            passes.append(1)
            self._running = False  # one pass, then run() fades out
            super().tick(timeout)

    class Hello(Component):
        def hello(self) -> str:
            return "hi"

    app = OnePass()
    Hello().register(app)
    v = app.fire(hello())
    app.run()
    assert passes == [1] and v.value == "hi"


def test_a_component_s_own_private_names_never_clobber_the_runner() -> None:
    """User classes commonly keep ``_ready``, ``_queue``, ``_thread``, ``_done``...
    of their own: the root's state and passes live under names of the framework's."""

    class Busy(Component):
        _ready = False  # a class attribute and instance attributes of the same names
        _current = "mine"

        def init(self) -> None:
            self._queue: list[str] = []
            self._thread = "not a thread"
            self._process = object()  # e.g. a subprocess.Popen the component runs
            self._loop = None
            self._table = {}
            self._watchers = {}

        def _done(self, *args: Any) -> None:  # private helpers: not handlers, not the core's
            raise AssertionError("the core called a component's own _done")

        def _dispatch(self, *args: Any) -> None:
            raise AssertionError("the core called a component's own _dispatch")

        def ready(self) -> None:
            self._ready = True

        def hello(self) -> Any:
            yield self.call(ready())
            self._queue.append("hello")
            return "done"

    class ready(Event):
        pass

    app = Busy()
    v = app.fire(hello())
    app.start()
    try:
        deadline = threading.Event()
        for _ in range(500):
            if v.value == "done":
                break
            deadline.wait(0.01)
        assert v.value == "done" and app._ready is True and app._queue == ["hello"]
    finally:
        app.stop()
        app.join(5)
    assert not app._circuits_thread.is_alive()
    assert app._thread == "not a thread" and app.pid == os.getpid()


def test_unregister_stops_delivery_at_once():
    # Events queued before unregister() returns must not reach the leaving
    # component (nor its children); its own unregister lifecycle still does.
    got: list[str] = []

    class Child(Component):
        channel = "app"

        def ping(self, who: str) -> None:
            got.append(f"child {who}")

    class Leaving(Component):
        channel = "app"

        def ping(self, who: str) -> None:
            got.append(f"leaving {who}")

        def unregistered(self, component, manager) -> None:
            if component is self:
                got.append("leaving unregistered")

    class Staying(Component):
        channel = "app"

        def ping(self, who: str) -> None:
            got.append(f"staying {who}")

    app = Manager()
    leaving = Leaving().register(app)
    Child().register(leaving)
    Staying().register(app)
    app.flush()
    app.fire(Event.create("ping", "queued"), "app")
    leaving.unregister()
    app.fire(Event.create("ping", "later"), "app")
    app.flush()
    assert sorted(got) == ["leaving unregistered", "staying later", "staying queued"]
    assert leaving.parent is leaving and leaving not in app.components
    # Registered again, it hears events again.
    got.clear()
    leaving.register(app)
    app.flush()
    app.fire(Event.create("ping", "back"), "app")
    app.flush()
    assert sorted(got) == ["child back", "leaving back", "staying back"]
