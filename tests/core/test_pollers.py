"""Pollers: one selector per root, the default, Select/Poll/EPoll, and the 3.x reader API."""

from __future__ import annotations

import selectors
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from circuits import Component, Manager, handler
from circuits.core import BasePoller, EPoll, Poll, Poller, Select


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


class Source(Component):
    """Where a poller sends ``_read``/``_write`` for a descriptor."""

    channel = "source"

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[int] = []
        self.writes: list[int] = []

def watch(source: Source) -> None:
    """Record the source's ``_read``/``_write`` events (named explicitly: they start with "_")."""

    @handler("_read")
    def on_read(self: Any, fd: int) -> None:
        self.reads.append(fd)

    @handler("_write")
    def on_write(self: Any, fd: int) -> None:
        self.writes.append(fd)

    source.addHandler(on_read)
    source.addHandler(on_write)


def test_the_default_selector_is_the_platforms_best() -> None:
    app = Manager()
    assert isinstance(app.loop.selector, selectors.DefaultSelector)
    if hasattr(selectors, "EpollSelector"):
        assert Poller is EPoll
        assert isinstance(app.loop.selector, selectors.EpollSelector)


@pytest.mark.parametrize(("poller", "selector", "channel"), [
    (Select, selectors.SelectSelector, "select"),
    (Poll, getattr(selectors, "PollSelector", selectors.SelectSelector), "poll"),
    (EPoll, getattr(selectors, "EpollSelector", selectors.DefaultSelector), "epoll"),
])
def test_registering_a_poller_chooses_the_roots_selector(poller: type[BasePoller], selector: type,
                                                         channel: str) -> None:
    app = Manager()
    first = app.loop.selector  # already in use: registrations must move over
    p = poller().register(app)
    assert p.channel == channel
    assert isinstance(app.loop.selector, selector)
    assert app.loop.selector is not first or isinstance(first, selector)
    assert p.loop is app.loop


def test_one_selector_per_root() -> None:
    app = Manager()
    a = Component().register(app)
    b = Component().register(a)
    Select().register(b)
    assert a.loop is app.loop and b.loop is app.loop
    assert isinstance(app.loop.selector, selectors.SelectSelector)
    other = Manager()
    assert other.loop is not app.loop


def test_base_poller_defaults() -> None:
    p = BasePoller()
    assert p.timeout == 0.01
    assert p.channel == "*"
    assert Select(channel="mine").channel == "mine"


@pytest.mark.parametrize("poller", [Select, Poll, EPoll])
def test_add_reader_fires_read_on_the_sources_channel(poller: type[BasePoller],
                                                      pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    app = Manager()
    p = poller().register(app)
    source = Source().register(app)
    watch(source)
    p.addReader(source, a)
    assert p.isReading(a) and not p.isWriting(a)
    assert p.getTarget(a) is source
    app.tick(0)
    app.flush()
    assert source.reads == []  # nothing to read yet
    b.send(b"x")
    app.tick(0.5)
    app.flush()
    assert source.reads == [a.fileno()]
    a.recv(10)
    p.removeReader(a)
    assert not p.isReading(a)
    b.send(b"y")
    app.tick(0)
    app.flush()
    assert source.reads == [a.fileno()]


def test_add_writer_fires_write(pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    app = Manager()
    p = Poller().register(app)
    source = Source().register(app)
    watch(source)
    p.addWriter(source, a.fileno())
    assert p.isWriting(a.fileno())
    app.tick(0)
    app.flush()
    assert source.writes == [a.fileno()]
    p.removeWriter(a)
    app.tick(0)
    app.flush()
    assert source.writes == [a.fileno()]


def test_discard_forgets_a_descriptor(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    app = Manager()
    p = Poller().register(app)
    source = Source().register(app)
    watch(source)
    p.addReader(source, a)
    p.addWriter(source, a)
    p.discard(a)
    assert not p.isReading(a) and not p.isWriting(a) and p.getTarget(a) is None
    assert app.loop.watched == 0
    b.send(b"x")
    app.tick(0)
    app.flush()
    assert source.reads == [] and source.writes == []


def test_switching_selectors_keeps_registrations(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    app = Manager()
    p = EPoll().register(app)
    source = Source().register(app)
    watch(source)
    p.addReader(source, a)
    Select().register(app)  # the last poller registered decides
    assert isinstance(app.loop.selector, selectors.SelectSelector)
    b.send(b"x")
    app.tick(0.5)
    app.flush()
    assert source.reads == [a.fileno()]


def test_a_poller_brings_its_descriptors_to_a_new_root(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    p = Poller()
    source = Source()
    watch(source)
    p.addReader(source, a)  # on the poller's own loop
    own_loop = p.loop
    assert own_loop.is_reading(a)
    app = Manager()
    source.register(app)
    p.register(app)
    assert app.loop.is_reading(a)
    assert not own_loop.is_reading(a)  # moved, not copied
    b.send(b"x")
    app.tick(0.5)
    app.flush()
    assert source.reads == [a.fileno()]


def test_loop_reader_callbacks_run_during_tick(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    app = Manager()
    got: list[bytes] = []
    app.loop.add_reader(a, lambda: got.append(a.recv(100)))
    b.send(b"hello")
    app.tick(1)
    assert got == [b"hello"]
    app.loop.remove_reader(a)
    assert app.loop.watched == 0
