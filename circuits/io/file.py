"""Files, FIFOs and character devices as components on the loop.

``File(filename, mode="r", bufsize=4096, encoding=None, channel="file")``
opens the file when its ``open`` event is handled (fired on creation, so
the file opens once the component joins a running tree), then fires
``opened(filename, mode)``; in a readable mode ``read(data)`` for each chunk
and ``eof()`` at the end; ``closed()`` once closed; ``error(err)`` when
something fails (a missing file is an ``error`` event, never a crash).
It handles ``write(data)``, ``seek(offset, whence=0)``, ``close()`` (after
pending writes) and ``open(filename, mode)``.

Two ways to do I/O without blocking the loop:

* Regular files cannot be put into epoll (the kernel answers EPERM: they are
  "always ready"). They are read one ``bufsize`` chunk per loop pass, the
  next chunk scheduled with ``loop.call_later(0, ...)``, so a large file
  never starves other components. Writes go straight to the page cache
  (they never wait on a peer), so they are done in the ``write`` handler.
* Pipes, FIFOs, ttys and other character devices go through the shared
  :class:`~circuits.core.transport.Transport` (bounded write queue, close
  after drain). A descriptor epoll refuses (``/dev/null``) falls back to
  the regular-file way.

Modes are Python's (``r w a x`` with ``+`` and ``b``/``t``). ``read``
events carry ``bytes`` in every mode, as in circuits 3.x (``"r"`` and
``"rb"`` read the same), unless an ``encoding`` is given: then they carry
``str`` decoded with it and ``errors="replace"`` (invalid bytes never
crash the reader; pass ``errors="strict"`` to get an ``error`` event
instead); newlines are not translated. ``write`` takes ``str`` (encoded
with ``encoding``, default UTF-8) or bytes in any mode.
A read-only file closes itself after ``eof`` unless ``autoclose=False``.
Opening a FIFO for writing while nobody reads it fails with ENXIO (the
descriptor is opened non-blocking so the loop never waits for a peer).
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import stat
from dataclasses import dataclass
from typing import Any

from ..core.components import BaseComponent
from ..core.handlers import handler
from ..core.loop import TimerHandle
from ..core.manager import Manager
from ..core.transport import Transport
from ..core.transport_owner import TransportHolder, TransportOwner
from .events import closed, eof, error, opened, read
from .events import open as open_event

__all__ = ["File", "FileMode", "parse_mode"]


@dataclass(frozen=True, slots=True)
class FileMode:
    """What a Python mode string means for ``os.open`` and for us."""

    flags: int
    readable: bool
    writable: bool
    append: bool
    binary: bool


def parse_mode(mode: str) -> FileMode:
    """Parse a Python ``open()`` mode; ValueError if it is not one."""
    kinds = [c for c in mode if c in "rwax"]
    if len(kinds) != 1 or len(set(mode)) != len(mode) or set(mode) - set("rwaxb+t") or (
            "b" in mode and "t" in mode):
        raise ValueError(f"invalid mode: {mode!r}")
    kind = kinds[0]
    plus = "+" in mode
    readable = kind == "r" or plus
    writable = kind != "r" or plus
    flags = os.O_RDWR if readable and writable else (os.O_RDONLY if readable else os.O_WRONLY)
    if kind == "w":
        flags |= os.O_CREAT | os.O_TRUNC
    elif kind == "a":
        flags |= os.O_CREAT | os.O_APPEND
    elif kind == "x":
        flags |= os.O_CREAT | os.O_EXCL
    return FileMode(flags, readable, writable, kind == "a", "b" in mode)


class File(TransportHolder, BaseComponent, TransportOwner):
    """A file (or FIFO, or character device) component (see module doc).

    ``filename`` may also be a file descriptor or an object with
    ``fileno()`` (e.g. ``sys.stdin``): it is duplicated, so closing the
    component leaves the original open, and its blocking flag is restored.
    """

    channel: Any = "file"

    def __init__(self, filename: str | int | Any = None, mode: str = "r", bufsize: int = 4096,
                 encoding: str | None = None, channel: Any = channel, *, errors: str = "replace",
                 autoclose: bool | None = None, autoopen: bool = True, max_buffer: int = 4 << 20) -> None:
        super().__init__(channel=channel)
        parse_mode(mode)  # a bad mode is a programming error: raise now
        if encoding is not None and "b" in mode:
            raise ValueError("binary mode doesn't take an encoding argument")
        self.filename = filename
        self.mode = mode
        self.bufsize = bufsize
        self.encoding = encoding
        self.errors = errors
        #: None: close after eof in read-only modes, stay open otherwise.
        self.autoclose = autoclose
        #: Bytes a FIFO/device write queue may hold before the file is closed.
        self.max_buffer = max_buffer
        self._fd: int | None = None
        self._mode = parse_mode(mode)
        self._transport: Transport | None = None
        self._reader: TimerHandle | None = None
        self._decoder: codecs.IncrementalDecoder | None = None
        self._at_eof = False
        # A borrowed descriptor (fd 0, sys.stdout, ...): (original fd, was blocking).
        self._borrowed: tuple[int, bool] | None = None
        if autoopen and filename is not None:
            self.fire(open_event())

    # -- state -------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._fd is None

    @property
    def path(self) -> str:
        """The file name, or a description of a borrowed descriptor."""
        if isinstance(self.filename, str):
            return self.filename
        return getattr(self.filename, "name", None) or f"<fd {_fileno(self.filename)}>"

    def _root_changed(self, old: Manager, new: Manager) -> None:
        super()._root_changed(old, new)
        if self._reader is not None:
            self._reader.cancel()
            self._reader = new.loop.call_later(0, self._read_chunk)

    # -- opening -----------------------------------------------------------
    @handler("open")
    def open(self, filename: str | int | Any = None, mode: str | None = None) -> None:
        """Open ``filename`` (default: the one given before); ``error`` if that fails."""
        if self._fd is not None:
            if filename is None and mode is None:
                return  # already open
            self.close()
        if filename is not None:
            self.filename = filename
        if mode is not None:
            try:
                self._mode = parse_mode(mode)
            except ValueError as e:
                self.fire(error(e))
                return
            self.mode = mode
        try:
            fd = self._open_fd()
        except OSError as e:
            self.fire(error(e))
            return
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            os.close(fd)
            self._borrowed = None
            self.fire(error(IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), self.path)))
            return
        if self._mode.append:
            # Like Python's FileIO: "a+" reads from the end, not the start.
            try:
                os.lseek(fd, 0, os.SEEK_END)
            except OSError:
                pass  # not seekable (a FIFO): nothing to position
        self._fd = fd
        self._at_eof = False
        self._decoder = None if self.encoding is None else codecs.getincrementaldecoder(
            self.encoding)(self.errors)
        if not _always_ready(fd):
            try:
                self._transport = Transport(self.loop, fd, self, bufsize=self.bufsize,
                                            max_buffer=self.max_buffer)
            except PermissionError:  # epoll refuses it (e.g. /dev/null): read it like a file
                self.loop.discard(fd)
                self._transport = None
            else:
                if not self._mode.readable:
                    # Watching a write-only end would only report hang-ups as
                    # unreadable errors (EBADF); a failing write reports them.
                    self._transport.pause_reading()
        self.fire(opened(self.path, self.mode))
        if self._transport is None and self._mode.readable:
            self._schedule_read()

    def _open_fd(self) -> int:
        """A descriptor we own, non-blocking (see module doc)."""
        target = self.filename
        if isinstance(target, str | bytes | os.PathLike):
            return os.open(target, self._mode.flags | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
        original = _fileno(target)
        fd = os.dup(original)
        was_blocking = os.get_blocking(fd)
        if not _always_ready(fd):
            os.set_blocking(fd, False)  # shared with `original`: restored on close
        self._borrowed = (original, was_blocking)
        return fd

    # -- reading regular files: one chunk per loop pass -------------------
    def _schedule_read(self) -> None:
        if self._reader is None and self._fd is not None:
            self._reader = self.loop.call_later(0, self._read_chunk)

    def _read_chunk(self) -> None:
        self._reader = None
        fd = self._fd
        if fd is None:
            return
        try:
            data = os.read(fd, self.bufsize)
        except BlockingIOError:
            self._schedule_read()
            return
        except OSError as e:
            self.fire(error(e))
            self._close_now()
            return
        if not data:
            self._reached_eof()
            return
        self._deliver(data)
        if self._fd is not None:  # a strict decoder may have closed us
            self._schedule_read()

    def _deliver(self, data: bytes) -> None:
        if self._decoder is None:
            self.fire(read(data))
            return
        try:
            text = self._decoder.decode(data)
        except UnicodeDecodeError as e:
            self.fire(error(e))
            self.close()
            return
        if text:
            self.fire(read(text))

    def _reached_eof(self) -> None:
        self._at_eof = True
        if self._decoder is not None:
            try:
                rest = self._decoder.decode(b"", final=True)
            except UnicodeDecodeError as e:
                self.fire(error(e))
                rest = ""
            if rest:
                self.fire(read(rest))
        self.fire(eof())
        autoclose = self.autoclose if self.autoclose is not None else not self._mode.writable
        if autoclose and self._transport is None:
            self.close()

    # -- transport callbacks (FIFOs, ttys, devices) -----------------------
    def transport_data(self, transport: Transport, data: bytes) -> None:
        self._deliver(data)

    def transport_eof(self, transport: Transport) -> None:
        self._reached_eof()

    def transport_error(self, transport: Transport, err: BaseException) -> None:
        self.fire(error(err))

    def transport_closed(self, transport: Transport, reason: str | None) -> None:
        if transport is not self._transport:
            return
        self._transport = None
        self._fd = None  # the transport closed it
        self._restore_borrowed()
        self.fire(closed())

    # -- requests ----------------------------------------------------------
    @handler("write")
    def write(self, data: bytes | bytearray | memoryview | str) -> None:
        if self._fd is None:
            self.fire(error(ValueError(f"write to a closed file: {self.path}")))
            return
        if not self._mode.writable:
            self.fire(error(io.UnsupportedOperation(f"not open for writing: {self.path}")))
            return
        if isinstance(data, str):
            data = data.encode(self.encoding or "utf-8")
        if self._transport is not None:
            self._transport.write(data)
            return
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view):]
        except BlockingIOError:
            # Only a descriptor epoll refused can get here; such devices
            # (e.g. /dev/null) accept everything, so this is a real loss.
            self.fire(error(BlockingIOError(errno.EAGAIN, f"{self.path}: write would block")))
        except OSError as e:
            self.fire(error(e))

    @handler("seek")
    def seek(self, offset: int, whence: int = os.SEEK_SET) -> None:
        if self._fd is None:
            self.fire(error(ValueError(f"seek on a closed file: {self.path}")))
            return
        try:
            os.lseek(self._fd, offset, whence)
        except OSError as e:  # ESPIPE on FIFOs and ttys
            self.fire(error(e))
            return
        if self._decoder is not None:
            self._decoder.reset()
        if self._at_eof and self._mode.readable and self._transport is None:
            self._at_eof = False
            self._schedule_read()

    @handler("close")
    def close(self) -> None:
        """Close once pending writes are done; ``closed()`` follows."""
        if self._transport is not None:
            self._transport.close()
        elif self._fd is not None:
            self._close_now()

    def _close_now(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.close(fd)
        except OSError:
            pass
        self._restore_borrowed()
        self.fire(closed())

    def _restore_borrowed(self) -> None:
        borrowed, self._borrowed = self._borrowed, None
        if borrowed is not None:
            try:
                os.set_blocking(borrowed[0], borrowed[1])
            except OSError:
                pass  # the original was closed meanwhile

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is not self.root:
            return
        self.close()
        if self._transport is not None:  # still draining, but the loop is done
            self._transport.abort("stopped")


def _fileno(target: Any) -> int:
    return target if isinstance(target, int) else target.fileno()


def _always_ready(fd: int) -> bool:
    """Regular files and directories: epoll refuses them (see module doc)."""
    mode = os.fstat(fd).st_mode
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISBLK(mode)
