"""The Manager: a node of the component tree and, at the root, the loop.

Every component is a Manager. Firing an event appends it to the root's
queue; the root's loop (``run``/``tick``) dispatches it to the handlers the
:class:`HandlerTable` lists for its name and channels. I/O readiness and
timers come from the root's :class:`Loop` (one selector per root).
"""

from __future__ import annotations

import os
import signal as _signal
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Generator
from types import GeneratorType, MethodType
from typing import Any

from .dispatcher import HandlerTable, print_exception, walk
from .events import Event, exception, generate_events, signal, started, stopped
from .loop import Loop
from .names import event_name
from .tasks import EventWaiter, Task, TimeoutError
from .values import Value

__all__ = ["TIMEOUT", "Manager", "TimeoutError", "describe"]

#: How long 3.x code polls between checks when it waits from outside the
#: loop (e.g. a test waiting for a flag); the loop itself never polls.
TIMEOUT = 0.1
#: Passes the loop may take after stop() to deliver what was already queued.
FADE_OUT_PASSES = 1000
#: A pass dispatches what was queued before it, then up to this many
#: generations of follow-ups (events fired by those handlers) before it
#: polls again. A read -> write chain then completes in one pass instead of
#: one pass per hop (serial->TCP bridge: +30% throughput, -15% round trip),
#: and I/O is still polled after a bounded amount of work.
GENERATIONS_PER_PASS = 4


class Manager:
    """A node of the component tree; the root one also runs the loop."""

    #: ``start(process=True)``'s implementation, wired in by circuits.core's
    #: package init (it needs the Bridge component, which sits above Manager).
    process_starter: Callable[[Manager, Any], Any] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._handlers: dict[str, list[Any]] = {}
        self._globals: list[Any] = []
        self.components: list[Manager] = []
        self.parent: Manager = self
        self.root: Manager = self
        # Root state (a registered child's queue moves to its new root).
        self._queue: deque[Event] = deque()
        self._ready: deque[tuple[Task, Any, BaseException | None]] = deque()
        self._watchers: dict[str | None, list[EventWaiter]] = {}
        self._table = HandlerTable(self)
        self._loop: Loop | None = None
        self._current: Event | None = None
        #: The thread that dispatches (set each pass): only its fires can be
        #: effects of the event being handled.
        self._dispatcher: int | None = None
        self._running = False
        self._exitcode: Any = None
        self._raise_exit = False
        self._thread: threading.Thread | None = None
        self._process: Any = None
        self._unregister_pending = False

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
        process = self._process
        return process.pid if process is not None and process.pid is not None else os.getpid()

    @property
    def __thread(self) -> threading.Thread | None:
        # 3.x code polls ``_Manager__thread`` until it is None to see a
        # started manager's thread end.
        thread = self._thread
        return thread if thread is not None and thread.is_alive() else None

    def __len__(self) -> int:
        """How many events are queued (``while len(app): app.flush()``)."""
        return len(self.root._queue)

    def __bool__(self) -> bool:
        return True  # a manager with nothing queued is still a manager

    def __repr__(self) -> str:
        # As 3.x shows it: <Class/channel pid:thread (queued=n) [R|S]>
        channel = getattr(self, "channel", "")
        thread = threading.current_thread().name
        state = "R" if self._running else "S"  # its own flag: children show [S], as in 3.x
        return f"<{type(self).__name__}/{channel} {os.getpid()}:{thread} (queued={len(self.root._queue)}) [{state}]>"

    # -- the loop of this tree ------------------------------------------
    @property
    def loop(self) -> Loop:
        """The root's Loop (selector, timers, inbox), created on first use."""
        root = self.root
        if root._loop is None:
            root._loop = Loop()
            root._loop.report = root._callback_failed  # type: ignore[method-assign]
        return root._loop

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
        self._file_handler(method, (event,) if event is not None else method.names)
        if getattr(self, method.__name__, None) is None or not isinstance(f, MethodType):
            setattr(self, method.__name__, method)
        self.root._table.invalidate()
        return method

    def _file_handler(self, method: Any, names: tuple[str, ...]) -> None:
        """Index a bound handler: by name, under "*" for every event on its
        channel, or as a global (no names, channel "*": every event anywhere)."""
        if not names and method.channel == "*":
            self._globals.append(method)
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
        if event is None and method in self._globals:
            self._globals.remove(method)
        self.root._table.invalidate()

    def getHandlers(self, event: Event, channel: Any) -> list[Any]:
        return [h for h, _, _ in self.root._table.get(event.name, (channel,))]

    # -- firing ------------------------------------------------------------
    def fire(self, event: Event, *channels: Any, **kwargs: Any) -> Value:
        """Queue ``event`` for the channels given, or its own, or ours.

        Safe from any thread: the queue is a deque and a sleeping loop is
        woken up.
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
            current = root._current
            if (current is not None and current._cause is not None
                    and root._dispatcher == threading.get_ident()):
                event._cause = cause = current._cause
                cause._effects += 1
            elif event._cause is not None:  # a re-fired event (e.g. a Timer's)
                event._cause = None
        root._queue.append(event)
        loop = root._loop
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
    def _dispatch(self, event: Event) -> None:
        """Run every handler of ``event`` (called on the root)."""
        if event.cancelled:
            self._settle(event)
            return
        entries = self._table._cache.get((event.name, event.channels))
        if entries is None:
            entries = self._table.get(event.name, event.channels)
        if self._watchers:
            self._attach_watchers(event)
        self._current = event
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
                self._stop_from_handler(e.code)
                continue
            except KeyboardInterrupt:
                self._stop_from_handler(None, raise_exit=False)
                continue
            except BaseException:
                failed = True
                self._handler_failed(event, fn, sys.exc_info())
                if event.stopped:  # the handler stopped the event before it raised
                    break
                continue
            if result is not None:
                if result.__class__ is GeneratorType:
                    event.waitingHandlers += 1
                    value.promise = True
                    self._step(Task(event, result, fn))
                    self._current = event
                else:
                    value.value = result
                    if is_filter:
                        break
            if event.stopped:
                break
        self._current = None
        if not event.waitingHandlers:
            if (event.alert_done or event.success or event._waiters is not None
                    or event._cause is not None):
                self._done(event, failed)
            else:  # the common case, kept cheap: nothing follows this event
                value.handled = True

    def _attach_watchers(self, event: Event) -> None:
        waiting = self._watchers.get(event.name)
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
            self._watchers[event.name] = keep
        else:
            del self._watchers[event.name]

    def _handler_failed(self, event: Event, fn: Any, exc_info: Any) -> None:
        etype, evalue, etb = exc_info
        # Formatted, so the error can cross threads/processes and holds no frames.
        err = (etype, evalue, traceback.format_tb(etb))
        event.handler = fn
        event.value.errors = True
        event.value.value = err
        if event.failure:
            channels = getattr(event, "failure_channels", None) or event.channels
            self.fire(event.child("failure", event, err), *channels)
        if event.name == "exception":
            # An error handler failed: report it directly, as another
            # ``exception`` event would fail the same way, forever.
            print_exception(etype, evalue, err[2], handler=fn, fevent=event)
            return
        self.fire(exception(etype, evalue, err[2], handler=fn, fevent=event), "*")

    def _callback_failed(self, callback: Any, error: Exception) -> None:
        """An I/O, timer or thread callback raised: report it like a handler error."""
        root = self.root
        root.fire(exception(type(error), error, traceback.format_tb(error.__traceback__),
                            handler=callback, fevent=None), "*")

    def _done(self, event: Event, failed: bool = False) -> None:
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
        self._settle(event)

    def _settle(self, event: Event) -> None:
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
            current, root._current = root._current, None
            try:
                self.fire(cause.child("complete", cause, cause.value.getValue()), *channels)
            finally:
                root._current = current
            for fn in completers or ():
                fn()

    # -- tasks (generator handlers) ---------------------------------------
    def _step(self, task: Task, send: Any = None, exc: BaseException | None = None) -> None:
        """Run a task until it suspends or finishes."""
        root = self.root
        previous = root._current
        event = root._current = task.event
        stack = task.stack
        try:
            while True:
                gen = stack[-1]
                try:
                    if exc is not None:
                        # Cleared first: if the generator catches it and
                        # returns, its caller must get the value, not the error.
                        exc, thrown = None, exc
                        yielded = gen.throw(thrown)
                    else:
                        yielded = gen.send(send)
                    send = None
                except StopIteration as stop:
                    stack.pop()
                    if stack:
                        send = stop.value
                        continue
                    if stop.value is not None:
                        event.value.value = stop.value
                    root._task_done(task, False)
                    return
                except SystemExit as e:
                    root._stop_from_handler(e.code)
                    root._task_done(task, False)
                    return
                except KeyboardInterrupt:
                    root._stop_from_handler(None, raise_exit=False)
                    root._task_done(task, False)
                    return
                except BaseException as e:
                    stack.pop()
                    if stack:  # a nested generator raised: its caller may catch it
                        exc = e
                        continue
                    root._handler_failed(event, task.handler or gen, sys.exc_info())
                    root._task_done(task, True)
                    return
                if yielded is None:
                    root._ready.append((task, None, None))
                    return
                if yielded.__class__ is GeneratorType:
                    stack.append(yielded)
                    continue
                attach = getattr(yielded, "attach", None)
                if attach is not None:
                    attach(root, task)
                    return
                # Any other value is a result; the task goes on next pass.
                event.value.value = yielded
                root._ready.append((task, None, None))
                return
        finally:
            root._current = previous

    def _task_done(self, task: Task, failed: bool) -> None:
        event = task.event
        event.waitingHandlers -= 1
        if event.waitingHandlers == 0:
            event.value.promise = False
            event.value.inform(True)
            self._done(event, failed)

    # -- loop passes -----------------------------------------------------
    def tick(self, timeout: float = -1) -> None:
        """One loop pass: wait for I/O or timers (at most ``timeout`` s;
        negative = as long as needed), then dispatch queued events."""
        root = self.root
        loop = root._loop or root.loop
        queue = root._queue
        root._dispatcher = threading.get_ident()
        if loop._calls:
            loop.run_calls()
        if loop._flushes:  # writes queued between passes (another thread, run()'s fast path)
            loop.flush_writes()
        if queue or root._ready or loop._flushes:
            wait: float | None = 0
        else:
            deadline = loop.next_deadline()
            wait = None if deadline is None else max(0.0, deadline - loop.clock.now())
            if timeout is not None and timeout >= 0:
                wait = timeout if wait is None else min(wait, timeout)
            if root._table.has_generators():
                wait = root._generate_events(wait)
        if wait == 0 and not loop._handlers:
            pass  # nothing to poll: skip the system call
        else:
            if wait != 0:
                loop.prepare_sleep()
                if queue or loop._calls:  # fired by a thread just now
                    wait = 0
            try:
                loop.poll(wait)
            finally:
                loop.sleeping = False
        if loop._timers:
            loop.run_timers()
        if loop._calls:
            loop.run_calls()
        ready = root._ready
        if ready:
            for _ in range(len(ready)):
                task, send, exc = ready.popleft()
                root._step(task, send, exc)
        dispatch = root._dispatch
        for _ in range(GENERATIONS_PER_PASS):
            n = len(queue)
            if not n:
                break
            for _ in range(n):
                dispatch(queue.popleft())
        if loop._flushes:  # the pass's writes leave before the pass ends
            loop.flush_writes()
        loop.passes += 1

    def _generate_events(self, wait: float | None) -> float | None:
        """Ask generate_events handlers for events; returns the wait left."""
        event = generate_events(None, -1 if wait is None else wait)
        event.channels = ("*",)
        event.value = Value(event, self)
        self._dispatch(event)
        if self._queue:
            return 0
        left = event.time_left
        return None if left < 0 else left

    def flush(self) -> None:
        """Dispatch queued events (and what they fire) until none are left,
        sending the writes they queued."""
        root = self.root
        queue = root._queue
        dispatch = root._dispatch
        root._dispatcher = threading.get_ident()
        while True:
            while queue or root._ready:
                ready = root._ready
                for _ in range(len(ready)):
                    task, send, exc = ready.popleft()
                    root._step(task, send, exc)
                for _ in range(len(queue)):
                    dispatch(queue.popleft())
            loop = root._loop
            if loop is None or not loop._flushes:
                break
            loop.flush_writes()  # may fire events (a peer gone): go round again

    flushEvents = flush

    # -- running -----------------------------------------------------------
    def run(self, socket: Any = None) -> Any:
        """Fire ``started`` and run the loop until ``stop()``.

        A handler that raised SystemExit(code) makes run() raise
        SystemExit(code) once the application has stopped gracefully;
        otherwise run() returns the code given to stop().
        """
        root = self.root
        if root is not self:
            return root.run(socket)
        self._running = True
        self._dispatcher = threading.get_ident()
        self._exitcode = None
        self._raise_exit = False
        loop = self.loop
        restore = self._install_signals()
        try:
            self.fire(started(self))
            queue, ready, dispatch = self._queue, self._ready, self._dispatch
            while self._running:
                if queue and not (ready or loop._handlers or loop._timers or loop._calls or loop._flushes):
                    # Nothing to poll, no timer, no task: a pass is just a dispatch.
                    for _ in range(len(queue)):
                        dispatch(queue.popleft())
                    loop.passes += 1
                else:
                    self.tick()
            for _ in range(FADE_OUT_PASSES):
                if not (self._queue or self._ready or loop._calls or loop._flushes):
                    break
                self.tick(0)
        finally:
            for signo, old in restore:
                _signal.signal(signo, old)
        code = self._exitcode
        if self._raise_exit:
            raise SystemExit(code)
        return code

    def _install_signals(self) -> list[tuple[int, Any]]:
        if threading.current_thread() is not threading.main_thread():
            return []
        saved = []
        for signo in (_signal.SIGINT, _signal.SIGTERM):
            try:
                saved.append((signo, _signal.signal(signo, self._on_os_signal)))
            except (ValueError, OSError):
                pass
        return saved

    def _on_os_signal(self, signo: int, frame: Any) -> None:
        # Runs between bytecodes: only hand the work to the loop.
        self.loop.call_soon_threadsafe(lambda: self._signalled(signo, frame))

    def _signalled(self, signo: int, frame: Any) -> None:
        self.fire(signal(signo, frame), "*")
        self.stop()

    def stop(self, code: Any = None) -> None:
        """Stop the loop: queued events and ``stopped`` are still delivered."""
        root = self.root
        process = root._process
        if process is not None and process.pid != os.getpid() and process.is_alive():
            # Started with start(process=True) and stopped from this side:
            # SIGTERM makes the child stop gracefully (see _install_signals).
            process.terminate()
        if not root._running:
            return
        root._exitcode = code
        root._running = False
        root.fire(stopped(root))
        if root._loop is not None:
            root._loop.wake()

    def _stop_from_handler(self, code: Any, raise_exit: bool = True) -> None:
        root = self.root
        if root._running:
            root._raise_exit = raise_exit
            root.stop(code)

    def start(self, process: bool = False, link: Any = None) -> tuple[Any, Any]:
        """Run this manager in a new thread (or process) and return at once.

        Returns ``(thread, None)``, or ``(process, bridge)`` with
        ``process=True``: ``bridge`` is the Bridge registered with ``link``
        (None without one) that carries ``ipc`` events to the child.
        """
        if process:
            if Manager.process_starter is None:
                raise RuntimeError("circuits.core was not fully imported")
            self._process, bridge = Manager.process_starter(self, link)
            return self._process, bridge
        self._thread = threading.Thread(target=self._run_quietly, name=self.name, daemon=True)
        self._thread.start()
        return self._thread, None

    def _run_quietly(self) -> None:
        try:
            self.run()
        except SystemExit:
            pass

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
        if self._process is not None:
            self._process.join(timeout)

    # -- introspection -----------------------------------------------------
    def statistics(self) -> dict[str, Any]:
        root = self.root
        loop = root._loop
        return {
            "queued": len(root._queue),
            "ready_tasks": len(root._ready),
            "timers": loop.timer_count if loop else 0,
            "watched_fds": loop.watched if loop else 0,
            "passes": loop.passes if loop else 0,
            "components": sum(1 for _ in walk(root)),
        }



def describe(manager: Manager) -> str:
    """A longer repr with the channel and handler counts of the subtree.

    This is the line the manual's ``graph()`` output shows per component.
    """
    channel = getattr(manager, "channel", "*")
    channel = channel if isinstance(channel, str) else repr(channel)
    handlers = [h for node in walk(manager) for hs in node._handlers.values() for h in hs]
    handlers.extend(h for node in walk(manager) for h in node._globals)
    channels = {getattr(h, "channel", None) or getattr(h.__self__, "channel", "*") for h in handlers}
    state = "R" if manager._running else "S"
    thread = threading.current_thread().name
    # type(manager).__name__, not .name: a Controller may expose a page
    # called ``name``, and formatting that bound method would recurse.
    return (f"<{type(manager).__name__}/{channel} {os.getpid()}:{thread} (queued={len(manager.root._queue)}, "
            f"channels={len(channels)}, handlers={len(set(map(id, handlers)))}) [{state}]>")
