"""A node server pushing events to the clients connected to it (3.x send/send_to/send_all)."""

from __future__ import annotations

import threading
from typing import Any

from circuits import BaseComponent, Event, Manager, handler
from circuits.node import Node

from .test_node_3x_spelling import TIMEOUT, Watch


class Listener(BaseComponent):
    """Counts the ``news`` events fired here and answers with its name."""

    channel = "listener"

    def init(self, name: str) -> None:
        self.name_ = name
        self.got: list[Any] = []
        self.arrived = threading.Event()

    @handler("news")
    def _news(self, text: str) -> str:
        self.got.append(text)
        self.arrived.set()
        return f"{self.name_} read {text}"


def _setup(n: int, allow: Any = None) -> tuple[Manager, Node, list[Listener], Watch]:
    app = Manager()
    watch = Watch().register(app)
    server = Node(port=0, server_ip="127.0.0.1", channel="srv").register(app)
    listeners = [Listener("c").register(app)]
    app.start()
    for i in range(n):
        client = Node(channel=f"cl{i}").register(app)
        chan = client.add(f"c{i}", "127.0.0.1", server.port, connect_timeout=2)
        if allow is not None:
            client.peers[f"c{i}"].allow = frozenset(allow)
        assert watch.flag("connected", chan).wait(TIMEOUT)
    # The server side has seen every connection once get_socks() lists them all.
    assert _wait(lambda: len(server.server.get_socks()) == n)
    return app, server, listeners, watch


def test_send_all_and_send_to_fire_on_every_client() -> None:
    # All clients live in this one process: each one fires what it is sent
    # here, so the one listener counts one delivery per client.
    app, server, (listener, *_), _ = _setup(3)
    try:
        server.server.send_all(Event.create("news", "a"))  # from another thread
        assert _wait(lambda: len(listener.got) == 3)
        server.server.send_to(Event.create("news", "b"), server.server.get_socks()[:2])
        assert _wait(lambda: len(listener.got) == 5)
        assert listener.got == ["a"] * 3 + ["b"] * 2
    finally:
        app.stop()
        app.join(TIMEOUT)


def _wait(test: Any) -> bool:
    for _ in range(int(TIMEOUT / 0.01)):
        if test():
            return True
        threading.Event().wait(0.01)
    return False


def test_send_gives_the_client_s_value_to_the_task_that_pushed() -> None:
    app, server, listeners, _ = _setup(1)
    results: list[Any] = []
    done = threading.Event()

    class Pusher(BaseComponent):
        channel = "pusher"

        @handler("go")
        def _go(self) -> Any:
            sock = server.server.get_socks()[0]
            results.append((yield server.server.send(Event.create("news", "x"), sock)))
            results.append((yield server.server.send(Event.create("close"), sock)))
            done.set()

    Pusher().register(app)
    try:
        app.fire(Event.create("go"), "pusher")
        assert done.wait(TIMEOUT)
        assert results[0] == ("c read x", False)
        # Life-cycle events are refused by the client, whatever the server says.
        error, errors = results[1]
        assert errors and error[1].type == "PermissionError"
        assert app.running
    finally:
        app.stop()
        app.join(TIMEOUT)


def test_a_client_s_allow_list_refuses_other_names() -> None:
    app, server, listeners, _ = _setup(1, allow={"other"})
    results: list[Any] = []
    done = threading.Event()

    class Pusher(BaseComponent):
        channel = "pusher"

        @handler("go")
        def _go(self) -> Any:
            sock = server.server.get_socks()[0]
            results.append((yield server.server.send(Event.create("news", "x"), sock)))
            done.set()

    Pusher().register(app)
    try:
        app.fire(Event.create("go"), "pusher")
        assert done.wait(TIMEOUT)
        (error, errors), = results
        assert errors and error[1].type == "PermissionError" and listeners[0].got == []
    finally:
        app.stop()
        app.join(TIMEOUT)
