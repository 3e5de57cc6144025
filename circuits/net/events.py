"""Networking events (the 3.x ``circuits.net.events`` names and arguments)."""

from __future__ import annotations

from typing import Any

from ..core.events import Event


class connect(Event):
    """Server: a client connected (sock, host, port). Client: connect to (host, port, secure=...)."""


class disconnect(Event):
    """Server: a client went away (sock). Client: disconnect ()."""


class connected(Event):
    """A client connected to (host, port)."""

    def __init__(self, host: Any, port: Any) -> None:
        super().__init__(host, port)


class disconnected(Event):
    """A client's connection is gone."""


class read(Event):
    """Data arrived. Client: (data). Server: (sock, data). UDP: (address, data)."""


class write(Event):
    """Send data. Client: (data). Server: (sock, data). UDP: (address, data)."""


class error(Event):
    """A connection failed. Client: (error). Server: (sock, error)."""


class unreachable(Event):
    """A client could not reach (host, port); reason says why."""

    def __init__(self, host: Any, port: Any, reason: Any = None) -> None:
        super().__init__(host, port, reason)


class broadcast(Event):
    """UDP: send (data, port) to the broadcast address."""


class close(Event):
    """Close. Client: (). Server: (sock) or () for the listening socket."""


class closed(Event):
    """A server closed its listening socket (or a client its connection)."""


class ready(Event):
    """A server listens (component, bind); a client is set up (component)."""

    def __init__(self, component: Any, bind: Any = None) -> None:
        super().__init__(component, bind)


class starttls(Event):
    """Upgrade a server connection (sock) to TLS."""

    def __init__(self, sock: Any) -> None:
        super().__init__(sock)


# 2.x names (``from circuits.net.sockets import Write`` in the manual's HowTo).
Connect = connect
Disconnect = disconnect
Connected = connected
Disconnected = disconnected
Read = read
Write = write
Error = SocketError = error
Unreachable = unreachable
Broadcast = broadcast
Close = close
Closed = closed
Ready = ready
StartTLS = starttls
