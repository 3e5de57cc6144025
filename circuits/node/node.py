"""Node: this process's place in a network of circuits processes.

A Node may listen (``bind``) so peers can fire events here, and knows
peers by name (``add(name, host, port)``) so events can be sent there::

    node = Node(bind=("127.0.0.1", 8000)).register(app)   # serve
    node.add("peer", "10.0.0.2", 8000)                    # call
    ...
    v = yield self.call(remote(hello("x"), "peer"))       # in a handler
    v.value  # what the peer's hello handlers returned

Connections go one way: a node calls the peers it added, and serves the
peers that added it. For calls both ways, both nodes bind and add each
other.

circuits 3.x spelling: ``Node(port=8000, server_ip="127.0.0.1")`` binds
like ``bind=("127.0.0.1", 8000)`` (``server_ip`` defaults to all
interfaces), and ``add(..., reconnect_delay=1, connect_timeout=1)`` are
accepted. ``add`` returns, as in 3.x, the channel the connection's socket
events (``connect``, ``connected``, ``unreachable``...) come on; the
:class:`~circuits.node.client.Client` itself is ``node.peers[name]``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from .client import Client
from .server import Server

__all__ = ["Node"]


class Node(BaseComponent):
    """A node server (if ``bind`` is given) plus named node clients."""

    channel: Any = "node"

    def __init__(self, bind: Any = None, channel: Any = channel, *, port: int | None = None,
                 server_ip: str | None = None, **kwargs: Any) -> None:
        super().__init__(channel=channel)
        if bind is None and port is not None:  # the 3.x keywords (see module doc)
            bind = (server_ip or "0.0.0.0", port)
        self.server: Server | None = None
        if bind is not None:
            self.server = Server(bind, channel=channel, **kwargs).register(self)
        self.peers: dict[str, Client] = {}

    def add(self, name: str, host: str, port: int, **kwargs: Any) -> str:
        """Know the node server at (host, port) as ``name``; connects (and reconnects) to it.

        Returns the channel of the connection's socket events (see module doc).
        """
        if name in self.peers:
            raise ValueError(f"a peer named {name!r} is already known")
        client = Client(host, port, channel=self.channel, name=name, **kwargs).register(self)
        self.peers[name] = client
        return client.link_channel

    def remove(self, name: str) -> None:
        client = self.peers.pop(name)
        client.close()
        client.unregister()

    @handler("remote", channel="*")
    def _on_remote(self, event: Event, remote_event: Event, node: str,
                   channel: str | None = None) -> Generator[Any, Any, Any] | None:
        client = self.peers.get(node)
        if client is None:
            return None  # another Node in the tree may know it
        return self._forward(event, client, remote_event, (channel,) if channel else ("*",))

    @staticmethod
    def _forward(event: Event, client: Client, remote_event: Event,
                 channels: tuple[str, ...]) -> Generator[Any, Any, Any]:
        result, errors = yield client.send(remote_event, channels)
        if errors:
            event.value.errors = True
            if isinstance(result, BaseException):  # failed here (not sent, connection lost)
                result = (type(result), result, [])
        return result

    @property
    def port(self) -> int | None:
        """The port the node server listens on (None if it does not)."""
        return self.server.port if self.server is not None else None

    def statistics(self) -> dict[str, Any]:
        return {"server": self.server.statistics() if self.server else None,
                "peers": {name: c.statistics() for name, c in self.peers.items()}}
