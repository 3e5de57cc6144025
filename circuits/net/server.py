"""Stream servers: TCPServer, TCP6Server, UNIXServer.

Each client connection is a :class:`~circuits.core.transport.Transport`
keyed by its socket object (the ``sock`` argument of the events; it stays
the key for the whole connection, also after ``starttls``). A client whose
write queue passes ``max_buffer`` is disconnected; everyone else keeps full
speed. ``connect`` and ``disconnect`` come in pairs, once per connection.
"""

from __future__ import annotations

import errno
import os
import socket
import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.components import BaseComponent
from ..core.handlers import handler
from ..core.loop import Loop, TimerHandle
from ..core.manager import Manager
from ..core.transport import Transport
from ..core.transport_owner import TransportOwner
from ..core.values import Value
from .addresses import BUFSIZE, family_of, forget_stale, parse_bind
from .events import close as close_event
from .events import closed, connect, disconnect, error, read, ready
from .tls import server_context

#: Connections accepted per readiness notification (fairness with other work).
ACCEPT_BATCH = 64
#: accept() errors that concern one connection only (the peer gave up while queued).
_ACCEPT_SKIP = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.ECONNRESET})
#: Seconds to stop accepting when out of descriptors/memory: the listener
#: stays readable, so retrying at once would spin.
ACCEPT_RETRY = 0.1


@dataclass(eq=False)
class _Connection:
    """What a server knows about one client (a transport's tag)."""

    key: Any  # the socket the events carry
    address: Any
    announced: bool = False
    #: Writes that wait for a starttls upgrade (plain bytes still queued).
    held: list[bytes] | None = None


class Server(BaseComponent, TransportOwner):
    """A listening stream socket and its client connections (see module doc)."""

    channel: Any = "server"
    socket_family = socket.AF_INET
    socket_type = socket.SOCK_STREAM

    def __init__(self, bind: Any, secure: bool = False, backlog: int = 5000, bufsize: int = BUFSIZE,
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
        self._inode: int | None = None
        self._sock: socket.socket | None = self._listen()
        #: The loop the listening socket is registered on (set when the
        #: server joins its tree or starts: no loop is made for nothing).
        self._listening_on: Loop | None = None
        self._accept_retry: TimerHandle | None = None
        #: Asked with each accepted peer's address before anything else
        #: happens; False closes the socket unread (allow-lists).
        self.admit: Callable[[Any], bool] | None = None
        #: Seconds a TLS client has from accept to finish its handshake.
        self.handshake_timeout: float | None = kwargs.get("handshake_timeout", 30.0)

    @property
    def _bufsize(self) -> int:
        """The 3.x attribute name of ``bufsize``."""
        return self.bufsize

    # -- set-up ----------------------------------------------------------
    def parse_bind_parameter(self, bind_parameter: Any) -> Any:
        bind = parse_bind(bind_parameter, self.socket_family)
        if self.socket_family == socket.AF_INET and isinstance(bind, tuple) and family_of(bind[0]) == socket.AF_INET6:
            self.socket_family = socket.AF_INET6  # "[::1]:8000" given to a TCPServer
        return bind

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
            if self.socket_family == socket.AF_UNIX:
                self._inode = os.stat(self._bind).st_ino
            sock.listen(self.backlog)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock

    def _watch(self) -> None:
        """Register the listening socket on the loop of the current tree."""
        loop = self.loop
        if self._sock is None or self._listening_on is loop:
            return
        self._stop_accepting()
        loop.add_reader(self._sock, self._on_acceptable)
        self._listening_on = loop

    def _stop_accepting(self) -> None:
        if self._accept_retry is not None:
            self._accept_retry.cancel()
            self._accept_retry = None
        if self._listening_on is not None and self._sock is not None:
            self._listening_on.discard(self._sock)
        self._listening_on = None

    def _root_changed(self, old: Manager, new: Manager) -> None:
        if self._listening_on is not None:
            self._watch()
        for transport in self._clients.values():
            transport.move_to(new.loop)

    @handler("registered", "started", channel="*")
    def _on_registered_or_started(self, component: Any, manager: Any = None) -> None:
        if component is self or component is self.root:
            self._watch()
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
        """The sockets of the connected clients (``connect`` was fired for them)."""
        return [key for key, t in self._clients.items() if t is not None and t.tag.announced]

    # -- accepting ---------------------------------------------------------
    def _on_acceptable(self) -> None:
        for _ in range(ACCEPT_BATCH):
            if self._sock is None:
                return
            try:
                sock, address = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in _ACCEPT_SKIP:
                    continue
                # Out of descriptors (EMFILE, ENFILE) or memory: report, pause, retry.
                self.fire(error(self._sock, e))
                loop = self._listening_on
                if loop is not None:
                    loop.remove_reader(self._sock)
                    self._accept_retry = loop.call_later(ACCEPT_RETRY, self._resume_accepting)
                return
            if self.admit is not None and not self.admit(address):
                sock.close()  # refused before a byte is read, no TLS, no events
                continue
            try:
                sock.setblocking(False)
                if self.socket_family != socket.AF_UNIX:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self._ssl_context is not None:
                    # The handshake is driven by the loop; `connect` follows it.
                    tls = self._ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                    self._add_client(tls, address, handshake=True)
                else:
                    self._add_client(sock, address, handshake=False)
            except OSError as e:  # the peer is gone already
                sock.close()
                self.fire(error(sock, e))

    def _resume_accepting(self) -> None:
        self._accept_retry = None
        if self._sock is not None and self._listening_on is not None:
            self._listening_on.add_reader(self._sock, self._on_acceptable)

    def _add_client(self, sock: Any, address: Any, handshake: bool) -> None:
        conn = _Connection(sock, address)
        forget_stale(self.loop, sock)
        # Keyed before the Transport exists: its constructor may already report.
        self._clients[sock] = None  # type: ignore[assignment]
        transport = Transport(self.loop, sock, self, bufsize=self.bufsize, max_buffer=self.max_buffer,
                              handshake=handshake, tag=conn, handshake_timeout=self.handshake_timeout)
        if sock in self._clients:
            self._clients[sock] = transport
            if not handshake:
                self._announce(conn)

    def _announce(self, conn: _Connection) -> None:
        conn.announced = True
        if isinstance(conn.address, tuple):
            self.fire(connect(conn.key, conn.address[0], conn.address[1]))
        else:
            self.fire(connect(conn.key))  # a UNIX peer has no address

    # -- transport callbacks --------------------------------------------
    def transport_ready(self, transport: Transport) -> None:
        conn: _Connection = transport.tag
        if not conn.announced:  # a TLS handshake finished (not a starttls upgrade)
            self._announce(conn)

    def transport_data(self, transport: Transport, data: bytes) -> None:
        # notify: a handler returning data gets it written back (echo servers).
        self.fire(read(transport.tag.key, data)).notify = True

    def transport_eof(self, transport: Transport) -> bool:
        # The peer half-closed: it may still read. Close once the events
        # already queued (its last read, the replies to it) were handled
        # and the replies written.
        self.fire(close_event(transport.tag.key))
        return True

    def transport_error(self, transport: Transport, err: BaseException) -> None:
        self.fire(error(transport.tag.key, err))

    def transport_closed(self, transport: Transport, reason: str | None) -> None:
        conn: _Connection = transport.tag
        if self._clients.pop(conn.key, False) is not False and conn.announced:
            self.fire(disconnect(conn.key))

    @handler("read_value_changed")
    def _on_read_value_changed(self, value: Value) -> None:
        data = value.getValue()
        if isinstance(data, (bytes, bytearray, str)):
            self.write(value.event.args[0], data)

    # -- requests from the application -----------------------------------
    @handler("write")
    def write(self, sock: Any, data: bytes | str) -> None:
        transport = self._clients.get(sock)
        if transport is None:
            return
        payload = data.encode("utf-8") if isinstance(data, str) else data
        held = transport.tag.held
        if held is not None:
            held.append(payload)
        else:
            transport.write(payload)

    @handler("close")
    def close(self, sock: Any = None) -> None:
        """Close one client (after its queue drains) or, with no sock, everything."""
        if sock is not None:
            transport = self._clients.get(sock)
            if transport is not None:
                transport.close()
            return
        for transport in list(self._clients.values()):
            if transport is not None:
                transport.close()
        if self._sock is not None:
            self._stop_accepting()
            self._sock.close()
            self._sock = None
            if self._inode is not None:
                _unlink_if_ours(self._bind, self._inode)
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
        import ssl  # here, not at the top: only TLS needs it (see circuits.net.tls)

        if isinstance(transport.fileobj, ssl.SSLSocket) or transport.tag.held is not None:
            raise RuntimeError("starttls: the connection already uses (or is starting) TLS")
        if self._ssl_context is None:
            self._ssl_context = server_context(**self._tls_settings)
        if transport.buffered:
            # Plain bytes (e.g. the "go ahead" reply) are still queued: they go
            # first. Meanwhile nothing is read (the peer's next bytes are its
            # ClientHello) and later writes wait for the upgrade.
            transport.pause_reading()
            transport.tag.held = []
            return
        # Events keep carrying `sock` (the key); the transport now owns an SSLSocket.
        transport.start_tls(self._ssl_context, server_side=True)

    def transport_drained(self, transport: Transport) -> None:
        conn: _Connection = transport.tag
        if conn.held is not None and self._ssl_context is not None:
            held, conn.held = conn.held, None
            transport.start_tls(self._ssl_context, server_side=True)
            transport.resume_reading()  # reads start when the handshake is done
            for data in held:
                transport.write(data)


class TCPServer(Server):
    socket_family = socket.AF_INET


class TCP6Server(Server):
    socket_family = socket.AF_INET6


class UNIXServer(Server):
    socket_family = socket.AF_UNIX


def _remove_stale_socket(path: str) -> None:
    """A socket file left by a dead process would make bind() fail: remove it.

    A socket somebody still listens on is left alone (bind() then fails
    with EADDRINUSE, as it should).
    """
    try:
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            return
    except FileNotFoundError:
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.setblocking(False)  # a live server with a full backlog must not block us
    try:
        probe.connect(path)
    except ConnectionRefusedError:
        os.unlink(path)  # nobody listens: stale
    except (BlockingIOError, FileNotFoundError):
        pass
    finally:
        probe.close()


def _unlink_if_ours(path: str, inode: int) -> None:
    """Remove our socket file, unless another server has replaced it since."""
    try:
        if os.stat(path).st_ino == inode:
            os.unlink(path)
    except FileNotFoundError:
        pass
