"""Helpers shared by the core tests: record events, run an app in a thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from circuits import BaseComponent, Manager, handler

#: Generous bound for anything a test waits on; a healthy run takes milliseconds.
TIMEOUT = 5.0


class Recorder(BaseComponent):
    """Records every event it sees (on every channel) and lets another thread wait for one."""

    def __init__(self, channel: Any = "recorder") -> None:
        super().__init__(channel=channel)
        self.events: list[Any] = []
        self._cond = threading.Condition()

    @handler(channel="*", priority=1000)
    def _record(self, event: Any, *args: Any, **kwargs: Any) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def names(self) -> list[str]:
        with self._cond:
            return [e.name for e in self.events]

    def count(self, name: str) -> int:
        with self._cond:
            return sum(1 for e in self.events if e.name == name)

    def wait_for(self, name: str, count: int = 1, timeout: float = TIMEOUT) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: sum(1 for e in self.events if e.name == name) >= count,
                                       timeout)

    def first(self, name: str) -> Any:
        with self._cond:
            return next(e for e in self.events if e.name == name)


@contextmanager
def running(app: Manager) -> Iterator[Recorder]:
    """Run ``app`` in a thread until the block ends; yields a Recorder registered on it."""
    recorder = Recorder().register(app)
    app.start()
    try:
        assert recorder.wait_for("started"), "the app did not start"
        yield recorder
    finally:
        app.stop()
        app.join(TIMEOUT)
        assert app._circuits_thread is not None and not app._circuits_thread.is_alive(), "the app did not stop"
        app.loop.close()  # its selector and wake-up sockets


def idle(seconds: float) -> None:
    """Let real time pass while a loop is expected to stay blocked.

    This measures idleness (passes must not grow meanwhile); it is never used
    to wait for something to happen.
    """
    threading.Event().wait(seconds)


def wait_until_blocked(app: Manager, timeout: float = TIMEOUT) -> None:
    """Wait until the app's loop is blocked in its poller with nothing queued.

    There is no event for "the loop went to sleep", so this checks the flag the
    loop sets right before it blocks, a few milliseconds apart, up to ``timeout``.
    """
    pause = threading.Event()
    for _ in range(int(timeout / 0.005)):
        if app.loop.sleeping and not app.root._circuits_queue:
            return
        pause.wait(0.005)
    raise AssertionError("the loop never blocked")


def settle(app: Manager, test: Callable[[], bool], passes: int = 50) -> None:
    """Run non-blocking loop passes until ``test()`` holds (at most ``passes``)."""
    for _ in range(passes):
        if test():
            return
        app.tick(0)
    raise AssertionError("condition never became true")
