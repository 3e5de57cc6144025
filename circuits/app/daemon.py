"""Daemon: turn the running application into a classic Unix daemon.

For init systems that expect a program to fork into the background (SysV
init scripts, ``start-stop-daemon``). Under systemd do not use it: run in
the foreground (``Type=simple`` or ``Type=notify``) and let systemd keep
the pid and the logs.

The steps (Stevens, "Advanced Programming in the UNIX Environment",
section 13.3): fork and let the parent exit, so the shell gets its prompt
back and the child is not a process group leader; ``setsid()`` to leave
the controlling terminal; fork again, so the daemon is not a session
leader and can never acquire a terminal again; ``chdir`` to ``path`` so no
file system is kept busy; point stdin/stdout/stderr at the given files (or
/dev/null); then write the pid file.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler

__all__ = ["Daemon", "Daemonize", "WritePID", "daemonize", "write_pid"]


class daemonize(Event):
    """Go into the background now (fired by Daemon when the app starts)."""


class write_pid(Event):
    """Write the current pid to the Daemon's pid file."""


class daemonized(Event):
    """The process is now the daemon: (pid,)."""


Daemonize = daemonize
WritePID = write_pid


class Daemon(BaseComponent):
    """Daemonize the application when it starts (see module doc).

    ``pidfile`` is written after the second fork and removed when the
    application stops. ``stdin``, ``stdout`` and ``stderr`` are file names
    (default /dev/null); stdout and stderr are opened for appending.
    """

    channel: Any = "daemon"

    def __init__(self, pidfile: str, path: str = "/", stdin: str | None = None, stdout: str | None = None,
                 stderr: str | None = None, channel: Any = channel) -> None:
        super().__init__(channel=channel)
        self.pidfile = os.path.abspath(pidfile)
        self.path = path
        self.stdin = stdin or os.devnull
        self.stdout = stdout or os.devnull
        self.stderr = stderr or os.devnull
        self.daemonized = False
        self._wrote_pid: int | None = None

    @handler("registered", channel="*")
    def _on_registered(self, component: Any, manager: Any) -> None:
        # Registered into an application that already runs: go now (2.1 fix).
        if component is self and self.root.running:
            self.fire(daemonize())

    @handler("started", channel="*")
    def _on_started(self, manager: Any) -> None:
        if manager is self.root and not self.daemonized:
            self.fire(daemonize())

    @handler("daemonize")
    def _on_daemonize(self) -> None:
        if self.daemonized:
            return
        _fork_and_exit_parent()
        os.setsid()
        _fork_and_exit_parent()
        os.chdir(self.path)
        self._redirect()
        self.daemonized = True
        self.fire(write_pid())
        self.fire(daemonized(os.getpid()))

    def _redirect(self) -> None:
        """Point fds 0, 1 and 2 at the configured files (flushing Python's buffers first)."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        targets = ((0, self.stdin, os.O_RDONLY),
                   (1, self.stdout, os.O_WRONLY | os.O_CREAT | os.O_APPEND),
                   (2, self.stderr, os.O_WRONLY | os.O_CREAT | os.O_APPEND))
        for fd, name, flags in targets:
            new = os.open(name, flags, 0o644)
            if new != fd:
                os.dup2(new, fd)
                os.close(new)

    @handler("write_pid")
    def _on_write_pid(self) -> None:
        pid = os.getpid()
        # Written to a temporary name, then renamed: a reader never sees half a pid.
        tmp = f"{self.pidfile}.{pid}.tmp"
        with open(tmp, "w") as f:
            f.write(f"{pid}\n")
        os.replace(tmp, self.pidfile)
        self._wrote_pid = pid

    @handler("stopped", channel="*")
    def _on_stopped(self, manager: Any) -> None:
        # Only the process that wrote it removes it (a forked worker must not).
        if manager is self.root and self._wrote_pid == os.getpid():
            try:
                os.unlink(self.pidfile)
            except FileNotFoundError:
                pass
            self._wrote_pid = None


def _fork_and_exit_parent() -> None:
    if os.fork() > 0:
        # os._exit: the parent's atexit handlers and buffers belong to the child now.
        os._exit(0)
