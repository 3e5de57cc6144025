"""StdIn, StdOut and StdErr: the process's standard streams as File components.

Nothing happens on import. The module attributes ``stdin``, ``stdout`` and
``stderr`` (also reachable as ``circuits.io.stdin`` ...) are built on first
access by the module ``__getattr__`` (PEP 562), once per process; even then
the descriptor is only touched when the component's ``open`` event is
handled, i.e. once it joined a running tree.

Each component works on a duplicate of fd 0/1/2 (closing it leaves the
real stream open). A pipe or tty is switched to non-blocking mode while
the component has it open, and that flag is shared with everything else
writing to the same stream (``print`` may then raise BlockingIOError on a
full pipe); closing the component restores it. Redirected regular files
are read in chunks and written directly (see circuits.io.file).
"""

from __future__ import annotations

import threading
from typing import Any

from .file import File

__all__ = ["StdErr", "StdIn", "StdOut", "standard_stream"]


class StdIn(File):
    """Reads fd 0: ``read(data)`` on channel ``"stdin"``; ``eof()`` at the end.

    ``data`` is bytes (as in circuits 3.x), or str when an ``encoding`` is given.
    """

    channel: Any = "stdin"

    def __init__(self, channel: Any = channel, encoding: str | None = None, binary: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(0, "rb" if binary else "r", encoding=encoding, channel=channel, **kwargs)

    @property
    def path(self) -> str:
        return "<stdin>"


class StdOut(File):
    """Writes fd 1: fire ``write(data)`` on channel ``"stdout"``."""

    channel: Any = "stdout"
    fd = 1

    def __init__(self, channel: Any = None, encoding: str | None = None, **kwargs: Any) -> None:
        # The default is the class's channel, so StdErr gets "stderr".
        super().__init__(self.fd, "w", encoding=encoding, channel=channel or type(self).channel, **kwargs)

    @property
    def path(self) -> str:
        return "<stdout>"


class StdErr(StdOut):
    """Writes fd 2: fire ``write(data)`` on channel ``"stderr"``."""

    channel: Any = "stderr"
    fd = 2

    @property
    def path(self) -> str:
        return "<stderr>"


_FACTORIES: dict[str, type[File]] = {"stdin": StdIn, "stdout": StdOut, "stderr": StdErr}
_streams: dict[str, File] = {}
_lock = threading.Lock()


def standard_stream(name: str) -> File:
    """The process-wide ``stdin``/``stdout``/``stderr`` component, built once."""
    with _lock:
        stream = _streams.get(name)
        if stream is None:
            stream = _streams[name] = _FACTORIES[name]()
        return stream


def __getattr__(name: str) -> File:
    if name in _FACTORIES:
        return standard_stream(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
