"""Node with the circuits 3.x keywords: port/server_ip, add() returning a channel, reconnect_delay."""

from __future__ import annotations

import threading
from typing import Any

from circuits import BaseComponent, Event, Manager, handler
from circuits.node import Node, remote

TIMEOUT = 10.0


class Watch(BaseComponent):
    """Sets a flag per (event name, channel) it sees."""

    def init(self) -> None:
        self.seen: dict[tuple[str, Any], threading.Event] = {}
        self.lock = threading.Lock()

    @handler(channel="*", priority=100)
    def _any(self, event: Event, *args: Any, **kwargs: Any) -> None:
        for channel in event.channels:
            self.flag(event.name, channel).set()

    def flag(self, name: str, channel: Any) -> threading.Event:
        with self.lock:
            return self.seen.setdefault((name, channel), threading.Event())


class Greeter(BaseComponent):
    channel = "greeter"

    @handler("hello")
    def _hello(self, name: str) -> str:
        return f"hi {name}"


def test_port_and_server_ip_bind_the_server_and_add_returns_the_socket_channel():
    app = Manager()
    watch = Watch().register(app)
    server = Node(port=0, server_ip="127.0.0.1", channel="srv").register(app)
    Greeter().register(app)
    assert server.server is not None and server.server.host == "127.0.0.1"
    client = Node().register(app)
    results: list[Any] = []
    done = threading.Event()

    class Caller(BaseComponent):
        channel = "caller"

        @handler("go")
        def _go(self) -> Any:
            value = yield self.call(remote(Event.create("hello", "bob"), "peer", "greeter"))
            results.append(value.value)
            done.set()

    Caller().register(app)
    app.start()
    try:
        chan = client.add("peer", "127.0.0.1", server.port, connect_timeout=2)
        assert isinstance(chan, str) and client.peers["peer"].link_channel == chan
        assert watch.flag("connected", chan).wait(TIMEOUT)  # 3.x code waits for this
        app.fire(Event.create("go"), "caller")
        assert done.wait(TIMEOUT)
        assert results == ["hi bob"]
    finally:
        app.stop()
        app.join(TIMEOUT)


def test_reconnect_delay_is_a_fixed_delay_between_attempts():
    app = Manager()
    node = Node().register(app)
    node.add("nobody", "127.0.0.1", 9, reconnect_delay=0.25, connect_timeout=1)
    peer = node.peers["nobody"]
    assert peer.backoff == (0.25, 0.25) and peer.connect_timeout == 1


def test_close_on_the_node_channel_closes_its_server_and_clients_reconnect():
    from circuits.net.events import close

    app = Manager()
    watch = Watch().register(app)
    server = Node(port=0, server_ip="127.0.0.1", channel="srv").register(app)
    client = Node().register(app)
    app.start()
    try:
        assert watch.flag("ready", "srv").wait(TIMEOUT)  # the listener's ready, on the Node's channel
        port = server.port
        chan = client.add("peer", "127.0.0.1", port, reconnect_delay=0.2, connect_timeout=1)
        assert watch.flag("connected", chan).wait(TIMEOUT)
        watch.flag("connect", chan).clear()
        app.fire(close(), "srv")
        assert watch.flag("closed", "srv").wait(TIMEOUT)
        assert watch.flag("unreachable", chan).wait(TIMEOUT)  # it kept trying: not closed itself
        watch.flag("connected", chan).clear()
        Node(port=port, server_ip="127.0.0.1", channel="srv2").register(app)
        assert watch.flag("connected", chan).wait(TIMEOUT)
        # close on the channel add() returned closes that client only.
        app.fire(close(), chan)
        assert watch.flag("disconnected", chan).wait(TIMEOUT)
    finally:
        app.stop()
        app.join(TIMEOUT)
    assert client.peers["peer"]._closed
