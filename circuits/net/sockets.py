"""Socket components (the documented ``circuits.net.sockets`` module)."""

# gethostname is a name of this module in circuits 3.x (code and tests
# patch it here); the components here never call it.
from socket import gethostname

from .addresses import BUFSIZE, parse_bind, split_host_port
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
    "BUFSIZE", "Broadcast", "Client", "Close", "Closed", "Connect", "Connected", "Disconnect", "Disconnected",
    "Error", "Pipe", "Read", "Ready", "Server", "SocketError", "TCP6Client", "TCP6Server", "TCPClient",
    "TCPServer", "UDP6Client", "UDP6Server", "UDPClient", "UDPServer", "UNIXClient", "UNIXServer",
    "Unreachable", "Write", "broadcast", "close", "closed", "connect", "connected", "disconnect",
    "disconnected", "error", "gethostname", "parse_bind", "read", "ready", "split_host_port", "starttls",
    "unreachable", "write",
]
