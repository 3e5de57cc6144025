"""Child processes whose pipes and exit live on the loop.

``Process(args, cwd=None, shell=False, env=None, channel="process")``
spawns the child when it handles ``start`` (event or method) and fires
``started(process)``. What the child prints arrives as ``stdout(data)``
and ``stderr(data)`` events (distinct events, so one handler never has to
guess which stream it got) and is also kept in ``process.stdout`` /
``process.stderr`` (bounded :class:`OutputBuffer`s with ``getvalue()``).
``write(data)`` feeds the child's stdin; ``close()`` (or ``close_stdin``)
closes it after pending writes, so the child sees EOF. When the child
exits, ``terminated(status)`` is fired with its exit status (negative:
killed by that signal, as in :mod:`subprocess`); everything the child wrote
before exiting has been fired as ``stdout``/``stderr`` by then. Spawning
failures are ``error(err)`` events.

The exit is detected without polling: a pidfd (``os.pidfd_open``, Linux
5.3+) becomes readable when the child exits and sits on the loop like any
descriptor. Without pidfds a SIGCHLD handler (installed from the main
thread) wakes the loop; as a last resort a thread waits for the child.

Stopping the application kills a child that is still running (no orphans).
"""

from __future__ import annotations

import os
import signal as signals
import subprocess
import threading
from collections.abc import Generator, Mapping, Sequence
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..core.loop import Loop
from ..core.manager import Manager
from ..core.transport import Transport, TransportOwner
from .events import error, started, terminated

__all__ = ["OutputBuffer", "Process", "start", "stderr", "stdout"]


class start(Event):
    """Spawn the process."""


class stdout(Event):
    """The child wrote to its stdout: args (data,)."""


class stderr(Event):
    """The child wrote to its stderr: args (data,)."""


class close_stdin(Event):
    """Close the child's stdin once pending writes are done."""


class OutputBuffer:
    """The last ``limit`` bytes of a stream; ``dropped`` counts older bytes let go."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.dropped = 0
        self._data = bytearray()

    def append(self, data: bytes) -> None:
        self._data += data
        excess = len(self._data) - self.limit
        if excess > 0:
            del self._data[:excess]
            self.dropped += excess

    def getvalue(self) -> bytes:
        return bytes(self._data)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class Process(BaseComponent, TransportOwner):
    """A child process (see module doc).

    ``exit_watch`` picks how the exit is noticed: ``"auto"`` (pidfd, else
    SIGCHLD, else a thread), ``"pidfd"``, ``"sigchld"`` or ``"thread"``.
    """

    channel: Any = "process"

    def __init__(self, args: str | Sequence[str], cwd: str | None = None, shell: bool = False,
                 env: Mapping[str, str] | None = None, channel: Any = channel, *,
                 max_output: int = 1 << 20, bufsize: int = 65536, max_buffer: int = 4 << 20,
                 exit_watch: str = "auto", kill_on_stop: bool = True) -> None:
        super().__init__(channel=channel)
        if exit_watch not in ("auto", "pidfd", "sigchld", "thread"):
            raise ValueError(f"unknown exit_watch: {exit_watch!r}")
        self.args = args
        self.cwd = cwd
        self.shell = shell
        self.env = env
        self.bufsize = bufsize
        self.max_buffer = max_buffer
        self.max_output = max_output
        self.exit_watch = exit_watch
        self.kill_on_stop = kill_on_stop
        self.popen: subprocess.Popen[bytes] | None = None
        self.stdout = OutputBuffer(max_output)
        self.stderr = OutputBuffer(max_output)
        self._stdin: Transport | None = None
        self._out: dict[Transport, type[Event]] = {}
        self._pidfd: int | None = None
        self._status: int | None = None
        self._exited = threading.Event()

    # -- state -------------------------------------------------------------
    @property
    def status(self) -> int | None:
        """The exit status once ``terminated`` was fired, else None."""
        return self._status

    @property
    def alive(self) -> bool:
        return self.popen is not None and self._status is None

    @property
    def child_pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    def _root_changed(self, old: Manager, new: Manager) -> None:
        for transport in [*self._out, *([self._stdin] if self._stdin else [])]:
            transport.move_to(new.loop)
        if self._pidfd is not None:
            old.loop.discard(self._pidfd)
            new.loop.add_reader(self._pidfd, self._check_exit)
        elif self in _sigchld_watchers:
            _sigchld_watchers[self] = new.loop

    # -- spawning ----------------------------------------------------------
    @handler("start")
    def start(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Spawn the child (overrides Manager.start: a Process is not run in a thread)."""
        if self.alive:
            return
        self.stdout.clear()
        self.stderr.clear()
        self._status = None
        self._exited.clear()
        try:
            popen = subprocess.Popen(self.args, cwd=self.cwd, shell=self.shell, env=self.env, bufsize=0,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except (OSError, ValueError, subprocess.SubprocessError) as e:
            self.fire(error(e))
            return
        self.popen = popen
        loop = self.loop
        assert popen.stdin is not None and popen.stdout is not None and popen.stderr is not None
        for pipe in (popen.stdin, popen.stdout, popen.stderr):
            os.set_blocking(pipe.fileno(), False)
        # The transports close the pipe file objects (not bare fds, which
        # the Popen object would close a second time).
        self._stdin = Transport(loop, popen.stdin, self, max_buffer=self.max_buffer)
        # Reading our end of stdin would only turn the child's exit into an
        # EBADF error; a write to a closed pipe reports EPIPE instead.
        self._stdin.pause_reading()
        self._out = {Transport(loop, popen.stdout, self, bufsize=self.bufsize): stdout,
                     Transport(loop, popen.stderr, self, bufsize=self.bufsize): stderr}
        self._watch_exit(popen.pid)
        self.fire(started(self))

    def _watch_exit(self, pid: int) -> None:
        how = self.exit_watch
        if how in ("auto", "pidfd") and hasattr(os, "pidfd_open"):
            try:
                self._pidfd = os.pidfd_open(pid)
            except OSError:
                if how == "pidfd":
                    raise
            else:
                self.loop.add_reader(self._pidfd, self._check_exit)
                return
        if how in ("auto", "sigchld") and _install_sigchld():
            _sigchld_watchers[self] = self.loop
            self._check_exit()  # it may have exited before the handler was there
            return
        loop = self.loop
        popen = self.popen
        assert popen is not None

        def wait() -> None:
            popen.wait()
            loop.call_soon_threadsafe(self._check_exit)

        threading.Thread(target=wait, name=f"wait-{pid}", daemon=True).start()

    def _check_exit(self) -> None:
        popen = self.popen
        if popen is None or self._status is not None:
            return
        status = popen.poll()
        if status is None:
            return  # SIGCHLD of another child, or a stop/continue
        self._stop_watching()
        # Whatever the child wrote before it exited is in the pipes now:
        # fire it before ``terminated`` so handlers see the whole output.
        for transport in list(self._out):
            _read_available(transport)
        if self._stdin is not None:
            self._stdin.abort("terminated")
        self._status = status
        self._exited.set()
        self.fire(terminated(status))

    def _stop_watching(self) -> None:
        _sigchld_watchers.pop(self, None)
        if self._pidfd is not None:
            self.loop.discard(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None

    # -- transport callbacks --------------------------------------------
    def transport_data(self, transport: Transport, data: bytes) -> None:
        kind = self._out.get(transport)
        if kind is not None:
            (self.stdout if kind is stdout else self.stderr).append(data)
            self.fire(kind(data))

    def transport_error(self, transport: Transport, err: BaseException) -> None:
        self.fire(error(err))

    def transport_closed(self, transport: Transport, reason: str | None) -> None:
        if transport is self._stdin:
            self._stdin = None
        else:
            self._out.pop(transport, None)

    # -- requests ----------------------------------------------------------
    @handler("write")
    def write(self, data: bytes | str) -> None:
        """Write to the child's stdin (queued; never blocks)."""
        if self._stdin is None:
            self.fire(error(BrokenPipeError("the process's stdin is closed")))
            return
        self._stdin.write(data.encode("utf-8") if isinstance(data, str) else data)

    @handler("close", "close_stdin")
    def close(self) -> None:
        """Close the child's stdin once pending writes are written."""
        if self._stdin is not None:
            self._stdin.close()

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the child (a no-op once it has been reaped)."""
        if self._pidfd is not None:
            try:
                signals.pidfd_send_signal(self._pidfd, sig)
            except ProcessLookupError:
                pass  # exited, not reaped yet: nothing to signal
            return
        if self.popen is not None and self._status is None:
            self.popen.send_signal(sig)

    def kill(self) -> None:
        self.signal(signals.SIGKILL)

    def terminate(self) -> None:
        self.signal(signals.SIGTERM)

    def wait(self, event: Any = None, *channels: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        """In a handler, ``status = yield process.wait()`` waits for the exit.

        With an event (name) it is Manager.wait. ``timeout=`` seconds: the
        status is None if the child is still running by then.
        """
        if event is not None:
            return super().wait(event, *channels, **kwargs)
        return self._wait_exit(kwargs.get("timeout"))

    def _wait_exit(self, timeout: float | None) -> Generator[Any, Any, int | None]:
        while self._status is None and self.popen is not None:
            value = yield from Manager.wait(self, "terminated", self.channel, timeout=timeout)
            if isinstance(getattr(value, "value", None), TimeoutError):
                break
        return self._status

    def wait_exit(self, timeout: float | None = None) -> int | None:
        """Block the calling thread (never the loop's) until the exit is reported."""
        self._exited.wait(timeout)
        return self._status

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is not self.root or self.popen is None:
            return
        if self.alive and self.kill_on_stop:
            self.kill()
            try:
                self.popen.wait(timeout=5)  # SIGKILL: the kernel reaps promptly
            except subprocess.TimeoutExpired:
                pass
            self._check_exit()
        for transport in [*self._out, *([self._stdin] if self._stdin else [])]:
            transport.abort("stopped")
        self._stop_watching()


def _read_available(transport: Transport) -> None:
    """Read what a pipe holds right now (stops at EAGAIN, EOF or an error)."""
    while not transport.closed:
        before = transport.bytes_in
        # The transport's own read step, so counters, EOF and errors are
        # handled exactly as on a readiness event.
        transport._on_readable()
        if transport.bytes_in == before:
            return


# -- SIGCHLD fallback -----------------------------------------------------
#: Processes waiting for SIGCHLD, and the loop each one lives on.
_sigchld_watchers: dict[Process, Loop] = {}
_sigchld_installed = False


def _install_sigchld() -> bool:
    """Install the SIGCHLD handler once; False if we may not (not the main thread)."""
    global _sigchld_installed
    if _sigchld_installed:
        return True
    try:
        previous = signals.getsignal(signals.SIGCHLD)

        def on_sigchld(signo: int, frame: Any) -> None:
            # Runs between bytecodes in the main thread: only hand over.
            for process, loop in list(_sigchld_watchers.items()):
                loop.call_soon_threadsafe(process._check_exit)
            if callable(previous):
                previous(signo, frame)

        signals.signal(signals.SIGCHLD, on_sigchld)
    except ValueError:  # signal only works in the main thread
        return False
    _sigchld_installed = True
    return True
