"""A minimal binding of Linux inotify(7): one descriptor, its watches, its records.

The three system calls are reached through ctypes on the C library the
interpreter already has loaded (``CDLL(None)``): no ``ctypes.util`` lookup,
which would import subprocess, shutil and tempfile to find a library by name
(pyinotify did that, plus asyncore, glob and locale: about 1 MB of a
gateway's memory; issue 15). Records are decoded with :mod:`struct` from what
one ``read`` returns; the kernel only ever returns whole records.

This module knows nothing of the loop: :class:`circuits.io.notify.Notify`
puts :attr:`Inotify.fd` on the poller and calls :meth:`Inotify.read` when it
is readable.
"""

from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Iterator
from typing import NamedTuple

__all__ = [
    "IN_ACCESS", "IN_ALL_EVENTS", "IN_ATTRIB", "IN_CLOSE_NOWRITE", "IN_CLOSE_WRITE", "IN_CREATE",
    "IN_DELETE", "IN_DELETE_SELF", "IN_IGNORED", "IN_ISDIR", "IN_MODIFY", "IN_MOVED_FROM",
    "IN_MOVED_TO", "IN_MOVE_SELF", "IN_OPEN", "IN_Q_OVERFLOW", "IN_UNMOUNT", "Inotify", "Record",
]

# Event bits, from <sys/inotify.h> (inotify(7)).
IN_ACCESS = 0x00000001
IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_CLOSE_NOWRITE = 0x00000010
IN_OPEN = 0x00000020
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_ALL_EVENTS = 0x00000FFF
# Bits only the kernel sets.
IN_UNMOUNT = 0x00002000
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000  # the watch is gone (removed, or its inode deleted/unmounted)
IN_ISDIR = 0x40000000

# inotify_init1 flags (the values of O_NONBLOCK and O_CLOEXEC on Linux).
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = 0o2000000

#: struct inotify_event: int wd; uint32_t mask, cookie, len; char name[len].
_HEADER = struct.Struct("iIII")
#: Room for many records per read; one record is at most 16 + NAME_MAX + 1 bytes.
_READ_SIZE = 64 * 1024


class Record(NamedTuple):
    """One decoded inotify record."""

    wd: int  # -1 for IN_Q_OVERFLOW
    mask: int
    cookie: int  # pairs IN_MOVED_FROM with its IN_MOVED_TO
    name: str  # the entry in a watched directory; "" for the watched path itself


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.inotify_init1.argtypes = [ctypes.c_int]
    libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    libc.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
    return libc


_LIBC: ctypes.CDLL | None = None


def _calls() -> ctypes.CDLL:
    global _LIBC
    if _LIBC is None:
        _LIBC = _libc()
    return _LIBC


def _os_error(path: str | None = None) -> OSError:
    code = ctypes.get_errno()
    return OSError(code, os.strerror(code), path) if path is not None else OSError(code, os.strerror(code))


class Inotify:
    """One non-blocking, close-on-exec inotify descriptor."""

    def __init__(self) -> None:
        fd = _calls().inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            raise _os_error()
        self.fd: int = fd

    def add_watch(self, path: str, mask: int) -> int:
        """Watch ``path`` for ``mask``; its watch descriptor (the same one
        again for an inode already watched, whose mask is then replaced)."""
        wd = _calls().inotify_add_watch(self.fd, os.fsencode(path), mask)
        if wd < 0:
            raise _os_error(path)
        return wd

    def rm_watch(self, wd: int) -> bool:
        """Stop watch ``wd`` (the kernel then queues IN_IGNORED for it); False if it was gone."""
        return _calls().inotify_rm_watch(self.fd, wd) == 0

    def read(self) -> Iterator[Record]:
        """Every record queued now (none when the queue is empty)."""
        while True:
            try:
                data = os.read(self.fd, _READ_SIZE)
            except BlockingIOError:
                return
            if not data:
                return
            offset = 0
            while offset + _HEADER.size <= len(data):
                wd, mask, cookie, length = _HEADER.unpack_from(data, offset)
                offset += _HEADER.size
                raw = data[offset:offset + length].split(b"\0", 1)[0]
                offset += length
                yield Record(wd, mask, cookie, os.fsdecode(raw))

    def close(self) -> None:
        """Close the descriptor (the kernel drops every watch with it)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
