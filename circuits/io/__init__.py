"""I/O components: File, Serial, Notify, Process, StdIn/StdOut/StdErr.

Importing this package has no side effects: no descriptor is opened or
changed and nothing is printed. ``circuits.io.stdin``, ``stdout`` and
``stderr`` (2.x/3.x module attributes) are built on first access, by the
module ``__getattr__`` below (see circuits.io.stdio).

The components are imported from their modules when first used (PEP 562),
not with the package: importing ``circuits.io.serial`` runs this file, and
a program that opens a serial port should not also hold subprocess (Process),
ctypes for inotify (Notify) and the File machinery it never uses
(footprint, issue 15). The events are small and shared, so they stay eager.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from circuits.core.lazy import lazy_attributes

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

if TYPE_CHECKING:
    from .file import File
    from .notify import Notify
    from .process import Process
    from .serial import Serial
    from .stdio import StdErr, StdIn, StdOut

#: Each lazily imported public name and the module that defines it.
_HOMES = {
    "File": ".file", "Notify": ".notify", "Process": ".process", "Serial": ".serial",
    "StdErr": ".stdio", "StdIn": ".stdio", "StdOut": ".stdio",
}

__all__ = [
    "Close", "Closed", "File", "Notify", "Open", "Opened", "Process", "Read", "Seek", "Serial",
    "StdErr", "StdIn", "StdOut", "Write", "accessed", "close", "closed", "created", "deleted", "eof",
    "error", "modified", "moved", "open", "opened", "overflow", "read", "ready", "seek", "started",
    "stopped", "terminated", "unmounted", "write",
]


_component, __dir__ = lazy_attributes(__name__, _HOMES, globals())


def __getattr__(name: str) -> Any:
    if name in ("stdin", "stdout", "stderr"):
        # Not cached here: standard_stream keeps the one File per stream.
        from .stdio import standard_stream

        return standard_stream(name)
    return _component(name)
