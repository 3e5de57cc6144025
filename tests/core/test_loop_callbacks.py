"""A raising I/O, timer or thread callback is reported and the loop goes on."""

from __future__ import annotations

import socket

from circuits import Component, Manager


class Errors(Component):
    def init(self) -> None:
        self.seen: list[str] = []

    def exception(self, etype, evalue, traceback, handler=None, fevent=None) -> None:  # noqa: ANN001
        self.seen.append(str(evalue))


def _run_until(app: Manager, test, passes: int = 200) -> None:  # noqa: ANN001
    for _ in range(passes):
        if test():
            return
        app.tick(0.05)
    raise AssertionError("condition never became true")


def test_broken_reader_timer_and_call_are_reported_not_fatal() -> None:
    app = Manager()
    errors = Errors().register(app)
    a, b = socket.socketpair()
    try:
        def broken_reader() -> None:
            a.recv(10)
            raise RuntimeError("reader broke")

        app.loop.add_reader(a, broken_reader)
        app.loop.call_later(0, lambda: 1 / 0)
        app.loop.call_soon_threadsafe(lambda: [][1])
        b.send(b"x")
        _run_until(app, lambda: len(errors.seen) >= 3)
        assert sorted(errors.seen) == ["division by zero", "list index out of range", "reader broke"]
        # The loop still works after the failures.
        ran: list[int] = []
        app.loop.call_later(0, lambda: ran.append(1))
        _run_until(app, lambda: ran == [1])
    finally:
        app.loop.discard(a)
        a.close()
        b.close()
        app.loop.close()
