"""The TLS half of :class:`~circuits.core.transport.Transport`: the
handshake driven by the loop and ``start_tls``; and what the transport
needs of ``ssl`` without importing it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ssl

#: Errors that mean "try again later" on a non-blocking descriptor; a TLS
#: socket adds ssl's two (see retry_for). ssl is never imported here: it
#: costs ~4 MB of RSS, and a TLS socket exists only if its maker loaded it.
RETRY: tuple[type[BaseException], ...] = (BlockingIOError, InterruptedError)


def tls_module(fileobj: Any) -> Any:
    """The ssl module if ``fileobj`` is a TLS socket, else None."""
    ssl = sys.modules.get("ssl")
    return ssl if ssl is not None and isinstance(fileobj, ssl.SSLSocket) else None


def retry_for(fileobj: Any) -> tuple[type[BaseException], ...]:
    ssl = tls_module(fileobj)
    return RETRY if ssl is None else (*RETRY, ssl.SSLWantReadError, ssl.SSLWantWriteError)


class TransportTLS:
    """TLS methods of Transport (which holds the state: see its slots)."""

    __slots__ = ()
    # The Transport's own attributes these methods use.
    fileobj: Any
    fd: int
    loop: Any
    owner: Any
    handshake_timeout: float | None
    _handshaking: bool
    _paused: bool
    _writing: bool
    _out: bytearray
    _recv: Any
    _send: Any
    _retry: tuple[type[BaseException], ...]
    _tls: bool
    # ... and methods (Transport's).
    _arm: Any
    _disarm: Any
    _fail: Any
    flush: Any

    def _do_handshake(self) -> None:
        ssl = sys.modules["ssl"]  # a handshake means a TLS socket: loaded
        try:
            self.fileobj.do_handshake()
        except ssl.SSLWantReadError:
            self.loop.remove_writer(self.fd)
            self.loop.add_reader(self.fd, self._do_handshake)
            return
        except ssl.SSLWantWriteError:
            self.loop.remove_reader(self.fd)
            self.loop.add_writer(self.fd, self._do_handshake)
            return
        except (OSError, ValueError) as e:
            self._fail(e)
            return
        self._handshaking = False
        self._disarm()
        self.loop.remove_writer(self.fd)
        self._writing = False
        if not self._paused:
            self.loop.add_reader(self.fd, self._on_readable)
        self.owner.transport_ready(self)
        if self._out:
            self.flush()

    def start_tls(self, context: ssl.SSLContext, server_side: bool, server_hostname: str | None = None) -> None:
        """Upgrade a plain socket to TLS in place (handshake driven by the loop).

        Plain bytes still queued are sent first, as far as the socket takes
        them (callers that must not lose any wait for ``transport_drained``).
        """
        self.flush()
        self.loop.discard(self.fd)
        self._writing = False
        sock = context.wrap_socket(self.fileobj, server_side=server_side,
                                   do_handshake_on_connect=False, server_hostname=server_hostname)
        self.fileobj = sock
        self._retry = retry_for(sock)
        self._tls = True
        self._recv = sock.recv
        self._send = sock.send
        self._handshaking = True
        self._arm(self.handshake_timeout, "handshake timeout")
        self._do_handshake()
