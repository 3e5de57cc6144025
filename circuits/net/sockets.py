"""Socket components (the documented ``circuits.net.sockets`` module)."""

from .addresses import parse_bind, split_host_port
from .client import Client, TCP6Client, TCPClient, UNIXClient
from .events import (
    Broadcast,
    Close,
    Closed,
    Connect,
    Connected,
    Disconnect,
    Disconnected,
    Error,
    Read,
    Ready,
    SocketError,
    Unreachable,
    Write,
    broadcast,
    close,
    closed,
    connect,
    connected,
    disconnect,
    disconnected,
    error,
    read,
    ready,
    starttls,
    unreachable,
    write,
)
from .pipe import Pipe
from .server import Server, TCP6Server, TCPServer, UNIXServer
from .udp import UDP6Client, UDP6Server, UDPClient, UDPServer

__all__ = [
    "Broadcast", "Client", "Close", "Closed", "Connect", "Connected", "Disconnect", "Disconnected",
    "Error", "Pipe", "Read", "Ready", "Server", "SocketError", "TCP6Client", "TCP6Server", "TCPClient",
    "TCPServer", "UDP6Client", "UDP6Server", "UDPClient", "UDPServer", "UNIXClient", "UNIXServer",
    "Unreachable", "Write", "broadcast", "close", "closed", "connect", "connected", "disconnect",
    "disconnected", "error", "parse_bind", "read", "ready", "split_host_port", "starttls",
    "unreachable", "write",
]
