"""The Manager: a node of the component tree, its handlers, fire/call/wait, dispatch.

Every component is a Manager. Firing an event appends it to the root's
queue; the root's runner (``run``/``tick``, see runner.py) dispatches it to
the handlers the :class:`HandlerTable` lists for its name and channels. I/O
readiness and timers come from the root's :class:`Loop` (one selector per
root).
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from collections.abc import Generator
from types import GeneratorType, MethodType
from typing import Any

from .completion import Completion
from .dispatcher import HandlerTable, walk
from .events import Event
from .loop import Loop
from .names import event_name
from .runner import Runner
from .tasks import EventWaiter, Task, TimeoutError
from .values import Value

__all__ = ["TIMEOUT", "Manager", "TimeoutError", "describe"]

#: How long 3.x code polls between checks when it waits from outside the
#: loop (e.g. a test waiting for a flag); the loop itself never polls.
TIMEOUT = 0.1
_new_value = object.__new__


class Manager(Runner, Completion):
    """A node of the component tree; the root one also runs the loop
    (see :class:`~circuits.core.runner.Runner`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._handlers: dict[str, list[Any]] = {}
        self._circuits_globals: list[Any] = []
        self.components: list[Manager] = []
        self.parent: Manager = self
        self.root: Manager = self
        # Root state (a registered child's queue moves to its new root).
        self._circuits_queue: deque[Event] = deque()
        self._circuits_ready: deque[tuple[Task, Any, BaseException | None]] = deque()
        self._circuits_watchers: dict[str | None, list[EventWaiter]] = {}
        self._circuits_table = HandlerTable(self)
        # The table's cache dict itself (cleared in place, never replaced):
        # dispatch reads it with one attribute lookup.
        self._circuits_entries = self._circuits_table._cache
        self._circuits_loop: Loop | None = None
        #: The ``complete`` cause of the event (or task) being handled: the
        #: events its handlers fire count towards it.
        self._circuits_cause: Event | None = None
        #: The thread that dispatches (set each pass): only its fires can be
        #: effects of the event being handled.
        self._circuits_dispatcher: int | None = None
        self._running = False
        self._circuits_exitcode: Any = None
        self._circuits_raise_exit = False
        self._circuits_thread: threading.Thread | None = None
        self._circuits_process: Any = None
        self._circuits_unregister_pending = False

    # -- identity ----------------------------------------------------------
    @property
    def name(self) -> str:
        return self.__class__.__name__

    @property
    def running(self) -> bool:
        return self.root._running

    @property
    def pid(self) -> int:
        """The process this manager runs in (the child's, after start(process=True))."""
        process = self._circuits_process
        return process.pid if process is not None and process.pid is not None else os.getpid()

    @property
    def __thread(self) -> threading.Thread | None:
        # 3.x code polls ``_Manager__thread`` until it is None to see a
        # started manager's thread end.
        thread = self._circuits_thread
        return thread if thread is not None and thread.is_alive() else None

    def __len__(self) -> int:
        """How many events are queued (``while len(app): app.flush()``)."""
        return len(self.root._circuits_queue)

    def __bool__(self) -> bool:
        return True  # a manager with nothing queued is still a manager

    def __contains__(self, other: Any) -> bool:
        """``child in manager`` (a direct child) or ``ChildClass in manager``."""
        return any(c is other or type(c) is other for c in self.components)

    def __repr__(self) -> str:
        # As 3.x shows it: <Class/channel pid:thread (queued=n) [R|S]>
        channel = getattr(self, "channel", "")
        thread = threading.current_thread().name
        state = "R" if self._running else "S"  # its own flag: children show [S], as in 3.x
        return f"<{type(self).__name__}/{channel} {os.getpid()}:{thread} (queued={len(self.root._circuits_queue)}) [{state}]>"

    # -- the loop of this tree ------------------------------------------
    @property
    def loop(self) -> Loop:
        """The root's Loop (selector, timers, inbox), created on first use."""
        root = self.root
        if root._circuits_loop is None:
            root._circuits_loop = Loop()
            root._circuits_loop.report = root._circuits_callback_failed  # type: ignore[method-assign]
        return root._circuits_loop

    # -- the tree (``register``/``unregister`` live on BaseComponent) ------
    def __add__(self, other: Any) -> Manager:
        """``parent + child`` registers ``child`` with ``parent`` and gives ``parent``."""
        other.register(self)
        return self

    __iadd__ = __add__

    def __sub__(self, other: Any) -> Manager:
        """``parent - child`` unregisters ``child``."""
        other.unregister()
        return self

    __isub__ = __sub__

    # -- handlers ----------------------------------------------------------
    def addHandler(self, f: Any, event: str | None = None) -> Any:
        """Add a handler (a @handler-decorated function or method) to this node."""
        method = f if isinstance(f, MethodType) else MethodType(f, self)
        self._circuits_file_handler(method, (event,) if event is not None else method.names)
        if getattr(self, method.__name__, None) is None or not isinstance(f, MethodType):
            setattr(self, method.__name__, method)
        self.root._circuits_table.invalidate()
        return method

    def _circuits_file_handler(self, method: Any, names: tuple[str, ...]) -> None:
        """Index a bound handler: by name, under "*" for every event on its
        channel, or as a global (no names, channel "*": every event anywhere)."""
        if not names and method.channel == "*":
            self._circuits_globals.append(method)
        elif not names:
            self._handlers.setdefault("*", []).append(method)
        else:
            for name in names:
                self._handlers.setdefault(name, []).append(method)

    def removeHandler(self, method: Any, event: str | None = None) -> None:
        names = [event] if event is not None else list(self._handlers)
        for name in names:
            handlers = self._handlers.get(name, [])
            for h in list(handlers):
                if h == method:
                    handlers.remove(h)
            if not handlers:
                self._handlers.pop(name, None)
        if event is None and method in self._circuits_globals:
            self._circuits_globals.remove(method)
        self.root._circuits_table.invalidate()

    def getHandlers(self, event: Event, channel: Any) -> list[Any]:
        return [h for h, _, _ in self.root._circuits_table.get(event.name, (channel,))]

    # -- firing ------------------------------------------------------------
    def fire(self, event: Event, *channels: Any, **kwargs: Any) -> Value:
        """Queue ``event`` for the channels given, or its own, or ours.

        Safe from any thread: the queue is a deque and a sleeping loop is
        woken up. ``priority=n`` (3.x) queues the event ahead of the queued
        events that were given a larger ``n``; events fired without it go
        to the end, in order.
        """
        if not channels:
            channels = event.channels
            if not channels:
                try:  # a Component always has a channel; a bare Manager has none
                    channels = (self.channel or "*",)
                except AttributeError:
                    channels = ("*",)
        event.channels = channels
        # Value(event, self), inlined: a Python __init__ call is a tenth of
        # an event's cost. Keep in step with Value.__init__.
        value = event.value = _new_value(Value)
        value.event = event
        value.manager = self
        value.result = value.handled = value._circuits_stop = False
        value._value = None
        root = self.root
        # The ``complete`` bookkeeping: an event with ``complete`` is its own
        # cause; one fired by a handler of a caused event shares its cause.
        # (A plain event skips the flag reads, see Event._circuits_plain.)
        plain = event._circuits_plain
        if not plain:
            # (flags read under their keys: no property call, see eventflags)
            value._circuits_stop = bool(event._circuits_flag_stopped)
        if not plain and event._circuits_flag_complete:
            event._cause = event
            event._effects = 1
        else:
            cause = root._circuits_cause
            if cause is not None and root._circuits_dispatcher == threading.get_ident():
                event._cause = cause
                event._circuits_plain = False
                cause._effects += 1
            elif not plain and event._cause is not None:  # re-fired (a Timer's)
                event._cause = None
        if kwargs and "priority" in kwargs:
            _queue_by_priority(root._circuits_queue, event, kwargs["priority"])
        else:
            root._circuits_queue.append(event)
        loop = root._circuits_loop
        if loop is not None and loop.sleeping:
            loop.wake()
        return value

    fireEvent = fire

    def call(self, event: Event, *channels: Any, **kwargs: Any) -> Generator[Any, Any, Value]:
        """Fire ``event`` and wait until it is done: ``v = yield self.call(e)``.

        ``timeout=`` seconds: TimeoutError is raised at the ``yield`` if the
        event is not done by then.
        """
        self.fire(event, *channels)
        result = yield EventWaiter(event=event, timeout=kwargs.get("timeout"))
        return result

    callEvent = call

    def wait(self, event: Event | str, *channels: Any, **kwargs: Any) -> Generator[Any, Any, Value]:
        """Wait until an event (or the next event of that name) is done."""
        timeout = kwargs.get("timeout")
        if isinstance(event, Event):
            waiter = EventWaiter(event=event, timeout=timeout)
        else:
            waiter = EventWaiter(name=event_name(event), channels=channels, timeout=timeout)
        result = yield waiter
        return result

    waitEvent = wait

    # -- dispatching -------------------------------------------------------
    def _circuits_dispatch(self, event: Event) -> None:
        """Run every handler of ``event`` (called on the root)."""
        plain = event._circuits_plain
        if plain:
            self._circuits_cause = None
            own_stop = False
        else:
            if event._circuits_flag_cancelled:
                self._circuits_settle(event)
                return
            self._circuits_cause = event._cause
            own_stop = event._circuits_own_stop
        entries = self._circuits_entries.get((event.name, event.channels))
        if entries is None:
            entries = self._circuits_table.get(event.name, event.channels)
        if self._circuits_watchers:
            self._circuits_attach_watchers(event)
        value = event.value
        args = event.args
        kwargs = event.kwargs
        failed = False
        for fn, wants_event, is_filter in entries:
            try:
                # (**{} still costs a dict copy per call: skip it when empty)
                if wants_event:
                    result = fn(event, *args, **kwargs) if kwargs else fn(event, *args)
                else:
                    result = fn(*args, **kwargs) if kwargs else fn(*args)
            except SystemExit as e:
                self._circuits_stop_from_handler(e.code)
                continue
            except KeyboardInterrupt:
                self._circuits_stop_from_handler(None, raise_exit=False)
                continue
            except BaseException:
                failed = True
                self._circuits_handler_failed(event, fn, sys.exc_info())
                if value._circuits_stop or (own_stop and event.stopped):  # stopped, then raised
                    break
                continue
            if result is not None:
                if result.__class__ is GeneratorType:
                    event.waitingHandlers += 1
                    event._circuits_plain = False
                    value.promise = True
                    self._circuits_start_task(Task(event, result, fn))
                else:
                    value.value = result
                    if is_filter:
                        break
            if value._circuits_stop or (own_stop and event.stopped):
                break
        self._circuits_cause = None
        if event._circuits_plain:  # (re-read: a handler may have asked for more)
            value.handled = True
        elif not event.waitingHandlers:
            if (event._circuits_flag_alert_done or event._circuits_flag_success or event._waiters is not None
                    or event._cause is not None):
                self._circuits_done(event, failed)
            else:  # the common case, kept cheap: nothing follows this event
                value.handled = True


def _queue_by_priority(queue: Any, event: Event, priority: float) -> None:
    """Insert ``event`` before the queued events with a larger priority
    number (those fired without one count as 0). A linear scan from the end:
    prioritised fires are rare, and plain ones pay nothing for them."""
    event._priority = priority
    i = len(queue)
    while i and queue[i - 1]._priority > priority:
        i -= 1
    queue.insert(i, event)


def describe(manager: Manager) -> str:
    """A longer repr with the channel and handler counts of the subtree.

    This is the line the manual's ``graph()`` output shows per component.
    """
    channel = getattr(manager, "channel", "*")
    channel = channel if isinstance(channel, str) else repr(channel)
    handlers = [h for node in walk(manager) for hs in node._handlers.values() for h in hs]
    handlers.extend(h for node in walk(manager) for h in node._circuits_globals)
    channels = {getattr(h, "channel", None) or getattr(h.__self__, "channel", "*") for h in handlers}
    state = "R" if manager._running else "S"
    thread = threading.current_thread().name
    # type(manager).__name__, not .name: a Controller may expose a page
    # called ``name``, and formatting that bound method would recurse.
    return (f"<{type(manager).__name__}/{channel} {os.getpid()}:{thread} (queued={len(manager.root._circuits_queue)}, "
            f"channels={len(channels)}, handlers={len(set(map(id, handlers)))}) [{state}]>")
