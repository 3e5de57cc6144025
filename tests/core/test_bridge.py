"""Bridge: Manager.start(process=True, link=...) runs a component in a child process."""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

from circuits import Bridge, Component, Event, Manager, ipc

from .helpers import TIMEOUT, running

# Generous: forking and starting the child's loop is the slow part.
SLOW = TIMEOUT * 3


class hello(Event):
    pass


class checked(Event):
    success = True


class crash(Event):
    pass


class go(Event):
    pass


def stop_child(child: Manager) -> None:
    """Stop the child now (it would also stop by itself once the parent's link closes)."""
    process = child._circuits_process
    assert process is not None
    process.terminate()
    process.join(TIMEOUT)
    assert not process.is_alive()


class Child(Component):
    """Runs in the child process."""

    def hello(self, who: str) -> str:
        return f"hello {who} from {os.getpid()}"

    def checked(self) -> int:
        return 1

    def crash(self) -> None:
        raise ValueError("remote failure")


class Parent(Component):
    def __init__(self, *events: Event) -> None:
        super().__init__()
        self.to_fire = events
        self.values: list[Any] = []
        self.successes: list[Any] = []
        self.done = threading.Event()

    def go(self) -> Any:
        for event in self.to_fire:
            value = yield self.call(event)
            self.values.append((value.value, value.errors))
        self.done.set()

    def checked_success(self, evt: Event, value: Any) -> None:
        self.successes.append(value)


def test_an_event_fired_in_the_parent_is_handled_in_the_child_and_its_value_comes_back() -> None:
    parent = Parent(hello("parent"), hello("again"))
    child = Child()
    child.start(process=True, link=parent)
    try:
        with running(parent):
            parent.fire(go())
            assert parent.done.wait(SLOW)
    finally:
        stop_child(child)
    (first, errors), (second, _) = parent.values
    assert not errors
    assert first.startswith("hello parent from ")
    assert second.startswith("hello again from ")
    remote_pid = int(first.rsplit(" ", 1)[1])
    assert remote_pid != os.getpid()
    assert child._circuits_process is not None and child._circuits_process.pid == remote_pid


def test_remote_errors_and_success_events_cross_once() -> None:
    parent = Parent(crash(), checked())
    child = Child()
    child.start(process=True, link=parent)
    try:
        with running(parent) as rec:
            parent.fire(go())
            assert parent.done.wait(SLOW)
            assert rec.wait_for("checked_success")
            parent.fire(hello("flush"))  # one more round trip: nothing else is on its way
            assert rec.wait_for("hello")
    finally:
        stop_child(child)
    (crashed, crash_errors), (one, errors) = parent.values
    assert crash_errors and crashed[0] is ValueError
    assert (one, errors) == (1, False)
    assert parent.successes == [1]  # the child's own success event did not come back too


def test_bridge_over_a_socketpair_in_one_process() -> None:
    """Two trees in one process, bridged: the same mechanism without fork."""
    left_sock, right_sock = socket.socketpair()
    right = Manager()
    Child().register(right)
    Bridge(right_sock).register(right)
    left = Parent(hello("left"))
    Bridge(left_sock).register(left)
    with running(right), running(left):
        left.fire(go())
        assert left.done.wait(TIMEOUT)
    value, errors = left.values[0]
    assert value == f"hello left from {os.getpid()}" and not errors


class hang(Event):
    pass


class hanging(Event):
    pass


class Hanger(Component):
    def hang(self) -> Any:
        self.fire(hanging())  # crosses back to the parent: now the child is surely handling hang
        yield self.wait("never")  # never answers


def test_calls_waiting_on_a_child_that_dies_end_with_an_error() -> None:
    parent = Parent(hang())
    child = Hanger()
    child.start(process=True, link=parent)
    try:
        with running(parent) as rec:
            parent.fire(go())
            assert rec.wait_for("hanging", timeout=SLOW)
            process = child._circuits_process
            assert process is not None
            process.terminate()  # the parent's side of the bridge sees the socket close
            assert parent.done.wait(SLOW)
    finally:
        stop_child(child)
    value, errors = parent.values[0]
    assert errors and isinstance(value, ConnectionError)


def test_start_in_a_process_without_a_link(tmp_path: Any) -> None:
    marker = tmp_path / "pid"

    class App(Component):
        def started(self, component: Any) -> None:
            marker.write_text(str(os.getpid()))
            self.stop()

    app = App()
    app.start(process=True)
    app.join(SLOW)
    process = app._circuits_process
    assert process is not None and not process.is_alive()
    assert process.exitcode == 0
    assert int(marker.read_text()) == process.pid != os.getpid()


def test_the_child_stops_when_the_parent_side_of_the_link_goes_away() -> None:
    parent = Parent()
    child = Child()
    child.start(process=True, link=parent)
    process = child._circuits_process
    assert process is not None
    try:
        with running(parent):
            pass  # the parent runs, then stops: its Bridge is left behind
        bridge = next(c for c in parent.components if isinstance(c, Bridge))
        bridge._close()  # the parent's end of the pipe closes (as when the parent exits)
        process.join(SLOW)
        assert not process.is_alive(), "the child outlived its parent's link"
        assert process.exitcode == 0
    finally:
        if process.is_alive():
            process.terminate()
            process.join(TIMEOUT)


def test_ipc_sends_one_event_to_the_child_and_its_value_is_the_remote_result() -> None:
    parent = Parent()
    child = Child()
    process, bridge = child.start(process=True, link=parent)
    try:
        assert isinstance(bridge, Bridge) and bridge.parent is parent
        assert process is child._circuits_process and child.pid == process.pid != os.getpid()
        with running(parent) as rec:
            assert rec.wait_for("ready")  # the Bridge says it is set up
            assert rec.first("ready").args == [bridge]
            value = parent.fire(ipc(hello("ipc")))
            assert rec.wait_for("ipc")
            deadline = threading.Event()
            for _ in range(int(SLOW / 0.01)):
                if value.handled:
                    break
                deadline.wait(0.01)
            assert value.value == f"hello ipc from {process.pid}"
            assert "hello" not in rec.names()  # sent inside the ipc, never fired here
    finally:
        stop_child(child)


def test_stop_from_the_parent_ends_a_child_started_in_a_process(tmp_path: Any) -> None:
    stopped_marker = tmp_path / "stopped"

    class App(Component):
        def stopped(self, component: Any) -> None:
            stopped_marker.write_text("graceful")  # SIGTERM stopped the loop, handlers ran

        def started(self, component: Any) -> None:
            (tmp_path / "started").write_text("1")

    app = App()
    process, bridge = app.start(process=True)
    assert bridge is None
    for _ in range(int(SLOW / 0.01)):
        if (tmp_path / "started").exists():
            break
        threading.Event().wait(0.01)
    app.stop()
    app.join(SLOW)
    assert not process.is_alive()
    assert stopped_marker.read_text() == "graceful"
