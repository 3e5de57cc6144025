"""The event loop's I/O and time half: one selector, one timer heap, one inbox.

Each root component owns one Loop. A loop pass (see Manager.tick) asks the
Loop how long it may wait, waits once on the selector, runs the callbacks
of ready file descriptors and of expired timers, and runs callbacks other
threads posted. The dispatching of events is the Manager's job.
"""

from __future__ import annotations

import heapq
import select
import selectors
import socket
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

from .clock import MonotonicClock

Callback = Callable[[], Any]
#: select() takes descriptors below FD_SETSIZE only.
_SELECT_LIMIT = 1024
#: The default selector's epoll object, used directly by Loop.poll.
_EPOLL = getattr(select, "epoll", None)
EVENT_READ = selectors.EVENT_READ
EVENT_WRITE = selectors.EVENT_WRITE
#: epoll bits that wake a reader / a writer: as selectors maps them, an
#: error or hang-up wakes both (the callback's read or write then sees it).
_EPOLL_NOT_READ = ~select.EPOLLOUT if hasattr(select, "epoll") else 0
_EPOLL_NOT_WRITE = ~select.EPOLLIN if hasattr(select, "epoll") else 0
#: epoll waits whole milliseconds, rounded up, so a timer due in 1.2 ms
#: would fire 0.8 ms late. A wait shorter than this is done with select()
#: on the epoll descriptor instead (microseconds; it is readable when some
#: watched descriptor is), then epoll is asked without waiting. Used by
#: Modbus RTU's 1.75 ms inter-frame gap; costs one more system call, and
#: only for short timed waits.
FINE_WAIT = 0.01


class TimerHandle:
    """A scheduled callback on a loop's heap; ``cancel()`` removes it."""

    __slots__ = ("when", "seq", "callback", "cancelled", "loop")

    def __init__(self, when: float, seq: int, callback: Callback, loop: Loop) -> None:
        self.when = when
        self.seq = seq
        self.callback = callback
        self.cancelled = False
        self.loop = loop

    def __lt__(self, other: TimerHandle) -> bool:
        return (self.when, self.seq) < (other.when, other.seq)

    def cancel(self) -> None:
        if not self.cancelled:  # fired timers are marked cancelled and already off the heap
            self.cancelled = True
            self.loop._cancelled_timers += 1


class Loop:
    """Selector, timer heap and thread-safe inbox of one component tree."""

    def __init__(self, clock: Any = None, selector_class: type[selectors.BaseSelector] | None = None) -> None:
        self.clock = clock or MonotonicClock()
        self._selector_class = selector_class or selectors.DefaultSelector
        self._selector: selectors.BaseSelector | None = None
        #: The default selector's epoll object on Linux (poll() uses it
        #: directly), else None.
        self._epoll: Any = None
        #: [the epoll descriptor] for select()'s fine waits, when it fits
        #: under select()'s FD_SETSIZE.
        self._fine_fd: list[int] | None = None
        self._handlers: dict[int, list[Callback | None]] = {}  # fd -> [reader, writer]
        self._timers: list[TimerHandle] = []
        self._timer_seq = 0
        self._cancelled_timers = 0
        self._calls: deque[Callback] = deque()
        #: Write flushes deferred to the end of the pass (see Transport.write).
        self._flushes: deque[Callback] = deque()
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        #: True while the owning thread may be blocked in select().
        self.sleeping = False
        self.passes = 0

    # -- selector ----------------------------------------------------------
    @property
    def selector(self) -> selectors.BaseSelector:
        if self._selector is None:
            self._selector = self._selector_class()
            self._wake_r, self._wake_w = socket.socketpair()
            self._wake_r.setblocking(False)
            self._wake_w.setblocking(False)
            self._selector.register(self._wake_r, EVENT_READ, None)
            self._set_epoll()
        return self._selector

    def use_selector(self, selector_class: type[selectors.BaseSelector]) -> None:
        """Switch the selector implementation, moving every registration."""
        if self._selector is not None and isinstance(self._selector, selector_class):
            return
        old = self._selector
        self._selector_class = selector_class
        if old is None:
            return
        self._selector = selector_class()
        for key in old.get_map().values():
            self._selector.register(key.fileobj, key.events, key.data)
        self._set_epoll()
        old.close()

    def _update(self, fd: int) -> None:
        pair = self._handlers.get(fd)
        mask = 0
        if pair is not None:
            mask = (EVENT_READ if pair[0] else 0) | (EVENT_WRITE if pair[1] else 0)
        sel = self.selector
        try:
            key = sel.get_key(fd)
        except KeyError:
            key = None
        if mask == 0:
            self._handlers.pop(fd, None)
            if key is not None:
                sel.unregister(fd)
        elif key is None:
            sel.register(fd, mask, pair)
        elif key.events != mask:
            sel.modify(fd, mask, pair)

    def _set_epoll(self) -> None:
        assert self._selector is not None
        self._epoll = epoll = _epoll_of(self._selector)
        self._fine_fd = [epoll.fileno()] if epoll is not None and epoll.fileno() < _SELECT_LIMIT else None

    def add_reader(self, fd: int | Any, callback: Callback) -> None:
        fd = _fileno(fd)
        self._handlers.setdefault(fd, [None, None])[0] = callback
        self._update(fd)

    def add_writer(self, fd: int | Any, callback: Callback) -> None:
        fd = _fileno(fd)
        self._handlers.setdefault(fd, [None, None])[1] = callback
        self._update(fd)

    def remove_reader(self, fd: int | Any) -> None:
        fd = _fileno(fd)
        pair = self._handlers.get(fd)
        if pair is not None and pair[0] is not None:
            pair[0] = None
            self._update(fd)

    def remove_writer(self, fd: int | Any) -> None:
        fd = _fileno(fd)
        pair = self._handlers.get(fd)
        if pair is not None and pair[1] is not None:
            pair[1] = None
            self._update(fd)

    def discard(self, fd: int | Any) -> None:
        """Forget a descriptor entirely (e.g. before closing it)."""
        fd = _fileno(fd)
        pair = self._handlers.pop(fd, None)
        if pair is not None:
            pair[0] = pair[1] = None  # a select() result still holding it must not call back
        if pair is not None and self._selector is not None:
            try:
                self._selector.unregister(fd)
            except (KeyError, ValueError):
                pass

    def is_reading(self, fd: int | Any) -> bool:
        pair = self._handlers.get(_fileno(fd))
        return pair is not None and pair[0] is not None

    def is_writing(self, fd: int | Any) -> bool:
        pair = self._handlers.get(_fileno(fd))
        return pair is not None and pair[1] is not None

    @property
    def watched(self) -> int:
        """How many descriptors are watched (the wake-up socket excluded)."""
        return len(self._handlers)

    # -- timers ------------------------------------------------------------
    def call_at(self, when: float, callback: Callback) -> TimerHandle:
        self._timer_seq += 1
        handle = TimerHandle(when, self._timer_seq, callback, self)
        heapq.heappush(self._timers, handle)
        return handle

    def call_later(self, delay: float, callback: Callback) -> TimerHandle:
        return self.call_at(self.clock.now() + delay, callback)

    def next_deadline(self) -> float | None:
        timers = self._timers
        while timers and timers[0].cancelled:
            heapq.heappop(timers)
            self._cancelled_timers -= 1
        return timers[0].when if timers else None

    def run_timers(self) -> int:
        """Run the callbacks of every timer that is due; returns how many."""
        timers = self._timers
        if not timers:
            return 0
        now = self.clock.now()
        ran = 0
        while timers and timers[0].when <= now:
            handle = heapq.heappop(timers)
            if handle.cancelled:
                self._cancelled_timers -= 1
                continue
            handle.cancelled = True  # fired: a later cancel() is a no-op
            try:
                handle.callback()
            except Exception as e:  # one broken callback must not end the loop
                self.report(handle.callback, e)
            ran += 1
        # Many cancelled timers left in the heap: rebuild it so it stays small.
        if self._cancelled_timers > 256 and self._cancelled_timers > len(timers) // 2:
            self._timers = [t for t in timers if not t.cancelled]
            heapq.heapify(self._timers)
            self._cancelled_timers = 0
        return ran

    @property
    def timer_count(self) -> int:
        return len(self._timers) - self._cancelled_timers

    # -- other threads -----------------------------------------------------
    def call_soon_threadsafe(self, callback: Callback) -> None:
        """Run ``callback`` in the loop's thread on its next pass."""
        self._calls.append(callback)
        self.wake()

    def prepare_sleep(self) -> None:
        """Say the owning thread is about to block in the poller.

        The wake-up socket is created first: a thread that sees ``sleeping``
        must find something to write to, or its wake-up would be lost.
        """
        if self._wake_w is None:
            self.selector  # noqa: B018 - creating the selector creates the wake-up socket
        self.sleeping = True

    def wakeup_fileno(self) -> int:
        """The write end of the wake-up socket (for ``signal.set_wakeup_fd``)."""
        if self._wake_w is None:
            self.selector  # noqa: B018 - creating the selector creates the wake-up socket
        assert self._wake_w is not None
        return self._wake_w.fileno()

    def wake(self) -> None:
        """Interrupt a blocking select() (cheap no-op when not sleeping)."""
        if self.sleeping and self._wake_w is not None:
            try:
                self._wake_w.send(b"\0")
            except (BlockingIOError, OSError):
                pass  # the buffer is full: a wake-up is pending anyway

    def run_calls(self) -> None:
        self._run_queued(self._calls)

    def _run_queued(self, callbacks: deque[Callback]) -> None:
        """Run the callbacks queued so far (those they queue wait a pass)."""
        for _ in range(len(callbacks)):
            callback = callbacks.popleft()
            try:
                callback()
            except Exception as e:  # one broken callback must not end the loop
                self.report(callback, e)

    @property
    def has_calls(self) -> bool:
        return bool(self._calls)

    # -- writes coalesced per pass -------------------------------------------
    def defer_flush(self, callback: Callback) -> None:
        """Run ``callback`` once the events of this pass are dispatched.

        Transports queue their writes during a pass and send them here, so
        several writes to one descriptor in a pass cost one system call.
        """
        self._flushes.append(callback)
        if self.sleeping:  # written from another thread: the loop must look
            self.wake()

    def flush_writes(self) -> None:
        self._run_queued(self._flushes)

    # -- one wait ----------------------------------------------------------
    def poll(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` (None: forever) and run ready I/O callbacks.

        With the default selector on Linux its epoll object is used directly,
        without the selectors wrapper (which builds a (key, mask) pair per
        ready descriptor): the fd is looked up in our own table. Same
        rounding (epoll takes whole milliseconds, rounded up) and the same
        read/write mapping. This runs every pass, so it is one frame.
        """
        epoll = self._epoll
        if epoll is None:
            self._poll_selector(timeout)
            return
        if not self.clock.real:
            timeout = 0  # a fake clock never waits for real time
        handlers = self._handlers
        if timeout is not None and 0 < timeout < FINE_WAIT and timeout * 1000 % 1 and self._fine_fd is not None:
            # A short wait that is no whole number of ms: epoll would
            # round it up (see FINE_WAIT).
            select.select(self._fine_fd, (), (), timeout)
            timeout = 0
        ready = epoll.poll(-1 if timeout is None else timeout, len(handlers) + 1)
        # Awake again: events fired by the callbacks below need no wake-up.
        self.sleeping = False
        for fd, bits in ready:
            pair = handlers.get(fd)
            if pair is None:
                if self._wake_r is not None and fd == self._wake_r.fileno():
                    self._drain_wakeups()
                continue  # discarded since (a callback closed it)
            try:
                if bits & _EPOLL_NOT_READ and pair[0] is not None:
                    pair[0]()
                if bits & _EPOLL_NOT_WRITE and pair[1] is not None:
                    pair[1]()
            except Exception as e:  # one broken descriptor must not end the loop
                self.report(pair[0] or pair[1], e)

    def _poll_selector(self, timeout: float | None) -> None:
        """poll() through any selectors.BaseSelector."""
        selector = self.selector
        if self._epoll is not None:  # that created the default selector just now
            self.poll(timeout)
            return
        if not self.clock.real:
            timeout = 0
        ready = selector.select(timeout)
        self.sleeping = False
        for key, mask in ready:
            pair = key.data
            if pair is None:
                self._drain_wakeups()
                continue
            try:
                if mask & EVENT_READ and pair[0] is not None:
                    pair[0]()
                if mask & EVENT_WRITE and pair[1] is not None:
                    pair[1]()
            except Exception as e:  # one broken descriptor must not end the loop
                self.report(pair[0] or pair[1], e)

    def _drain_wakeups(self) -> None:
        assert self._wake_r is not None
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def report(self, callback: Any, error: Exception) -> None:
        """A callback raised. The owning Manager replaces this to fire an
        ``exception`` event; a bare Loop prints it."""
        traceback.print_exception(type(error), error, error.__traceback__)

    def merge_into(self, other: Loop) -> None:
        """Hand everything still on this loop to ``other``, then close.

        Used when a component that had its own loop (it was a root) joins
        another tree: one selector per root. Owners normally move their own
        descriptors and timers first; this catches the rest.
        """
        if other is self:
            return
        for fd, (reader, writer) in list(self._handlers.items()):
            if reader is not None:
                other.add_reader(fd, reader)
            if writer is not None:
                other.add_writer(fd, writer)
        self._handlers.clear()
        for handle in self._timers:
            if not handle.cancelled:  # the same handle moves, so its owner can still cancel it
                handle.loop = other
                heapq.heappush(other._timers, handle)
        self._timers.clear()
        other._calls.extend(self._calls)
        self._calls.clear()
        other._flushes.extend(self._flushes)
        self._flushes.clear()
        self.close()

    def close(self) -> None:
        if self._selector is not None:
            self._selector.close()
            self._selector = None
            self._epoll = None
            self._fine_fd = None
        for s in (self._wake_r, self._wake_w):
            if s is not None:
                s.close()
        self._wake_r = self._wake_w = None


def _epoll_of(selector: selectors.BaseSelector) -> Any:
    """The epoll object under a selectors.EpollSelector, else None."""
    epoll = getattr(selector, "_selector", None)
    return epoll if _EPOLL is not None and type(epoll) is _EPOLL else None


def _fileno(fd: int | Any) -> int:
    return fd if isinstance(fd, int) else fd.fileno()

