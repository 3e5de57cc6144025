"""Open a TCP connection to the broker without blocking the loop.

A plain ``socket.create_connection`` and then a blocking TLS handshake
(what MQTT libraries such as paho do): against an unreachable broker that freezes the whole
gateway for the connect timeout, every attempt. Here name resolution runs
in a thread (only for a non-literal host) and the connect completes when the
socket turns writable; the TLS handshake is then the Transport's, driven by
the poller like every other.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from circuits.core.loop import Loop, TimerHandle

__all__ = ["Dialer", "is_literal"]

Done = Callable[[socket.socket | None, BaseException | None], None]
Address = tuple[int, Any]  # (family, sockaddr)

_resolver: ThreadPoolExecutor | None = None


def _resolve_in_thread(host: str, port: int) -> Future[list[Any]]:
    global _resolver
    if _resolver is None:  # created on first use: importing starts no thread
        _resolver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mqtt-resolver")
    return _resolver.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)


def is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class Dialer:
    """One connection attempt; ``done(sock, None)`` or ``done(None, error)`` exactly once."""

    def __init__(self, loop: Loop, host: str, port: int, done: Done, *, timeout: float = 10.0) -> None:
        self.loop = loop
        self.host = host
        self.port = port
        self._done: Done | None = done
        self._sock: socket.socket | None = None
        self._addresses: list[Address] = []
        self._errors: list[str] = []
        self._timer: TimerHandle | None = loop.call_later(timeout, self._timed_out)

    def start(self) -> None:
        if is_literal(self.host):
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            self._addresses = [(family, (self.host, self.port))]
            self._next_address()
            return
        loop = self.loop
        future = _resolve_in_thread(self.host, self.port)
        future.add_done_callback(lambda f: loop.call_soon_threadsafe(lambda: self._resolved(f)))

    def cancel(self) -> None:
        """Abandon the attempt; ``done`` is not called."""
        self._done = None
        self._close()

    # -- steps -------------------------------------------------------------
    def _resolved(self, future: Future[list[Any]]) -> None:
        if self._done is None:
            return
        try:
            infos = future.result()
        except OSError as exc:
            self._finish(None, OSError(f"cannot resolve {self.host}: {exc}"))
            return
        self._addresses = [(info[0], info[4]) for info in infos]
        self._next_address()

    def _next_address(self) -> None:
        """Try the addresses in the resolver's order until one connects."""
        while self._addresses:
            family, address = self._addresses.pop(0)
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                code = sock.connect_ex(address)
            except OSError as exc:
                sock.close()
                self._errors.append(f"{address}: {exc}")
                continue
            if code not in (0, errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK):
                sock.close()
                self._errors.append(f"{address}: {os.strerror(code)}")
                continue
            self._sock = sock
            # Writable means the connect finished, one way or the other.
            self.loop.add_writer(sock, self._connect_done)
            return
        self._finish(None, ConnectionRefusedError("; ".join(self._errors) or "no address"))

    def _connect_done(self) -> None:
        sock = self._sock
        if sock is None:
            return
        self.loop.discard(sock)
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code != 0:
            self._sock = None
            sock.close()
            self._errors.append(f"{self.host}:{self.port}: {os.strerror(code)}")
            self._next_address()
            return
        self._sock = None
        self._finish(sock, None)

    def _timed_out(self) -> None:
        self._timer = None
        self._close()
        self._finish(None, TimeoutError(f"connecting to {self.host}:{self.port} timed out"))

    # -- ending ------------------------------------------------------------
    def _close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        sock, self._sock = self._sock, None
        if sock is not None:
            self.loop.discard(sock)
            sock.close()

    def _finish(self, sock: socket.socket | None, error: BaseException | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        done, self._done = self._done, None
        if done is not None:
            done(sock, error)
        elif sock is not None:
            sock.close()
