"""Stream clients: TCPClient, TCP6Client, UNIXClient.

``connect`` never blocks: the socket connects in the background (name
resolution in a thread when the host is not a literal address) and the
loop reports ``connected`` or ``unreachable``. After ``disconnected`` the
same client may ``connect`` again.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..core.components import BaseComponent
from ..core.handlers import handler
from ..core.loop import TimerHandle
from ..core.manager import Manager
from ..core.transport import Transport, TransportOwner
from .addresses import parse_bind
from .events import connected, disconnected, error, read, ready, unreachable
from .tls import client_context

#: Blocking getaddrinfo() calls run here, never on the loop.
_resolver = ThreadPoolExecutor(max_workers=2, thread_name_prefix="circuits-resolver")


class Client(BaseComponent, TransportOwner):
    """One outgoing stream connection (see module doc)."""

    channel: Any = "client"
    socket_family = socket.AF_INET
    socket_type = socket.SOCK_STREAM

    def __init__(self, bind: Any = None, bufsize: int = 4096, channel: Any = channel, **kwargs: Any) -> None:
        super().__init__(channel=channel)
        self._bind = self.parse_bind_parameter(bind) if bind is not None else None
        self.bufsize = bufsize
        self.max_buffer: int = kwargs.get("max_buffer", 16 << 20)
        self.socket_options: list[tuple[int, int, int]] = list(kwargs.get("socket_options", []))
        self._transport: Transport | None = None
        self._sock: socket.socket | None = None
        self._connecting: tuple[Any, Any, dict[str, Any]] | None = None
        self._timer: TimerHandle | None = None
        self.host: Any = None
        self.port: Any = None
        self.secure = False

    def parse_bind_parameter(self, bind_parameter: Any) -> Any:
        return parse_bind(bind_parameter, self.socket_family)

    @property
    def connected(self) -> bool:
        return self._transport is not None and not self._transport.closing

    @handler("registered", "started", channel="*")
    def _on_registered_or_started(self, component: Any, manager: Any = None) -> None:
        if component is self or component is self.root:
            self.fire(ready(self))

    def _root_changed(self, old: Manager, new: Manager) -> None:
        if self._transport is not None:
            self._transport.move_to(new.loop)
        elif self._sock is not None:
            old.loop.discard(self._sock)
            new.loop.add_writer(self._sock, self._on_connect_done)

    # -- connecting --------------------------------------------------------
    @handler("connect")
    def connect(self, host: Any, port: Any = None, secure: bool = False, **kwargs: Any) -> None:
        if self.connected or self._sock is not None:
            return
        self.host, self.port, self.secure = host, port, secure
        self._connecting = (host, port, kwargs)
        timeout = kwargs.get("timeout")
        if timeout:
            self._timer = self.loop.call_later(timeout, self._on_connect_timeout)
        if self.socket_family == socket.AF_UNIX or _is_literal(host):
            self._start_connect(self._target(host, port))
            return
        loop = self.loop
        future = _resolver.submit(socket.getaddrinfo, host, port, self.socket_family, self.socket_type)
        future.add_done_callback(lambda f: loop.call_soon_threadsafe(lambda: self._resolved(f)))

    def _target(self, host: Any, port: Any) -> Any:
        return host if self.socket_family == socket.AF_UNIX else (host, port)

    def _resolved(self, future: Any) -> None:
        if self._connecting is None:
            return
        try:
            infos = future.result()
        except OSError as e:
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
        self.loop.add_writer(sock, self._on_connect_done)

    def _on_connect_done(self) -> None:
        sock = self._sock
        if sock is None:
            return
        self.loop.discard(sock)
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code != 0:
            self._sock = None
            sock.close()
            self._unreachable(OSError(code, os.strerror(code)))
            return
        host, port, kwargs = self._connecting or (self.host, self.port, {})
        if self.secure:
            ctx = client_context(**kwargs)
            hostname = kwargs.get("server_hostname", host if not _is_literal(host) else None)
            try:
                tls = ctx.wrap_socket(sock, do_handshake_on_connect=False,
                                      server_hostname=hostname if ctx.check_hostname else None)
            except (OSError, ssl.SSLError) as e:
                self._sock = None
                sock.close()
                self._unreachable(e)
                return
            self._sock = tls
            self._transport = Transport(self.loop, tls, self, bufsize=self.bufsize,
                                        max_buffer=self.max_buffer, handshake=True)
        else:
            self._transport = Transport(self.loop, sock, self, bufsize=self.bufsize, max_buffer=self.max_buffer)
            self._established()

    def _established(self) -> None:
        self._cancel_timer()
        self._connecting = None
        self.fire(connected(self.host, self.port))

    def _unreachable(self, reason: BaseException) -> None:
        self._cancel_timer()
        self._connecting = None
        self._sock = None
        self.fire(unreachable(self.host, self.port, reason))

    def _on_connect_timeout(self) -> None:
        self._timer = None
        if self._connecting is None:
            return
        if self._transport is not None:
            self._transport.abort("timeout")
            self._transport = None
        elif self._sock is not None:
            self.loop.discard(self._sock)
            self._sock.close()
        self._unreachable(TimeoutError("connect timed out"))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def adopt(self, sock: socket.socket) -> None:
        """Use an already connected socket (e.g. one end of a Pipe())."""
        sock.setblocking(False)
        self._sock = sock
        self._transport = Transport(self.loop, sock, self, bufsize=self.bufsize, max_buffer=self.max_buffer)

    # -- transport callbacks --------------------------------------------
    def transport_ready(self, transport: Transport) -> None:
        self._established()

    def transport_data(self, transport: Transport, data: bytes) -> None:
        self.fire(read(data))

    def transport_error(self, transport: Transport, err: BaseException) -> None:
        if self._connecting is not None:
            return  # reported as unreachable
        self.fire(error(err))

    def transport_closed(self, transport: Transport, reason: str | None) -> None:
        if transport is not self._transport:
            return
        self._transport = None
        self._sock = None
        if self._connecting is not None:
            self._unreachable(OSError(reason or "closed during the TLS handshake"))
            return
        self.fire(disconnected())

    # -- requests ----------------------------------------------------------
    @handler("write")
    def write(self, data: bytes | str) -> None:
        if self._transport is not None:
            self._transport.write(data.encode("utf-8") if isinstance(data, str) else data)

    @handler("close", "disconnect")
    def close(self) -> None:
        """Close after everything queued is written; ``disconnected`` follows."""
        if self._transport is not None:
            self._transport.close()
        elif self._sock is not None:
            self.loop.discard(self._sock)
            self._sock.close()
            self._sock = None
            self._connecting = None
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
        if isinstance(host, str) and ":" in host:
            self.socket_family = socket.AF_INET6
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
