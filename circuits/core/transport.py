"""One buffered, non-blocking transport for every file descriptor.

Sockets, TLS sockets, serial ports, pipes and ptys all go through
:class:`Transport`: it reads when the loop says the descriptor is readable,
keeps a bounded write queue (written as soon as possible, the rest when the
descriptor is writable), closes after the queue drains, stops reading while
the owner asks for backpressure, and reports exactly one ``closed`` with the
reason. The owner (a component) receives plain callbacks; it turns them
into events.
"""

from __future__ import annotations

import errno
import os
import ssl
from collections.abc import Callable
from typing import Any

from .loop import Loop, TimerHandle

#: Errors that mean "try again later" on a non-blocking descriptor.
_RETRY = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
#: errno values that mean the peer or the device went away.
GONE = frozenset({errno.EIO, errno.ENXIO, errno.ENODEV, errno.EPIPE, errno.ECONNRESET,
                  errno.ENOTCONN, errno.ESHUTDOWN, errno.ECONNABORTED, errno.EBADF,
                  errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH})


class TransportOwner:
    """The callbacks a transport makes (override what you need)."""

    def transport_data(self, transport: Transport, data: bytes) -> None: ...

    def transport_eof(self, transport: Transport) -> bool | None:
        """The peer sent EOF. Return True to keep the (half-closed) transport
        open for writing: reading stops and the owner calls close() later."""

    def transport_error(self, transport: Transport, error: BaseException) -> None: ...

    def transport_closed(self, transport: Transport, reason: str | None) -> None: ...

    def transport_drained(self, transport: Transport) -> None: ...

    def transport_ready(self, transport: Transport) -> None:
        """A TLS handshake finished (plain transports never call this)."""


class TransportHolder:
    """For a component that owns (at most) one transport at a time."""

    _transport: Transport | None = None

    @property
    def buffered(self) -> int:
        """Bytes waiting to be written."""
        return self._transport.buffered if self._transport is not None else 0

    @property
    def dropped(self) -> int:
        """Bytes dropped because the write queue was full (devices only)."""
        return self._transport.dropped if self._transport is not None else 0

    def _root_changed(self, old: Any, new: Any) -> None:
        if self._transport is not None:
            self._transport.move_to(new.loop)


class BufferOverflow(Exception):
    """The peer did not read fast enough: the write queue passed its limit."""


class Transport:
    """A descriptor on a loop, with a bounded write queue (see module doc)."""

    __slots__ = ("loop", "fileobj", "fd", "owner", "bufsize", "max_buffer", "tag", "drop_on_overflow", "dropped",
                 "_recv", "_send", "_out", "_closing", "_closed", "_paused", "_handshaking",
                 "_is_socket", "bytes_in", "bytes_out", "close_timeout", "handshake_timeout", "_deadline")

    def __init__(self, loop: Loop, fileobj: Any, owner: TransportOwner, *, bufsize: int = 65536,
                 max_buffer: int = 4 << 20, handshake: bool = False, tag: Any = None,
                 drop_on_overflow: bool = False, close_timeout: float | None = 30.0,
                 handshake_timeout: float | None = 30.0) -> None:
        self.loop = loop
        self.fileobj = fileobj
        self.fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        self.owner = owner
        self.bufsize = bufsize
        self.max_buffer = max_buffer
        self.tag = tag
        #: On overflow drop what does not fit (devices) instead of closing (peers).
        self.drop_on_overflow = drop_on_overflow
        self.dropped = 0
        self._is_socket = hasattr(fileobj, "recv")
        if self._is_socket:
            self._recv: Callable[[int], bytes] = fileobj.recv
            self._send: Callable[[Any], int] = fileobj.send
        else:
            fd = self.fd
            self._recv = lambda n: os.read(fd, n)
            self._send = lambda b: os.write(fd, b)
        self._out = bytearray()
        self._closing = False
        self._closed = False
        self._paused = False
        self._handshaking = handshake
        self.bytes_in = 0
        self.bytes_out = 0
        #: A peer that never reads must not hold a closing descriptor forever,
        #: nor one that never finishes its TLS handshake (seconds; None: wait).
        self.close_timeout = close_timeout
        self.handshake_timeout = handshake_timeout
        self._deadline: TimerHandle | None = None
        if handshake:
            self._arm(handshake_timeout, "handshake timeout")
            # Start on the next pass, not here: a handshake that fails at once
            # must reach an owner that already holds this transport.
            loop.add_writer(self.fd, self._on_writable)
        else:
            loop.add_reader(self.fd, self._on_readable)

    # -- state ---------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def closing(self) -> bool:
        return self._closing or self._closed

    @property
    def buffered(self) -> int:
        """Bytes queued for writing."""
        return len(self._out)

    # -- reading -------------------------------------------------------
    def _on_readable(self) -> None:
        if not self._read_once():
            return
        # TLS may hold decrypted bytes the selector cannot see.
        fileobj = self.fileobj
        if isinstance(fileobj, ssl.SSLSocket):
            while not self._closed and not self._paused and fileobj.pending() and self._read_once():
                pass

    def _read_once(self) -> bool:
        """One read handed to the owner; False when there is nothing more now."""
        try:
            data = self._recv(self.bufsize)
        except _RETRY:
            return False
        except OSError as e:
            self._fail(e)
            return False
        if not data:
            self._eof()
            return False
        self.bytes_in += len(data)
        self.owner.transport_data(self, data)
        return True

    def pause_reading(self) -> None:
        """Backpressure: stop reading until resume_reading()."""
        if not self._paused and not self._closed:
            self._paused = True
            self.loop.remove_reader(self.fd)

    def resume_reading(self) -> None:
        if self._paused and not self._closed:
            self._paused = False
            if not self._handshaking:
                self.loop.add_reader(self.fd, self._on_readable)

    def _eof(self) -> None:
        if self.owner.transport_eof(self) is True and not self._closed:
            self._paused = True
            self.loop.remove_reader(self.fd)
            return
        self._finish("eof")

    # -- writing -------------------------------------------------------
    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data``; what the descriptor accepts now is written now."""
        if self._closing or self._closed or not data:
            return
        out = self._out
        if not out and not self._handshaking:
            try:
                sent = self._send(data)
            except _RETRY:
                sent = 0
            except OSError as e:
                self._fail(e)
                return
            self.bytes_out += sent
            if sent == len(data):
                return
            out += memoryview(data)[sent:]
            self.loop.add_writer(self.fd, self._on_writable)
        else:
            out += data
        if len(out) > self.max_buffer:
            self._overflow()

    def _on_writable(self) -> None:
        if self._handshaking:
            self._do_handshake()
            return
        out = self._out
        if out:
            try:
                sent = self._send(out)
            except _RETRY:
                return
            except OSError as e:
                self._fail(e)
                return
            self.bytes_out += sent
            del out[:sent]
        if not out:
            self.loop.remove_writer(self.fd)
            if self._closing:
                self._finish(None)
            else:
                self.owner.transport_drained(self)

    def _overflow(self) -> None:
        out = self._out
        if self.drop_on_overflow:
            excess = len(out) - self.max_buffer
            del out[len(out) - excess:]
            first = self.dropped == 0
            self.dropped += excess
            if first:  # report the first loss; `dropped` keeps counting
                self.owner.transport_error(self, BufferOverflow(
                    f"write buffer full ({self.max_buffer} bytes): nobody reads; dropping writes"))
            return
        error = BufferOverflow(f"write buffer over {self.max_buffer} bytes: peer too slow")
        self.owner.transport_error(self, error)
        self.abort("overflow")

    # -- TLS -----------------------------------------------------------
    def _do_handshake(self) -> None:
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
        if not self._paused:
            self.loop.add_reader(self.fd, self._on_readable)
        self.owner.transport_ready(self)
        if self._out:
            self.loop.add_writer(self.fd, self._on_writable)

    def start_tls(self, context: ssl.SSLContext, server_side: bool, server_hostname: str | None = None) -> None:
        """Upgrade a plain socket to TLS in place (handshake driven by the loop)."""
        self.loop.discard(self.fd)
        sock = context.wrap_socket(self.fileobj, server_side=server_side,
                                   do_handshake_on_connect=False, server_hostname=server_hostname)
        self.fileobj = sock
        self._recv = sock.recv
        self._send = sock.send
        self._handshaking = True
        self._arm(self.handshake_timeout, "handshake timeout")
        self._do_handshake()

    # -- closing -------------------------------------------------------
    def close(self) -> None:
        """Close once everything queued has been written."""
        if self._closing or self._closed:
            return
        self._closing = True
        if not self._out or self._handshaking:
            self._finish(None)
        else:
            self._arm(self.close_timeout, "close timeout")

    def _arm(self, seconds: float | None, reason: str) -> None:
        self._disarm()
        if seconds is not None:
            self._deadline = self.loop.call_later(seconds, lambda: self.abort(reason))

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def abort(self, reason: str | None = None) -> None:
        """Close now, dropping anything still queued."""
        self._out.clear()
        self._finish(reason)

    def _fail(self, error: OSError | ValueError) -> None:
        if self._closed:
            return
        self.owner.transport_error(self, error)
        reason = os.strerror(error.errno) if isinstance(error, OSError) and error.errno else str(error)
        self._finish(reason or type(error).__name__)

    def _finish(self, reason: str | None) -> None:
        if self._closed:
            return
        self._closed = True
        self._disarm()
        self.loop.discard(self.fd)
        self._out.clear()
        try:
            if self._is_socket or hasattr(self.fileobj, "close"):
                self.fileobj.close()
            else:
                os.close(self.fd)
        except OSError:
            pass
        self.owner.transport_closed(self, reason)

    def detach(self) -> None:
        """Stop watching the descriptor without closing it."""
        self._disarm()
        self.loop.discard(self.fd)
        self._closed = True

    def move_to(self, loop: Loop) -> None:
        """Re-register on another loop (the owner joined another tree)."""
        if loop is self.loop or self._closed:
            self.loop = loop
            return
        old = self.loop
        reading = old.is_reading(self.fd)
        writing = old.is_writing(self.fd)
        reader = old._handlers.get(self.fd, [None, None])[0]
        writer = old._handlers.get(self.fd, [None, None])[1]
        old.discard(self.fd)
        self.loop = loop
        if reading and reader is not None:
            loop.add_reader(self.fd, reader)
        if writing and writer is not None:
            loop.add_writer(self.fd, writer)
