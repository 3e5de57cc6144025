"""Events of circuits.node."""

from __future__ import annotations

from typing import Any

from ..core.events import Event


class remote(Event):
    """Send ``event`` to the node named ``node`` and take its value back.

    ``v = yield self.call(remote(hello("x"), "peer"))`` gives in ``v.value``
    what the peer's handlers returned (``v.errors`` if one raised). On the
    peer the event is fired on ``channel`` (default ``"*"``: every handler
    of that name). Any :class:`~circuits.node.node.Node` in the tree that
    knows a peer of that name handles it, whatever channel it is fired on.
    """

    def __init__(self, event: Event, node: str, channel: str | None = None) -> None:
        super().__init__(event, node, channel)


class packet(Event):
    """The 2.x name of a raw node packet. Not fired: packets are handled inside Server and Client."""


class connected_to(Event):
    """A node client connected to its peer: (name, host, port)."""


class disconnected_from(Event):
    """A node client lost its peer: (name, host, port); it retries if told to."""

    def __init__(self, name: str, host: Any, port: Any) -> None:
        super().__init__(name, host, port)


# 2.x names.
Remote = remote
Packet = packet
