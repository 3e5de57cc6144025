"""Stream clients: TCPClient, TCP6Client, UNIXClient.

``connect`` never blocks: the socket connects in the background (name
resolution in a thread when the host is not a literal address) and the
loop reports ``connected`` or ``unreachable`` (a failed name lookup is
also an ``error(err)`` first, as in 3.x). After ``disconnected`` the
same client may ``connect`` again.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..core.components import BaseComponent
from ..core.handlers import handler
from ..core.loop import TimerHandle
from ..core.manager import Manager
from ..core.transport import Transport
from ..core.transport_owner import TransportOwner
from .addresses import BUFSIZE, forget_stale, parse_bind
from .events import connected, disconnected, error, read, ready, unreachable
from .tls import client_context

#: Blocking getaddrinfo() calls run here, never on the loop.
_resolver = ThreadPoolExecutor(max_workers=2, thread_name_prefix="circuits-resolver")


class Client(BaseComponent, TransportOwner):
    """One outgoing stream connection (see module doc)."""

    channel: Any = "client"
    socket_family = socket.AF_INET
    socket_type = socket.SOCK_STREAM

    def __init__(self, bind: Any = None, bufsize: int = BUFSIZE, channel: Any = channel, **kwargs: Any) -> None:
        super().__init__(channel=channel)
        self._bind = self.parse_bind_parameter(bind) if bind is not None else None
        self.bufsize = bufsize
        self.max_buffer: int = kwargs.get("max_buffer", 16 << 20)
        self.socket_options: list[tuple[int, int, int]] = list(kwargs.get("socket_options", []))
        self._transport: Transport | None = None
        self._sock: socket.socket | None = None
        self._connecting: tuple[Any, Any, dict[str, Any]] | None = None
        self._timer: TimerHandle | None = None
        #: The loop a connecting socket waits on (until it becomes a Transport).
        self._connect_loop: Any = None
        self._handshake_error: BaseException | None = None
        self._adopted = False
        #: Writes made while connecting (sent once connected).
        self._early: list[bytes] = []
        self._announced = False
        self.host: Any = None
        self.port: Any = None
        self.secure = False

    def parse_bind_parameter(self, bind_parameter: Any) -> Any:
        return parse_bind(bind_parameter, self.socket_family)

    @property
    def connected(self) -> bool:
        transport = self._transport
        return transport is not None and not transport.closing and self._connecting is None

    @property
    def _busy(self) -> bool:
        """Connected or connecting: a new ``connect`` is ignored."""
        return self._transport is not None or self._sock is not None or self._connecting is not None

    @handler("registered", "started", channel="*")
    def _on_registered_or_started(self, component: Any, manager: Any = None) -> None:
        # Once: registering before start() gives both a registered and a started.
        if component is self or component is self.root:
            self._attach_adopted()
        if not self._announced and (component is self or component is self.root):
            self._announced = True
            self.fire(ready(self))

    def _root_changed(self, old: Manager, new: Manager) -> None:
        if self._adopted:
            self._attach_adopted()
        elif self._transport is not None:
            self._transport.move_to(new.loop)
        elif self._sock is not None and self._connect_loop is not None:
            self._connect_loop.discard(self._sock)
            self._connect_loop = new.loop
            self._connect_loop.add_writer(self._sock, self._on_connect_done)

    # -- connecting --------------------------------------------------------
    @handler("connect")
    def connect(self, host: Any, port: Any = None, secure: bool = False, **kwargs: Any) -> None:
        if self._busy:
            return
        self.host, self.port, self.secure = host, port, secure
        attempt = self._connecting = (host, port, kwargs)
        timeout = kwargs.get("timeout")
        if timeout:
            self._timer = self.loop.call_later(timeout, self._on_connect_timeout)
        if self.socket_family == socket.AF_UNIX or _is_literal(host):
            self._start_connect(self._target(host, port))
            return
        loop = self.loop
        future = _resolver.submit(socket.getaddrinfo, host, port, self.socket_family, self.socket_type)
        future.add_done_callback(lambda f: loop.call_soon_threadsafe(lambda: self._resolved(f, attempt)))

    def _target(self, host: Any, port: Any) -> Any:
        return host if self.socket_family == socket.AF_UNIX else (host, port)

    def _resolved(self, future: Any, attempt: Any) -> None:
        if self._connecting is not attempt:
            return  # closed (or timed out) while resolving
        try:
            infos = future.result()
        except Exception as e:  # gaierror, or whatever a replaced resolver raises
            self.fire(error(e))  # 3.x code waits for an error on a failed lookup
            self._unreachable(e)
            return
        self._start_connect(infos[0][4])

    def _start_connect(self, address: Any) -> None:
        sock = socket.socket(self.socket_family, self.socket_type)
        try:
            sock.setblocking(False)
            for level, option, value in self.socket_options:
                sock.setsockopt(level, option, value)
            if self.socket_family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._bind is not None:
                sock.bind(self._bind)
            code = sock.connect_ex(address)
        except OSError as e:
            sock.close()
            self._unreachable(e)
            return
        if code not in (0, errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK):
            sock.close()
            self._unreachable(OSError(code, os.strerror(code)))
            return
        self._sock = sock
        # Writable means the connect finished, one way or the other.
        self._connect_loop = self.loop
        forget_stale(self._connect_loop, sock)
        self._connect_loop.add_writer(sock, self._on_connect_done)

    def _on_connect_done(self) -> None:
        sock = self._sock
        if sock is None:
            return
        self._forget_connecting_socket()
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code != 0:
            self._sock = None
            sock.close()
            self._unreachable(OSError(code, os.strerror(code)))
            return
        host, port, kwargs = self._connecting or (self.host, self.port, {})
        if self.secure:
            # An IP literal is a valid server_hostname: it is checked against
            # the certificate's IP subjectAltNames.
            hostname = kwargs.get("server_hostname", host)
            try:
                ctx = client_context(**kwargs)
                tls = ctx.wrap_socket(sock, do_handshake_on_connect=False,
                                      server_hostname=hostname if ctx.check_hostname else None)
            except (OSError, ValueError) as e:
                self._sock = None
                sock.close()
                self._unreachable(e)
                return
            self._sock = tls
            self._transport = Transport(self.loop, tls, self, bufsize=self.bufsize,
                                        max_buffer=self.max_buffer, handshake=True)
            self._write_early()  # queued by the transport until the handshake is done
        else:
            self._transport = Transport(self.loop, sock, self, bufsize=self.bufsize, max_buffer=self.max_buffer)
            self._write_early()
            self._established()

    def _write_early(self) -> None:
        early, self._early = self._early, []
        for data in early:
            if self._transport is not None:
                self._transport.write(data)

    def _established(self) -> None:
        self._cancel_timer()
        self._connecting = None
        self.fire(connected(self.host, self.port))

    def _unreachable(self, reason: BaseException) -> None:
        self._cancel_timer()
        self._connecting = None
        self._sock = None
        self._early.clear()
        self.fire(unreachable(self.host, self.port, reason))

    def _on_connect_timeout(self) -> None:
        self._timer = None
        if self._connecting is None:
            return
        transport, self._transport = self._transport, None
        if transport is not None:  # still in the TLS handshake
            transport.abort("timeout")  # no transport_closed report: it is not ours any more
        elif self._sock is not None:
            self._forget_connecting_socket()
            self._sock.close()
        self._unreachable(TimeoutError("connect timed out"))

    def _forget_connecting_socket(self) -> None:
        if self._connect_loop is not None and self._sock is not None:
            self._connect_loop.discard(self._sock)
        self._connect_loop = None

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def adopt(self, sock: socket.socket) -> None:
        """Use an already connected socket (e.g. one end of a Pipe()).

        It is watched from when the client joins its tree (or starts).
        """
        sock.setblocking(False)
        self._sock = sock
        self._adopted = True

    def _attach_adopted(self) -> None:
        if self._adopted and self._sock is not None:
            self._adopted = False
            self._transport = Transport(self.loop, self._sock, self, bufsize=self.bufsize,
                                        max_buffer=self.max_buffer)

    # -- transport callbacks --------------------------------------------
    def transport_ready(self, transport: Transport) -> None:
        self._established()

    def transport_data(self, transport: Transport, data: bytes) -> None:
        self.fire(read(data))

    def transport_error(self, transport: Transport, err: BaseException) -> None:
        if self._connecting is not None:
            self._handshake_error = err  # reported as the reason of unreachable
            return
        self.fire(error(err))

    def transport_closed(self, transport: Transport, reason: str | None) -> None:
        if transport is not self._transport:
            return
        self._transport = None
        self._sock = None
        if self._connecting is not None:
            err, self._handshake_error = self._handshake_error, None
            self._unreachable(err or OSError(reason or "closed during the TLS handshake"))
            return
        self.fire(disconnected())

    # -- requests ----------------------------------------------------------
    @handler("write")
    def write(self, data: bytes | str) -> None:
        payload = data.encode("utf-8") if isinstance(data, str) else data
        if self._transport is not None:
            self._transport.write(payload)
        elif self._connecting is not None:
            self._early.append(payload)  # written once the connection is up

    @handler("close", "disconnect")
    def close(self) -> None:
        """Close after everything queued is written; ``disconnected`` follows."""
        if self._transport is not None and self._connecting is None:
            self._transport.close()
            return
        # Still connecting (resolving, connecting or in the TLS handshake): give up quietly.
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.abort()
        elif self._sock is not None:
            self._forget_connecting_socket()
            self._sock.close()
        self._sock = None
        self._connecting = None
        self._early.clear()
        self._cancel_timer()

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self.close()

    @property
    def buffered(self) -> int:
        return self._transport.buffered if self._transport is not None else 0


class TCPClient(Client):
    socket_family = socket.AF_INET

    @handler("connect", override=True)
    def connect(self, host: Any, port: Any = None, secure: bool = False, **kwargs: Any) -> None:
        if port is None and isinstance(host, str) and ":" in host:
            host, _, port_text = host.rpartition(":")
            port = int(port_text)
        if isinstance(host, str) and host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if self._busy:
            return
        # An IPv6 literal needs an IPv6 socket, whatever this client was made for.
        family = type(self).socket_family
        self.socket_family = socket.AF_INET6 if isinstance(host, str) and ":" in host else family
        super().connect(host, port, secure, **kwargs)


class TCP6Client(TCPClient):
    socket_family = socket.AF_INET6


class UNIXClient(Client):
    socket_family = socket.AF_UNIX

    @handler("connect", override=True)
    def connect(self, path: Any, secure: bool = False, **kwargs: Any) -> None:  # type: ignore[override]
        super().connect(path, None, secure, **kwargs)


def _is_literal(host: Any) -> bool:
    if not isinstance(host, str):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
