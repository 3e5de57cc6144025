"""One buffered, non-blocking transport for every file descriptor.

Sockets, TLS sockets, serial ports, pipes and ptys all go through
:class:`Transport`: it reads when the loop says the descriptor is readable
(a streaming tty several times per poll), keeps a bounded write queue
(sent once the events of the pass are dispatched, so a pass's writes cost
one system call; the rest when the descriptor is writable), closes after
the queue drains, stops reading while the owner asks for backpressure, and
reports exactly one ``closed`` with the reason. The owner (a component)
receives plain callbacks; it turns them into events.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from functools import partial
from typing import Any

from .loop import Loop, TimerHandle
from .transport_owner import TransportOwner
from .transport_tls import RETRY as _RETRY
from .transport_tls import TransportTLS
from .transport_tls import retry_for as _retry_for

#: Queued bytes past which a write is sent at once instead of at the end of
#: the pass: coalescing is for many small writes, not for holding big ones.
COALESCE_LIMIT = 65536
#: A read this big (or a full buffer) suggests more is waiting (read_burst).
BURST_FLOOR = 2048
#: errno values that mean the peer or the device went away.
GONE = frozenset({errno.EIO, errno.ENXIO, errno.ENODEV, errno.EPIPE, errno.ECONNRESET,
                  errno.ENOTCONN, errno.ESHUTDOWN, errno.ECONNABORTED, errno.EBADF,
                  errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH})


class BufferOverflow(Exception):
    """The peer did not read fast enough: the write queue passed its limit."""


class Transport(TransportTLS):
    """A descriptor on a loop, with a bounded write queue (see module doc)."""

    __slots__ = ("loop", "fileobj", "fd", "owner", "bufsize", "max_buffer", "tag", "drop_on_overflow", "dropped",
                 "_recv", "_send", "_out", "_closing", "_closed", "_paused", "_handshaking",
                 "_is_socket", "bytes_in", "bytes_out", "close_timeout", "handshake_timeout", "_deadline",
                 "read_burst", "_flush_pending", "_writing", "_low_water", "_retry", "_tls")

    def __init__(self, loop: Loop, fileobj: Any, owner: TransportOwner, *, bufsize: int = 65536,
                 max_buffer: int = 4 << 20, handshake: bool = False, tag: Any = None,
                 drop_on_overflow: bool = False, close_timeout: float | None = 30.0,
                 handshake_timeout: float | None = 30.0, read_burst: int = 1) -> None:
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
        #: Reads per readiness while they come back big: a stream (a busy
        #: tty) is read without a poll between its chunks.
        self.read_burst = read_burst
        self._is_socket = hasattr(fileobj, "recv")
        self._retry = _retry_for(fileobj)
        self._tls = self._retry is not _RETRY
        if self._is_socket:
            self._recv: Callable[[int], bytes] = fileobj.recv
            self._send: Callable[[Any], int] = fileobj.send
        else:
            fd = self.fd
            # (partials, not lambdas: no Python frame per read or write)
            self._recv = partial(os.read, fd)
            self._send = partial(os.write, fd)
        self._out = bytearray()
        self._closing = False
        self._closed = False
        self._paused = False
        self._flush_pending = False  # a flush is queued on the loop
        self._writing = False  # waiting for the descriptor to become writable
        self._low_water: int | None = None  # see notify_below
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
        n = self._read_once(True)
        if not n:
            return
        if self.read_burst > 1:
            if n >= BURST_FLOOR or n >= self.bufsize:  # else _read_burst would stop at once
                self._read_burst(n)
            return
        # TLS may hold decrypted bytes the selector cannot see.
        if self._tls:
            fileobj = self.fileobj
            while not self._closed and not self._paused and fileobj.pending() and self._read_once(True):
                pass

    def _read_burst(self, n: int) -> None:
        """Read on while reads come back big: the descriptor is streaming.

        A tty hands out at most 4 KiB a read whatever the buffer size, so
        "big" is BURST_FLOOR bytes (or a full buffer, if smaller). An empty
        read here is not taken for EOF: a tty with VMIN=0 (how pyserial sets
        it) returns nothing both when it has nothing yet and when it was hung
        up. The next poll tells the two apart.
        """
        floor = min(self.bufsize, BURST_FLOOR)
        for _ in range(self.read_burst - 1):
            if n < floor or self._closed or self._paused:
                return
            n = self._read_once(False)

    def _read_once(self, ready: bool) -> int:
        """One read handed to the owner; the bytes read, 0 when nothing came.

        ``ready``: the poller said the descriptor is readable, so an empty
        read is the end of the stream.
        """
        try:
            data = self._recv(self.bufsize)
        except self._retry:
            return 0
        except OSError as e:
            self._fail(e)
            return 0
        if not data:
            if ready:
                self._eof()
            return 0
        n = len(data)
        self.bytes_in += n
        self.owner.transport_data(self, data)
        return n

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
    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Queue ``data``; it is sent when the events of this pass are done.

        All the writes of one pass to this descriptor go out in one system
        call (a burst of serial reads becomes one TCP send; a broadcast one
        send per client). Past COALESCE_LIMIT queued bytes it is sent now.
        Returns the bytes queued afterwards (what a caller applying
        backpressure wants next), -1 once closed.
        """
        if self._closed:
            return -1
        out = self._out
        if self._closing or not data:
            return len(out)
        out += data
        if self._writing or self._handshaking:
            pass  # the writable callback (or the handshake's end) sends it
        elif len(out) >= COALESCE_LIMIT:
            self.flush()
        elif not self._flush_pending:
            self._flush_pending = True
            # Loop.defer_flush, inline: this is every bridged chunk's path.
            loop = self.loop
            loop._flushes.append(self.flush)
            if loop.sleeping:  # written from another thread: the loop must look
                loop.wake()
        if len(out) > self.max_buffer:
            self._overflow()
        return len(out)

    def notify_below(self, low_water: int) -> bool:
        """Call ``owner.transport_writable`` once at most ``low_water`` bytes
        are queued; False (and nothing armed) if that is already so.

        A writer that paused its sources at a high-water mark resumes them
        here, before the queue runs dry, so the descriptor never idles.
        """
        if len(self._out) <= low_water or self._closed:
            return False
        self._low_water = low_water if self._low_water is None else min(low_water, self._low_water)
        return True

    def discard(self) -> int:
        """Drop what is queued for writing (a serial purge); bytes dropped."""
        dropped = len(self._out)
        self._out.clear()
        if self._low_water is not None:
            self._low_water = None
            self.owner.transport_writable(self)
        return dropped

    def flush(self) -> None:
        """Send what is queued now, as far as the descriptor takes it."""
        self._flush_pending = False
        if self._closed or self._writing or self._handshaking or not self._out:
            return
        self._send_queued()
        if self._out and not self._closed:
            self._writing = True
            self.loop.add_writer(self.fd, self._on_writable)

    def _on_writable(self) -> None:
        if self._handshaking:
            self._do_handshake()
            return
        if self._out:
            self._send_queued()
        if not self._out and not self._closed:
            self._writing = False
            self.loop.remove_writer(self.fd)

    def _send_queued(self) -> None:
        """One send of the queue; once it is empty, close or say drained."""
        out = self._out
        try:
            sent = self._send(out)
        except self._retry:
            return
        except OSError as e:
            self._fail(e)
            return
        self.bytes_out += sent
        del out[:sent]
        if self._low_water is not None and len(out) <= self._low_water:
            self._low_water = None
            self.owner.transport_writable(self)
        if out:
            return
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

    # -- closing -------------------------------------------------------
    def close(self) -> None:
        """Close once everything queued has been written."""
        if self._closing or self._closed:
            return
        self._closing = True
        if self._out and not self._handshaking:
            self.flush()
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
        """Stop watching the descriptor without closing it (after sending what
        is queued, as far as it goes now)."""
        self.flush()
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
        if self._flush_pending:  # the old loop may not pass again
            loop.defer_flush(self.flush)
        if reading and reader is not None:
            loop.add_reader(self.fd, reader)
        if writing and writer is not None:
            loop.add_writer(self.fd, writer)
