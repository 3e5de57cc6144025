"""Two real processes on loopback: this one calls, a subprocess node serves.

The peer is tests/node/node_peer.py; it prints its port when it listens,
which is what these tests wait for (never a guessed sleep).
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from circuits import Component, Event, Manager
from circuits.node import Node, RemoteError, remote

ROOT = Path(__file__).resolve().parents[2]
PEER = Path(__file__).with_name("node_peer.py")
TIMEOUT = 10.0


class Peer:
    """The node_peer.py subprocess."""

    def __init__(self, port: int = 0) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, str(PEER), str(port)], stdout=subprocess.PIPE,
                                     text=True, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the peer prints its port once it listens
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(TIMEOUT)


class go(Event):
    """Ask the Caller to make one remote call: (event, node)."""


class Caller(Component):
    channel = "app"

    def init(self, results: queue.Queue[Any]) -> None:
        self.results = results

    def go(self, request: Event, node: str = "peer", channel: str | None = None) -> Any:
        value = yield self.call(remote(request, node, channel))
        self.results.put((value.value, value.errors))


class Client:
    """This process's side: a Node that knows the peer, running in a thread."""

    def __init__(self, port: int, **kwargs: Any) -> None:
        self.results: queue.Queue[Any] = queue.Queue()
        self.app = Manager()
        self.node = Node().register(self.app)
        self.node.add("peer", "127.0.0.1", port, **kwargs)
        Caller(self.results).register(self.app)
        self.app.start()

    def call(self, event: Event) -> tuple[Any, bool]:
        self.app.fire(go(event), "app")
        return self.results.get(timeout=TIMEOUT)

    def stop(self) -> None:
        self.app.stop()
        self.app.join(TIMEOUT)


@pytest.fixture
def peer() -> Iterator[Peer]:
    p = Peer()
    yield p
    p.kill()


@pytest.fixture
def client(peer: Peer) -> Iterator[Client]:
    c = Client(peer.port)
    yield c
    c.stop()


def test_remote_call_returns_the_peers_value(peer, client):
    value, errors = client.call(Event.create("hello", "bob"))
    assert value == f"Hello bob from pid {peer.proc.pid}" and not errors
    assert client.call(Event.create("add", 2, 40)) == (42, False)


def test_the_remote_channel_can_be_chosen(client):
    client.app.fire(go(Event.create("add", 1, 2), "peer", "greeter"), "app")
    assert client.results.get(timeout=TIMEOUT) == (3, False)
    client.app.fire(go(Event.create("add", 1, 2), "peer", "elsewhere"), "app")
    assert client.results.get(timeout=TIMEOUT) == (None, False)  # no handler on that channel


def test_arguments_and_results_keep_their_types(client):
    value, errors = client.call(Event.create("echo", (1, 2), b"\x00\xff", {"k": [None]}, flag=True))
    assert value == [[(1, 2), b"\x00\xff", {"k": [None]}], {"flag": True}] and not errors


def test_a_remote_error_comes_back_as_an_error(client):
    (etype, evalue, tb), errors = client.call(Event.create("fail"))
    assert errors and etype is RemoteError
    assert (evalue.type, evalue.message) == ("ValueError", "remote failure")
    assert any("node_peer.py" in line for line in tb)


@pytest.mark.parametrize("name", ["stopped", "write", "signal"])
def test_dangerous_events_are_refused_by_the_peer(peer, client, name):
    (etype, evalue, _), errors = client.call(Event.create(name, 1))
    assert errors and evalue.type == "PermissionError"
    assert client.call(Event.create("add", 1, 1)) == (2, False)  # the peer is still there
    assert peer.proc.poll() is None


def test_an_unsafe_argument_is_refused_before_sending(client):
    (etype, evalue, _), errors = client.call(Event.create("echo", object()))
    assert errors and isinstance(evalue, TypeError)


def test_an_unknown_node_name_is_left_alone(client):
    assert client.call(Event.create("add", 1, 1)) == (2, False)
    client.app.fire(go(Event.create("add", 1, 1), "nobody"), "app")
    assert client.results.get(timeout=TIMEOUT) == (None, False)


def test_the_client_reconnects_when_the_peer_comes_back():
    first = Peer()
    client = Client(first.port, backoff=(0.02, 0.2))
    second = None
    try:
        assert client.call(Event.create("getpid")) == (first.proc.pid, False)
        first.kill()
        # Asked while the peer is down: waits for the reconnect (or, if the
        # client had not noticed yet, fails as "connection lost").
        client.app.fire(go(Event.create("getpid")), "app")
        second = Peer(first.port)
        value, errors = client.results.get(timeout=TIMEOUT)
        if errors:
            assert isinstance(value[1], ConnectionError)
            value, errors = client.call(Event.create("getpid"))
        assert (value, errors) == (second.proc.pid, False)
        stats = client.node.statistics()["peers"]["peer"]
        assert stats["state"] == "connected" and stats["reconnects"] >= 1
    finally:
        client.stop()
        if second is not None:
            second.kill()
