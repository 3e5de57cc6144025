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
import traceback
from collections import deque
from collections.abc import Generator
from types import GeneratorType, MethodType
from typing import Any

from .dispatcher import HandlerTable, print_exception, walk
from .events import Event, exception
from .loop import Loop
from .names import event_name
from .runner import Runner
from .tasks import EventWaiter, Task, TimeoutError
from .values import Value

__all__ = ["TIMEOUT", "Manager", "TimeoutError", "describe"]

#: How long 3.x code polls between checks when it waits from outside the
#: loop (e.g. a test waiting for a flag); the loop itself never polls.
TIMEOUT = 0.1


class Manager(Runner):
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
        self._circuits_loop: Loop | None = None
        self._circuits_current: Event | None = None
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
            channels = event.channels or (getattr(self, "channel", "*") or "*",)
        event.channels = channels
        value = event.value = Value(event, self)
        root = self.root
        if event.complete:
            event._cause = event
            event._effects = 1
        else:
            current = root._circuits_current
            if (current is not None and current._cause is not None
                    and root._circuits_dispatcher == threading.get_ident()):
                event._cause = cause = current._cause
                cause._effects += 1
            elif event._cause is not None:  # a re-fired event (e.g. a Timer's)
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
        if event.cancelled:
            self._circuits_settle(event)
            return
        entries = self._circuits_table._cache.get((event.name, event.channels))
        if entries is None:
            entries = self._circuits_table.get(event.name, event.channels)
        if self._circuits_watchers:
            self._circuits_attach_watchers(event)
        self._circuits_current = event
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
                if event.stopped:  # the handler stopped the event before it raised
                    break
                continue
            if result is not None:
                if result.__class__ is GeneratorType:
                    event.waitingHandlers += 1
                    value.promise = True
                    self._circuits_start_task(Task(event, result, fn))
                else:
                    value.value = result
                    if is_filter:
                        break
            if event.stopped:
                break
        self._circuits_current = None
        if not event.waitingHandlers:
            if (event.alert_done or event.success or event._waiters is not None
                    or event._cause is not None):
                self._circuits_done(event, failed)
            else:  # the common case, kept cheap: nothing follows this event
                value.handled = True

    def _circuits_attach_watchers(self, event: Event) -> None:
        waiting = self._circuits_watchers.get(event.name)
        if not waiting:
            return
        keep = []
        for waiter in waiting:
            if waiter.wants(event):
                if event._waiters is None:
                    event._waiters = []
                event._waiters.append(waiter)
            else:
                keep.append(waiter)
        if keep:
            self._circuits_watchers[event.name] = keep
        else:
            del self._circuits_watchers[event.name]

    def _circuits_handler_failed(self, event: Event, fn: Any, exc_info: Any) -> None:
        etype, evalue, etb = exc_info
        # The events get the traceback formatted, so they can cross threads
        # and processes and hold no frames; the event's own Value keeps the
        # traceback object, as in 3.x (``etype, evalue, tb = value``).
        err = (etype, evalue, traceback.format_tb(etb))
        event.handler = fn
        event.value.errors = True
        event.value.value = (etype, evalue, etb)
        if event.failure:
            channels = getattr(event, "failure_channels", None) or event.channels
            self.fire(event.child("failure", event, err), *channels)
        if event.name == "exception":
            # An error handler failed: report it directly, as another
            # ``exception`` event would fail the same way, forever.
            print_exception(etype, evalue, err[2], handler=fn, fevent=event)
            return
        self.fire(exception(etype, evalue, err[2], handler=fn, fevent=event), "*")

    def _circuits_callback_failed(self, callback: Any, error: Exception) -> None:
        """An I/O, timer or thread callback raised: report it like a handler error."""
        root = self.root
        root.fire(exception(type(error), error, traceback.format_tb(error.__traceback__),
                            handler=callback, fevent=None), "*")

    def _circuits_done(self, event: Event, failed: bool = False) -> None:
        value = event.value
        value.handled = True
        if event.alert_done:
            self.fire(event.child("done", value.getValue()), *event.channels)
        if event.success and not failed and not value.errors:
            channels = getattr(event, "success_channels", None) or event.channels
            self.fire(event.child("success", event, value.getValue()), *channels)
        waiters = event._waiters
        if waiters:
            event._waiters = None
            for waiter in waiters:
                waiter.done(value)
        self._circuits_settle(event)

    def _circuits_settle(self, event: Event) -> None:
        """Count ``event`` as processed for the ``complete`` bookkeeping."""
        cause = event._cause
        if cause is None:
            return
        cause._effects -= 1
        if cause._effects == 0:
            cause._cause = None
            completers = getattr(cause, "_completers", None)
            channels = getattr(cause, "complete_channels", None) or cause.channels
            # Not an effect of the event being handled now (a task's event may
            # have ``cause`` as its cause): the complete event must not count
            # towards ``cause`` again, or it would complete twice.
            root = self.root
            current, root._circuits_current = root._circuits_current, None
            try:
                self.fire(cause.child("complete", cause, cause.value.getValue()), *channels)
            finally:
                root._circuits_current = current
            for fn in completers or ():
                fn()

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
