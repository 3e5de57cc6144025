"""Stream servers: TCPServer, TCP6Server, UNIXServer.

Each client connection is a :class:`~circuits.core.transport.Transport`
keyed by its socket object (the ``sock`` argument of the events). A client
whose write queue passes ``max_buffer`` is disconnected; everyone else
keeps full speed.
"""

from __future__ import annotations

import os
import socket
import ssl
import stat
from typing import Any

from ..core.components import BaseComponent
from ..core.handlers import handler
from ..core.manager import Manager
from ..core.transport import Transport, TransportOwner
from ..core.values import Value
from .addresses import parse_bind
from .events import closed, connect, disconnect, error, read, ready
from .tls import server_context

#: Connections accepted per readiness notification (fairness with other work).
ACCEPT_BATCH = 64


class Server(BaseComponent, TransportOwner):
    """A listening stream socket and its client connections (see module doc)."""

    channel: Any = "server"
    socket_family = socket.AF_INET
    socket_type = socket.SOCK_STREAM

    def __init__(self, bind: Any, secure: bool = False, backlog: int = 5000, bufsize: int = 4096,
                 channel: Any = channel, **kwargs: Any) -> None:
        super().__init__(channel=channel)
        self._bind = self.parse_bind_parameter(bind)
        self.secure = secure
        self.backlog = backlog
        self.bufsize = bufsize
        #: Per-connection write-queue limit; past it the client is dropped.
        self.max_buffer: int = kwargs.get("max_buffer", 4 << 20)
        self.socket_options: list[tuple[int, int, int]] = list(kwargs.get("socket_options", []))
        self._tls_settings = kwargs
        self._ssl_context = server_context(**kwargs) if secure else None
        self._clients: dict[Any, Transport] = {}
        self._announced = False
        self._sock: socket.socket | None = self._listen()
        self.loop.add_reader(self._sock, self._on_acceptable)

    # -- set-up ----------------------------------------------------------
    def parse_bind_parameter(self, bind_parameter: Any) -> Any:
        return parse_bind(bind_parameter, self.socket_family)

    def _listen(self) -> socket.socket:
        sock = socket.socket(self.socket_family, self.socket_type)
        try:
            if self.socket_family == socket.AF_UNIX:
                _remove_stale_socket(self._bind)
            else:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if self.socket_family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            for level, option, value in self.socket_options:
                sock.setsockopt(level, option, value)
            sock.bind(self._bind)
            sock.listen(self.backlog)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock

    def _root_changed(self, old: Manager, new: Manager) -> None:
        if self._sock is not None:
            old.loop.discard(self._sock)
            new.loop.add_reader(self._sock, self._on_acceptable)
        for transport in self._clients.values():
            transport.move_to(new.loop)

    @handler("registered", "started", channel="*")
    def _on_registered_or_started(self, component: Any, manager: Any = None) -> None:
        # `ready` once the server is part of the running tree.
        if not self._announced and self._sock is not None and (component is self or component is self.root):
            self._announced = True
            self.fire(ready(self, (self.host, self.port) if self.port is not None else self.host))

    # -- properties ------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._sock is not None

    @property
    def host(self) -> Any:
        if self._sock is None:
            return None
        name = self._sock.getsockname()
        return name[0] if isinstance(name, tuple) else name

    @property
    def port(self) -> int | None:
        if self._sock is None:
            return None
        name = self._sock.getsockname()
        return name[1] if isinstance(name, tuple) else None

    @property
    def clients(self) -> list[Any]:
        return list(self._clients)

    # -- accepting ---------------------------------------------------------
    def _on_acceptable(self) -> None:
        for _ in range(ACCEPT_BATCH):
            if self._sock is None:
                return
            try:
                sock, address = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # EMFILE etc.: report, keep listening
                self.fire(error(self._sock, e))
                return
            sock.setblocking(False)
            if self.socket_family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._ssl_context is not None:
                try:
                    tls = self._ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                except (OSError, ssl.SSLError) as e:
                    sock.close()
                    self.fire(error(sock, e))
                    continue
                self._clients[tls] = Transport(self.loop, tls, self, bufsize=self.bufsize,
                                               max_buffer=self.max_buffer, handshake=True, tag=address)
            else:
                self._clients[sock] = Transport(self.loop, sock, self, bufsize=self.bufsize,
                                                max_buffer=self.max_buffer, tag=address)
                self._announce(sock, address)

    def _announce(self, sock: Any, address: Any) -> None:
        if isinstance(address, tuple):
            self.fire(connect(sock, address[0], address[1]))
        else:
            self.fire(connect(sock))

    # -- transport callbacks --------------------------------------------
    def transport_ready(self, transport: Transport) -> None:
        self._announce(transport.fileobj, transport.tag)

    def transport_data(self, transport: Transport, data: bytes) -> None:
        # notify: a handler returning data gets it written back (echo servers).
        self.fire(read(transport.fileobj, data)).notify = True

    def transport_error(self, transport: Transport, err: BaseException) -> None:
        self.fire(error(transport.fileobj, err))

    def transport_closed(self, transport: Transport, reason: str | None) -> None:
        if self._clients.pop(transport.fileobj, None) is not None:
            self.fire(disconnect(transport.fileobj))

    @handler("read_value_changed")
    def _on_read_value_changed(self, value: Value) -> None:
        data = value.getValue()
        if isinstance(data, (bytes, bytearray, str)):
            self.write(value.event.args[0], data)

    # -- requests from the application -----------------------------------
    @handler("write")
    def write(self, sock: Any, data: bytes | str) -> None:
        transport = self._clients.get(sock)
        if transport is not None:
            transport.write(data.encode("utf-8") if isinstance(data, str) else data)

    @handler("close")
    def close(self, sock: Any = None) -> None:
        """Close one client (after its queue drains) or, with no sock, everything."""
        if sock is not None:
            transport = self._clients.get(sock)
            if transport is not None:
                transport.close()
            return
        for transport in list(self._clients.values()):
            transport.close()
        if self._sock is not None:
            self.loop.discard(self._sock)
            self._sock.close()
            if self.socket_family == socket.AF_UNIX and isinstance(self._bind, str):
                _remove_stale_socket(self._bind)
            self._sock = None
            self.fire(closed())

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self.close()

    def buffered(self, sock: Any) -> int:
        """Bytes queued for ``sock`` (0 if unknown)."""
        transport = self._clients.get(sock)
        return transport.buffered if transport is not None else 0

    def pause_reading(self, sock: Any) -> None:
        transport = self._clients.get(sock)
        if transport is not None:
            transport.pause_reading()

    def resume_reading(self, sock: Any) -> None:
        transport = self._clients.get(sock)
        if transport is not None:
            transport.resume_reading()

    def transport_for(self, sock: Any) -> Transport | None:
        return self._clients.get(sock)

    @handler("starttls")
    def starttls(self, sock: Any) -> None:
        transport = self._clients.get(sock)
        if transport is None:
            raise ValueError(f"starttls: {sock!r} is not a client of this server")
        if self._ssl_context is None:
            self._ssl_context = server_context(**self._tls_settings)
        del self._clients[sock]
        transport.start_tls(self._ssl_context, server_side=True)
        self._clients[transport.fileobj] = transport


class TCPServer(Server):
    socket_family = socket.AF_INET


class TCP6Server(Server):
    socket_family = socket.AF_INET6


class UNIXServer(Server):
    socket_family = socket.AF_UNIX


def _remove_stale_socket(path: str) -> None:
    """A socket file left by a dead process would make bind() fail."""
    try:
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)
    except FileNotFoundError:
        pass
