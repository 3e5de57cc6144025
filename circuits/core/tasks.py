"""Generator handlers: suspended handlers and what they wait for.

A handler that is a generator becomes a *task*. It may ``yield`` None (go
on at the next loop pass), a nested generator (run it first; its return
value is sent back), or a :class:`Suspension` such as the one inside
``Manager.call``/``Manager.wait`` (go on when an event is done) or
:func:`wait_future` (go on when a concurrent.futures.Future resolves).
"""

from __future__ import annotations

import builtins
from collections.abc import Generator, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from .values import Value

if TYPE_CHECKING:
    from .events import Event
    from .loop import TimerHandle
    from .manager import Manager


class TimeoutError(builtins.TimeoutError):  # noqa: A001 - the 3.x name, circuits.core.TimeoutError
    """A ``call``/``wait`` with ``timeout=`` ran out: raised inside the waiting handler."""


class Task:
    """A suspended generator handler and the event it handles."""

    __slots__ = ("event", "handler", "stack")

    def __init__(self, event: Event, generator: Generator[Any, Any, Any], handler: Any = None) -> None:
        self.event = event
        #: The handler that returned the generator (named in error reports).
        self.handler = handler
        self.stack = [generator]


class Suspension:
    """Something a task can yield to sleep until ``resume`` is called."""

    manager: Manager | None = None
    task: Task | None = None
    #: (value, exc) of a resume() that came before the task yielded this
    #: (a task starts on the pass after its handler returned it).
    _early: tuple[Any, BaseException | None] | None = None
    _finished = False

    def attach(self, manager: Manager, task: Task) -> None:
        self.manager = manager
        self.task = task
        early = self._early
        if early is not None:
            self._early = None
            self.resume(*early)

    def resume(self, value: Any = None, exc: BaseException | None = None) -> None:
        """Queue the task to go on (with ``value``, or ``exc`` raised at its yield).

        Never stepped from here: whatever finished the wait (a handler, a
        timer, another waiter) keeps its own stack depth.
        """
        if self._finished:
            return
        manager, task = self.manager, self.task
        if manager is None or task is None:
            self._early = (value, exc)
            return
        self._finished = True
        self.manager = self.task = None
        root = manager.root
        root._circuits_ready.append((task, value, exc))
        loop = root._circuits_loop
        if loop is not None and loop.sleeping:
            loop.wake()


class EventWaiter(Suspension):
    """Wait until an event (a given one, or the next of a name) is done.

    The task is resumed with that event's :class:`Value`; on ``timeout``
    (seconds; None or negative: no limit; 0: unless it is done already) a
    :class:`TimeoutError` is raised at the ``yield``.
    """

    def __init__(self, event: Event | None = None, name: str | None = None,
                 channels: tuple[Any, ...] = (), timeout: float | None = None) -> None:
        self.event = event
        self.name = name
        self.channels = channels
        self.timeout = timeout
        self._timer: TimerHandle | None = None

    def attach(self, manager: Manager, task: Task) -> None:
        super().attach(manager, task)
        root = manager.root
        if self.event is not None:
            if self.event.value is not None and self.event.value.handled:
                self.done(self.event.value)
                return
            self.event.add_waiter(self)
        else:
            root._circuits_watchers.setdefault(self.name, []).append(self)
        if self.timeout == 0:  # not done now: no waiting at all
            self._expire()
        elif self.timeout is not None and self.timeout > 0:
            self._timer = root.loop.call_later(self.timeout, self._expire)

    def wants(self, event: Event) -> bool:
        """For a wait by name: does this event, on its channels, count?"""
        if not self.channels or "*" in self.channels:
            return True
        return any(c == "*" or c in self.channels for c in event.channels)

    def done(self, value: Value) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.resume(value)

    def _expire(self) -> None:
        self._timer = None
        manager = self.manager
        if manager is None:
            return
        if self.event is not None and self.event._waiters and self in self.event._waiters:
            self.event._waiters.remove(self)
        elif self.name is not None:
            waiting = manager.root._circuits_watchers.get(self.name, [])
            if self in waiting:
                waiting.remove(self)
        self.resume(exc=TimeoutError(f"timed out after {self.timeout} s waiting for {self.name or self.event!r}"))


class Sleep(Suspension):
    """``yield sleep(seconds)`` in a handler: go on after that long, on a loop timer.

    The loop keeps running meanwhile. ``yield from sleep(s)`` works too.
    """

    def __init__(self, seconds: float) -> None:
        try:
            self.seconds = max(0.0, float(seconds))
        except (TypeError, ValueError):
            raise TypeError(f"sleep() needs a number of seconds, not {seconds!r}") from None
        self._timer: TimerHandle | None = None

    def attach(self, manager: Manager, task: Task) -> None:
        super().attach(manager, task)
        self._timer = manager.root.loop.call_later(self.seconds, self.resume)

    def __iter__(self) -> Iterator[Sleep]:
        yield self

    def __repr__(self) -> str:
        return f"<sleep {self.seconds} s>"


def sleep(seconds: float) -> Sleep:
    """What a handler yields to pause for ``seconds`` without blocking the loop."""
    return Sleep(seconds)


class FutureWaiter(Suspension):
    """Wait for a concurrent.futures.Future; resumes with its result or raises."""

    def __init__(self, future: Future[Any]) -> None:
        self.future = future

    def attach(self, manager: Manager, task: Task) -> None:
        super().attach(manager, task)
        loop = manager.root.loop

        def finished(future: Future[Any]) -> None:
            # Runs in the worker's thread: hand the result to the loop's thread.
            loop.call_soon_threadsafe(self._deliver)

        self.future.add_done_callback(finished)

    def _deliver(self) -> None:
        exc = self.future.exception()
        if exc is not None:
            self.resume(exc=exc)
        else:
            self.resume(self.future.result())


def wait_future(future: Future[Any]) -> FutureWaiter:
    """``result = yield wait_future(f)`` inside a handler."""
    return FutureWaiter(future)


class Callback:
    """An event waiter that just calls a function (internal bookkeeping)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def done(self, value: Value) -> None:
        self.fn()
