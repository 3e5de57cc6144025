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

``start()`` may be called from any thread (3.x tests and code call it from
outside a running loop's thread): the child is spawned at once, and its
pipes join the loop in the loop's own thread, on its next pass; writes
made in between are kept and sent then.

For circuits 3.x code the pipes are also child components, ``_stdin``,
``_stdout`` and ``_stderr``, on the channels ``"<pid>.stdin"`` ... :
``write(data)``/``close()`` fired there go to the child's stdin, and the
output pipes fire ``read(data)``, ``eof()`` and ``closed()`` there.
``_terminated``, ``_stdout_closed`` and ``_stderr_closed`` say how far
the child got, and ``stop()`` terminates the child (3.x), it does not
stop the application.
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
from ..core.transport import Transport
from ..core.transport_owner import TransportOwner
from .events import closed, eof, error, read, started, terminated

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


class PipeChannel(BaseComponent):
    """One of a Process's pipes as a component on its own channel (3.x compatibility)."""

    def __init__(self, process: Process, stream: str, channel: Any) -> None:
        super().__init__(channel=channel)
        self.process = process
        self.stream = stream
        self.closed = False

    @handler("write")
    def _on_write(self, data: bytes | str) -> None:
        if self.stream == "stdin":
            self.process.write(data)

    @handler("close")
    def _on_close(self) -> None:
        if self.stream == "stdin":
            self.process.close()


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
        self._stdin_transport: Transport | None = None
        self._out: dict[Transport, type[Event]] = {}
        self._pidfd: int | None = None
        self._status: int | None = None
        self._exited = threading.Event()
        #: Writes (and a close) asked for before the pipes joined the loop.
        self._early: list[bytes] | None = None
        self._close_early = False
        #: The pipes as components, for 3.x code (see module doc).
        self._stdin: PipeChannel | None = None
        self._stdout: PipeChannel | None = None
        self._stderr: PipeChannel | None = None
        self._pipes: dict[Transport, PipeChannel] = {}

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

    @property
    def _terminated(self) -> bool:
        return self._status is not None

    @property
    def _stdout_closed(self) -> bool:
        return self._stdout is not None and self._stdout.closed

    @property
    def _stderr_closed(self) -> bool:
        return self._stderr is not None and self._stderr.closed

    def _root_changed(self, old: Manager, new: Manager) -> None:
        for transport in [*self._out, *([self._stdin_transport] if self._stdin_transport else [])]:
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
        for pipe in (self._stdin, self._stdout, self._stderr):
            if pipe is not None:
                pipe.unregister()  # the previous run's pipe components
        self._stdin = self._stdout = self._stderr = None
        self._status = None
        self._exited.clear()
        try:
            popen = subprocess.Popen(self.args, cwd=self.cwd, shell=self.shell, env=self.env, bufsize=0,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except (OSError, ValueError, subprocess.SubprocessError) as e:
            self.fire(error(e))
            return
        self.popen = popen
        self._early = []
        self._close_early = False
        # The loop's thread attaches the pipes (see module doc).
        self.loop.call_soon_threadsafe(lambda: self._attach(popen))

    def _attach(self, popen: subprocess.Popen[bytes]) -> None:
        if popen is not self.popen or self._early is None:
            _close_pipes(popen)  # started again, or already reaped: nobody reads these
            return
        loop = self.loop
        assert popen.stdin is not None and popen.stdout is not None and popen.stderr is not None
        for pipe in (popen.stdin, popen.stdout, popen.stderr):
            os.set_blocking(pipe.fileno(), False)
        # The transports close the pipe file objects (not bare fds, which
        # the Popen object would close a second time).
        self._stdin_transport = stdin = Transport(loop, popen.stdin, self, max_buffer=self.max_buffer)
        # Reading our end of stdin would only turn the child's exit into an
        # EBADF error; a write to a closed pipe reports EPIPE instead.
        stdin.pause_reading()
        out = Transport(loop, popen.stdout, self, bufsize=self.bufsize)
        err = Transport(loop, popen.stderr, self, bufsize=self.bufsize)
        self._out = {out: stdout, err: stderr}
        self._stdin, self._stdout, self._stderr = (
            PipeChannel(self, name, f"{popen.pid}.{name}").register(self) for name in ("stdin", "stdout", "stderr"))
        self._pipes = {out: self._stdout, err: self._stderr}
        early, self._early = self._early, None
        for data in early:
            stdin.write(data)
        if self._close_early:
            stdin.close()
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
        if self._stdin_transport is not None:
            self._stdin_transport.abort("terminated")
        if self._early is not None:  # reaped before its pipes joined the loop
            self._early = None
            _close_pipes(popen)
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
            pipe = self._pipes.get(transport)
            if pipe is not None:
                pipe.fire(read(data))

    def transport_eof(self, transport: Transport) -> None:
        pipe = self._pipes.get(transport)
        if pipe is not None:
            pipe.fire(eof())

    def transport_error(self, transport: Transport, err: BaseException) -> None:
        self.fire(error(err))

    def transport_closed(self, transport: Transport, reason: str | None) -> None:
        if transport is self._stdin_transport:
            self._stdin_transport = None
            return
        self._out.pop(transport, None)
        pipe = self._pipes.pop(transport, None)
        if pipe is not None:
            pipe.closed = True
            pipe.fire(closed())

    # -- requests ----------------------------------------------------------
    @handler("write")
    def write(self, data: bytes | str) -> None:
        """Write to the child's stdin (queued; never blocks)."""
        data = data.encode("utf-8") if isinstance(data, str) else data
        if self._early is not None and not self._close_early:
            self._early.append(data)  # the pipes join the loop on its next pass
            return
        if self._stdin_transport is None:
            self.fire(error(BrokenPipeError("the process's stdin is closed")))
            return
        self._stdin_transport.write(data)

    @handler("close", "close_stdin")
    def close(self) -> None:
        """Close the child's stdin once pending writes are written."""
        if self._early is not None:
            self._close_early = True
        elif self._stdin_transport is not None:
            self._stdin_transport.close()

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

    def stop(self, code: Any = None) -> None:  # type: ignore[override]
        """Terminate the child (3.x: a Process's stop() is about the child, not the app)."""
        self.terminate()

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
            try:
                yield from Manager.wait(self, "terminated", self.channel, timeout=timeout)
            except TimeoutError:  # still running: the status stays None
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
        for transport in [*self._out, *([self._stdin_transport] if self._stdin_transport else [])]:
            transport.abort("stopped")
        self._stop_watching()


def _close_pipes(popen: subprocess.Popen[bytes]) -> None:
    for pipe in (popen.stdin, popen.stdout, popen.stderr):
        if pipe is not None:
            pipe.close()


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
