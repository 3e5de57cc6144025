"""Datagram sockets: UDPServer (also UDPClient), UDP6Server, broadcast."""

from __future__ import annotations

import socket
from collections import deque
from typing import Any

from ..core.components import BaseComponent
from ..core.handlers import handler
from ..core.loop import Loop
from ..core.manager import Manager
from .addresses import parse_bind, split_host_port
from .events import closed, disconnect, error, read, ready

#: Datagrams read per readiness notification.
READ_BATCH = 64


class UDPServer(BaseComponent):
    """A bound datagram socket: ``read(address, data)`` in, ``write(address, data)`` out.

    Sends never block: a datagram the kernel cannot take now waits in a
    bounded queue (``max_queue`` datagrams; the oldest is dropped and
    counted past it). ``broadcast(data, port)`` sends to
    ``broadcast_address`` ("<broadcast>", i.e. 255.255.255.255, unless
    given, e.g. "127.255.255.255" to stay on the loopback network).
    ``close()`` fires ``disconnect(sock)`` then ``closed()``, as 3.x does.
    """

    channel: Any = "server"
    socket_family = socket.AF_INET

    def __init__(self, bind: Any = None, secure: bool = False, backlog: int = 5000, bufsize: int = 65536,
                 channel: Any = channel, **kwargs: Any) -> None:
        super().__init__(channel=channel)
        self._bind = parse_bind(bind, self.socket_family)
        self.bufsize = max(bufsize, 65536)  # a datagram is read whole or truncated
        self.max_queue: int = kwargs.get("max_queue", 1024)
        self.broadcast_address: str = kwargs.get("broadcast_address", "<broadcast>")
        self.dropped = 0
        self._datagrams: deque[tuple[Any, bytes]] = deque()
        self._sock: socket.socket | None = socket.socket(self.socket_family, socket.SOCK_DGRAM)
        sock = self._sock
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            for level, option, value in kwargs.get("socket_options", []):
                sock.setsockopt(level, option, value)
            sock.bind(self._bind)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self._announced = False
        #: The loop the socket is registered on (set when it joins a tree or starts).
        self._watched_on: Loop | None = None

    @property
    def host(self) -> Any:
        return self._sock.getsockname()[0] if self._sock else None

    @property
    def port(self) -> Any:
        return self._sock.getsockname()[1] if self._sock else None

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def _watch(self) -> None:
        """Register the socket on the loop of the current tree."""
        loop = self.loop
        if self._sock is None or self._watched_on is loop:
            return
        if self._watched_on is not None:
            self._watched_on.discard(self._sock)
        self._watched_on = loop
        loop.add_reader(self._sock, self._on_readable)
        if self._datagrams:
            loop.add_writer(self._sock, self._on_writable)

    def _root_changed(self, old: Manager, new: Manager) -> None:
        if self._watched_on is not None:
            self._watch()

    @handler("registered", "started", channel="*")
    def _on_registered_or_started(self, component: Any, manager: Any = None) -> None:
        if component is self or component is self.root:
            self._watch()
        if not self._announced and self._sock is not None and (component is self or component is self.root):
            self._announced = True
            self.fire(ready(self, (self.host, self.port)))

    def _on_readable(self) -> None:
        sock = self._sock
        for _ in range(READ_BATCH):
            if sock is None:
                return
            try:
                data, address = sock.recvfrom(self.bufsize)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # e.g. ICMP port unreachable reported on a later call
                self.fire(error(None, e))
                return
            self.fire(read(address[:2], data))

    @handler("write")
    def write(self, address: Any, data: bytes | str) -> None:
        if self._sock is None:
            return
        if isinstance(address, str):
            address = split_host_port(address)
        payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if self._datagrams:
            self._enqueue(address, payload)
            return
        try:
            self._sock.sendto(payload, address)
        except (BlockingIOError, InterruptedError):
            self._enqueue(address, payload)
        except OSError as e:
            self.fire(error(address, e))

    def _enqueue(self, address: Any, payload: bytes) -> None:
        if len(self._datagrams) >= self.max_queue:
            self._datagrams.popleft()
            self.dropped += 1
        self._datagrams.append((address, payload))
        if self._sock is not None and self._watched_on is not None:
            self._watched_on.add_writer(self._sock, self._on_writable)

    def _on_writable(self) -> None:
        sock = self._sock
        while self._datagrams and sock is not None:
            address, payload = self._datagrams[0]
            try:
                sock.sendto(payload, address)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                self.fire(error(address, e))
            self._datagrams.popleft()
        if sock is not None and self._watched_on is not None:
            self._watched_on.remove_writer(sock)

    @handler("broadcast")
    def broadcast(self, data: bytes | str, port: int) -> None:
        self.write((self.broadcast_address, port), data)

    @handler("close")
    def close(self) -> None:
        if self._sock is not None:
            if self._watched_on is not None:
                self._watched_on.discard(self._sock)
                self._watched_on = None
            sock, self._sock = self._sock, None
            sock.close()
            self._datagrams.clear()
            # As in 3.x: the socket "disconnects" (args: the socket), then closed().
            self.fire(disconnect(sock))
            self.fire(closed())

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self.close()


UDPClient = UDPServer


class UDP6Server(UDPServer):
    socket_family = socket.AF_INET6


UDP6Client = UDP6Server
