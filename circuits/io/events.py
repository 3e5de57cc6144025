"""I/O events (files, serial ports, processes, file-system notifications)."""

from __future__ import annotations

from ..core.events import Event


class open(Event):  # noqa: A001 (documented event name)
    """Ask a component to open (its device, file, ...)."""


class opened(Event):
    """A device or file was opened: args say which (e.g. filename, mode)."""


class close(Event):
    """Ask a component to close (after pending writes are done)."""


class closed(Event):
    """A device or file was closed; the argument (if any) is the reason."""


class read(Event):
    """Data was read: args (data,)."""


class write(Event):
    """Write data: args (data,)."""


class seek(Event):
    """Move a file's position: args (offset, whence=0)."""


class eof(Event):
    """The end of a file (or stream) was reached."""


class error(Event):
    """Something failed: args (error,)."""


class ready(Event):
    """A component is ready: args (component,)."""


class started(Event):
    """A process started: args (process component,)."""


class stopped(Event):
    """A process stopped."""


class terminated(Event):
    """A process exited: args (exit status,)."""


# File-system notifications (circuits.io.notify): args (name, path, pathname, dir).
class accessed(Event):
    """A file was read."""


class created(Event):
    """A file or directory was created."""


class deleted(Event):
    """A file or directory was deleted."""


class modified(Event):
    """A file was written."""


class moved(Event):
    """A file or directory was moved (from or to a watched directory)."""


class unmounted(Event):
    """The file system of a watched path was unmounted."""


class overflow(Event):
    """The kernel's notification queue overflowed: events were lost, rescan."""


# 2.x names.
Open = open
Opened = opened
Close = close
Closed = closed
Read = read
Write = write
Seek = seek
