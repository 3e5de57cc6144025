"""The root's runner: what one loop pass does, the task trampoline, run/stop.

:class:`Runner` is the half of :class:`~circuits.core.manager.Manager`
that only a root uses: its queue of events and of ready tasks is drained
here, one pass at a time (:meth:`Runner._circuits_pass`, the whole of it in one
function, like asyncio's ``_run_once``). Tasks (generator handlers) are
only ever resumed from the ready queue, so a task's stack depth never grows
with the number of times it waited.
"""

from __future__ import annotations

import os
import signal as _signal
import sys
import threading
from collections.abc import Callable
from types import GeneratorType
from typing import Any

from .dispatcher import walk
from .events import generate_events, signal, started, stopped
from .tasks import Task
from .values import Value

#: Passes the loop may take after stop() to deliver what was already queued.
FADE_OUT_PASSES = 1000
#: A pass dispatches what was queued before it, then up to this many
#: generations of follow-ups (events fired by those handlers) before it
#: polls again. A read -> write chain then completes in one pass instead of
#: one pass per hop (serial->TCP bridge: +30% throughput, -15% round trip),
#: and I/O is still polled after a bounded amount of work.
GENERATIONS_PER_PASS = 4
#: The same bound for a pass with nothing to poll (no descriptor, timer,
#: task or call: see run()): there it only bounds how long a timer or a
#: descriptor a handler just added waits to be looked at.
GENERATIONS_PER_IDLE_PASS = 32
#: Marks the saved wake-up fd among the saved signal handlers.
_WAKEUP_FD = -1


class Runner:
    """Loop passes, tasks and the run/stop/start lifecycle of a root."""

    # Set up by Manager.__init__; declared here for readers.
    root: Any
    _circuits_queue: Any
    _circuits_ready: Any
    _circuits_loop: Any
    _running: bool
    #: ``start(process=True)``'s implementation, wired in by circuits.core's
    #: package init (it needs the Bridge component, which sits above this).
    process_starter: Callable[[Any, Any], Any] | None = None
    #: True when a subclass replaced tick() with a loop pass of its own
    #: (one that calls super().tick()): run() then calls it each pass.
    _circuits_custom_tick = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        tick = cls.tick
        # A Component method named ``tick`` that does not call super() is a
        # handler of ``tick`` events (a Timer's, typically), not the loop.
        cls._circuits_custom_tick = tick is not Runner.tick and getattr(tick, "handler", False) is not True

    # -- tasks (generator handlers) ---------------------------------------
    def _circuits_start_task(self, task: Task) -> None:
        """A handler returned a generator: it first runs on the next pass."""
        self.root._circuits_ready.append((task, None, None))

    def _circuits_step(self, task: Task, send: Any = None, exc: BaseException | None = None) -> None:
        """Run a task until it suspends or finishes (called from the ready queue only)."""
        root = self.root
        previous = root._circuits_cause
        event = task.event
        root._circuits_cause = event._cause
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
                    root._circuits_task_done(task, False)
                    return
                except SystemExit as e:
                    root._circuits_stop_from_handler(e.code)
                    root._circuits_task_done(task, False)
                    return
                except KeyboardInterrupt:
                    root._circuits_stop_from_handler(None, raise_exit=False)
                    root._circuits_task_done(task, False)
                    return
                except BaseException as e:
                    stack.pop()
                    if stack:  # a nested generator raised: its caller may catch it
                        exc = e
                        continue
                    root._circuits_handler_failed(event, task.handler or gen, sys.exc_info())
                    root._circuits_task_done(task, True)
                    return
                if yielded is None:
                    root._circuits_ready.append((task, None, None))
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
                root._circuits_ready.append((task, None, None))
                return
        finally:
            root._circuits_cause = previous

    def _circuits_task_done(self, task: Task, failed: bool) -> None:
        event = task.event
        event.waitingHandlers -= 1
        if event.waitingHandlers == 0:
            event.value.promise = False
            event.value.inform(True)
            self._circuits_done(event, failed)  # type: ignore[attr-defined]

    def _circuits_run_ready(self) -> None:
        """Step the tasks that were ready when this was called (once each)."""
        root = self.root
        ready = root._circuits_ready
        step = root._circuits_step
        for _ in range(len(ready)):
            task, send, exc = ready.popleft()
            step(task, send, exc)

    # -- loop passes -----------------------------------------------------
    def tick(self, timeout: float = -1) -> None:
        """One loop pass: wait for I/O or timers (at most ``timeout`` s;
        negative = as long as needed), then dispatch queued events.

        A subclass may override it (calling ``super().tick(timeout)``):
        run() then calls the override each pass.
        """
        self._circuits_pass(timeout)

    def _circuits_pass(self, timeout: float = -1) -> None:
        # Runs twice per request/answer in a bridge, so the common case
        # (a timer or none, no generate_events handler, a poller that is
        # already made) reads fields here instead of calling small methods.
        root = self.root
        loop = root._circuits_loop or root.loop
        queue = root._circuits_queue
        root._circuits_dispatcher = threading.get_ident()
        if loop._calls:
            loop.run_calls()
        if loop._flushes:  # writes queued between passes (another thread, run()'s fast path)
            loop._run_queued(loop._flushes)
        if queue or root._circuits_ready or loop._flushes:
            wait: float | None = 0
        else:
            timers = loop._timers
            if not timers:
                wait = None
            else:
                deadline = timers[0].when if not timers[0].cancelled else loop.next_deadline()
                wait = None if deadline is None else max(0.0, deadline - loop.clock.now())
            if timeout is not None and timeout >= 0:
                wait = timeout if wait is None else min(wait, timeout)
            generators = root._circuits_table._has_generators
            if generators or (generators is None and root._circuits_table.has_generators()):
                wait = root._circuits_generate_events(wait)
        if wait == 0 and not loop._handlers:
            pass  # nothing to poll: skip the system call
        else:
            if wait != 0:
                if loop._wake_w is None:
                    loop.prepare_sleep()
                loop.sleeping = True  # as prepare_sleep() says
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
        if root._circuits_ready:
            root._circuits_run_ready()
        if queue:
            dispatch = root._circuits_dispatch
            for _ in range(GENERATIONS_PER_PASS):
                n = len(queue)
                if not n:
                    break
                for _ in range(n):
                    dispatch(queue.popleft())
        if loop._flushes:  # the pass's writes leave before the pass ends
            loop._run_queued(loop._flushes)
        loop.passes += 1

    def _circuits_generate_events(self, wait: float | None) -> float | None:
        """Ask generate_events handlers for events; returns the wait left."""
        event = generate_events(None, -1 if wait is None else wait)
        event.channels = ("*",)
        event.value = Value(event, self)
        self._circuits_dispatch(event)  # type: ignore[attr-defined]
        if self._circuits_queue:
            return 0
        left = event.time_left
        return None if left < 0 else left

    def flush(self) -> None:
        """Dispatch queued events (and what they fire) until none are left,
        sending the writes they queued."""
        root = self.root
        queue = root._circuits_queue
        dispatch = root._circuits_dispatch
        root._circuits_dispatcher = threading.get_ident()
        while True:
            while queue or root._circuits_ready:
                if root._circuits_ready:
                    root._circuits_run_ready()
                for _ in range(len(queue)):
                    dispatch(queue.popleft())
            loop = root._circuits_loop
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
        self._circuits_dispatcher = threading.get_ident()
        self._circuits_exitcode = None
        self._circuits_raise_exit = False
        loop = self.loop  # type: ignore[attr-defined]
        one_pass = self.tick if self._circuits_custom_tick else self._circuits_pass
        restore = self._circuits_install_signals()
        try:
            self.fire(started(self))  # type: ignore[attr-defined]
            queue, ready, dispatch = self._circuits_queue, self._circuits_ready, self._circuits_dispatch  # type: ignore[attr-defined]
            while self._running:
                if (queue and not self._circuits_custom_tick
                        and not (ready or loop._handlers or loop._timers or loop._calls or loop._flushes)):
                    # Nothing to poll, no timer, no task: a pass is just the
                    # dispatch of its generations, as _circuits_pass does them
                    # (what a handler adds, e.g. a timer, is seen next pass).
                    popleft = queue.popleft
                    for _ in range(GENERATIONS_PER_IDLE_PASS):
                        n = len(queue)
                        if n == 1:  # a chain of single events: the common case
                            dispatch(popleft())
                        elif n:
                            for _ in range(n):
                                dispatch(popleft())
                        else:
                            break
                    loop.passes += 1
                else:
                    one_pass()
            for _ in range(FADE_OUT_PASSES):
                if not (self._circuits_queue or self._circuits_ready or loop._calls or loop._flushes):
                    break
                self._circuits_pass(0)
        finally:
            self._circuits_restore_signals(restore)
        code = self._circuits_exitcode
        if self._circuits_raise_exit:
            raise SystemExit(code)
        return code

    def _circuits_install_signals(self) -> list[tuple[int, Any]]:
        if threading.current_thread() is not threading.main_thread():
            return []
        saved: list[tuple[int, Any]] = []
        for signo in (_signal.SIGINT, _signal.SIGTERM):
            try:
                saved.append((signo, _signal.signal(signo, self._circuits_on_os_signal)))
            except (ValueError, OSError):
                pass
        # The interpreter writes a byte to the loop's wake-up socket the moment
        # a signal arrives (in C, before any Python code runs): a sleeping
        # loop wakes at once even while another thread holds the GIL.
        loop = self.loop  # type: ignore[attr-defined]
        try:
            old = _signal.set_wakeup_fd(loop.wakeup_fileno(), warn_on_full_buffer=False)
            saved.append((_WAKEUP_FD, old))
        except (ValueError, OSError):
            pass
        return saved

    @staticmethod
    def _circuits_restore_signals(saved: list[tuple[int, Any]]) -> None:
        for signo, old in saved:
            try:
                if signo == _WAKEUP_FD:
                    _signal.set_wakeup_fd(old)
                else:
                    _signal.signal(signo, old)
            except (ValueError, OSError):
                pass

    def _circuits_on_os_signal(self, signo: int, frame: Any) -> None:
        # Runs between bytecodes: only hand the work to the loop.
        self.loop.call_soon_threadsafe(lambda: self._circuits_signalled(signo, frame))  # type: ignore[attr-defined]

    def _circuits_signalled(self, signo: int, frame: Any) -> None:
        self.fire(signal(signo, frame), "*")  # type: ignore[attr-defined]
        self.stop()

    def stop(self, code: Any = None) -> None:
        """Stop the loop: queued events and ``stopped`` are still delivered."""
        root = self.root
        process = root._circuits_process
        if process is not None and process.pid != os.getpid() and process.is_alive():
            # Started with start(process=True) and stopped from this side:
            # SIGTERM makes the child stop gracefully (see _circuits_install_signals).
            process.terminate()
        if not root._running:
            return
        root._circuits_exitcode = code
        root._running = False
        root.fire(stopped(root))
        if root._circuits_loop is not None:
            root._circuits_loop.wake()

    def _circuits_stop_from_handler(self, code: Any, raise_exit: bool = True) -> None:
        root = self.root
        if root._running:
            root._circuits_raise_exit = raise_exit
            root.stop(code)

    def start(self, process: bool = False, link: Any = None) -> tuple[Any, Any]:
        """Run this manager in a new thread (or process) and return at once.

        Returns ``(thread, None)``, or ``(process, bridge)`` with
        ``process=True``: ``bridge`` is the Bridge registered with ``link``
        (None without one) that carries ``ipc`` events to the child.
        """
        if process:
            if self.process_starter is None:
                raise RuntimeError("circuits.core was not fully imported")
            self._circuits_process, bridge = self.process_starter(self, link)
            return self._circuits_process, bridge
        self._circuits_thread = threading.Thread(target=self._circuits_run_quietly, name=self.name,  # type: ignore[attr-defined]
                                        daemon=True)
        self._circuits_thread.start()
        return self._circuits_thread, None

    def _circuits_run_quietly(self) -> None:
        try:
            self.run()
        except SystemExit:
            pass

    def join(self, timeout: float | None = None) -> None:
        if self._circuits_thread is not None:
            self._circuits_thread.join(timeout)
        if self._circuits_process is not None:
            self._circuits_process.join(timeout)

    # -- introspection -----------------------------------------------------
    def statistics(self) -> dict[str, Any]:
        root = self.root
        loop = root._circuits_loop
        return {
            "queued": len(root._circuits_queue),
            "ready_tasks": len(root._circuits_ready),
            "timers": loop.timer_count if loop else 0,
            "watched_fds": loop.watched if loop else 0,
            "passes": loop.passes if loop else 0,
            "components": sum(1 for _ in walk(root)),
        }
