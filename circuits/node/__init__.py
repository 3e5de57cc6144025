"""circuits.node: fire events in other processes or on other hosts, over TCP.

See :mod:`circuits.node.node` for the picture and :mod:`circuits.node.utils`
for the (JSON, never pickle) wire format.
"""

from .client import Client
from .events import Packet, Remote, connected_to, disconnected_from, packet, remote
from .node import Node
from .server import DENIED_EVENTS, Server
from .utils import (
    PacketError,
    RemoteError,
    UnsafeValue,
    dump_event,
    dump_value,
    load_event,
    load_value,
)

__all__ = [
    "DENIED_EVENTS", "Client", "Node", "Packet", "PacketError", "Remote", "RemoteError", "Server",
    "UnsafeValue", "connected_to", "disconnected_from", "dump_event", "dump_value", "load_event",
    "load_value", "packet", "remote",
]
