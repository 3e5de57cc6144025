"""I/O components: File, Serial, Notify, Process, StdIn/StdOut/StdErr.

Importing this package has no side effects: no descriptor is opened or
changed and nothing is printed. ``circuits.io.stdin``, ``stdout`` and
``stderr`` (2.x/3.x module attributes) are built on first access, by the
module ``__getattr__`` below (see circuits.io.stdio).
"""

from __future__ import annotations

from .events import (
    Close,
    Closed,
    Open,
    Opened,
    Read,
    Seek,
    Write,
    accessed,
    close,
    closed,
    created,
    deleted,
    eof,
    error,
    modified,
    moved,
    open,
    opened,
    overflow,
    read,
    ready,
    seek,
    started,
    stopped,
    terminated,
    unmounted,
    write,
)
from .file import File
from .notify import Notify
from .process import Process
from .serial import Serial
from .stdio import StdErr, StdIn, StdOut, standard_stream

__all__ = [
    "Close", "Closed", "File", "Notify", "Open", "Opened", "Process", "Read", "Seek", "Serial",
    "StdErr", "StdIn", "StdOut", "Write", "accessed", "close", "closed", "created", "deleted", "eof",
    "error", "modified", "moved", "open", "opened", "overflow", "read", "ready", "seek", "started",
    "stopped", "terminated", "unmounted", "write",
]


def __getattr__(name: str) -> File:
    if name in ("stdin", "stdout", "stderr"):
        return standard_stream(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
