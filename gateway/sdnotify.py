"""sd_notify(3) without libsystemd: tell systemd we are ready, alive, stopping.

The protocol is one datagram of newline-separated ``KEY=value`` assignments
sent to the AF_UNIX socket named by ``$NOTIFY_SOCKET`` (a path, or an abstract
name written with a leading ``@``).  Outside systemd the variable is unset and
every method is a silent no-op, so the gateway runs the same way from a shell.

Notification is best effort by design: a service must never fail because its
supervisor's socket is full or gone, so send errors are logged once and then
ignored.  The socket is non-blocking for the same reason -- a stalled systemd
must not stall the event loop.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping, MutableMapping
from types import TracebackType
from typing import TypeGuard

__all__ = ["SystemdNotifier"]

log = logging.getLogger(__name__)

_ENV_KEYS = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


class SystemdNotifier:
    """Send service state to systemd (``Type=notify``).

    ``environ`` defaults to ``os.environ``; pass a mapping to test or to use a
    captured environment.  With ``unset_environment=True`` the variables are
    removed from ``environ`` after reading, like sd_notify's flag of the same
    name, so child processes do not inherit them and notify on our behalf.
    """

    def __init__(self, environ: MutableMapping[str, str] | None = None, *,
                 unset_environment: bool = False) -> None:
        env = os.environ if environ is None else environ
        self._address = _address(env.get("NOTIFY_SOCKET", ""))
        self._watchdog_usec = env.get("WATCHDOG_USEC")
        self._watchdog_pid = env.get("WATCHDOG_PID")
        if unset_environment:
            for key in _ENV_KEYS:
                env.pop(key, None)
        self._sock: socket.socket | None = None
        self._warned = False
        self.sent = 0
        self.failed = 0

    # -- state -----------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """True when running under systemd with a notification socket."""
        return self._address is not None

    def watchdog_timeout(self) -> float | None:
        """WatchdogSec in seconds, or None when no watchdog applies to us.

        sd_watchdog_enabled(3) semantics: WATCHDOG_USEC must be a positive
        integer, and when WATCHDOG_PID is set it must be our pid (checked at
        call time, so a forked child correctly sees no watchdog).
        """
        usec = self._watchdog_usec
        if not _is_decimal(usec) or int(usec) == 0:
            return None
        if self._watchdog_pid is not None:
            if not _is_decimal(self._watchdog_pid) or int(self._watchdog_pid) != os.getpid():
                return None
        return int(usec) / 1_000_000

    def watchdog_interval(self) -> float | None:
        """Seconds between :meth:`watchdog` pings, or None for no watchdog.

        Half the timeout, as sd_watchdog_enabled(3) recommends, so one late
        loop pass does not get the service killed.
        """
        timeout = self.watchdog_timeout()
        return None if timeout is None else timeout / 2

    # -- messages --------------------------------------------------------

    def ready(self, status: str | None = None) -> bool:
        """Start-up finished: systemd now considers the unit started."""
        return self.notify({"READY": "1"} if status is None else {"READY": "1", "STATUS": status})

    def stopping(self) -> bool:
        """Shutdown began; systemd will wait up to TimeoutStopSec."""
        return self.notify({"STOPPING": "1"})

    def watchdog(self) -> bool:
        """Keep-alive ping; call every :meth:`watchdog_interval` seconds."""
        return self.notify({"WATCHDOG": "1"})

    def status(self, text: str) -> bool:
        """A one-line status shown by ``systemctl status``."""
        return self.notify({"STATUS": text})

    def notify(self, fields: Mapping[str, str]) -> bool:
        """Send assignments; True if the datagram was handed to the kernel."""
        if self._address is None:
            return False
        # A newline inside a value would start a new assignment (a STATUS
        # could otherwise forge READY=1), so values are kept to one line.
        message = "\n".join(f"{k}={' '.join(str(v).splitlines())}" for k, v in fields.items())
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.setblocking(False)
            self._sock.sendto(message.encode("utf-8"), self._address)
        except OSError as exc:
            self.failed += 1
            self._warn(exc)
            return False
        self.sent += 1
        return True

    def _warn(self, exc: OSError) -> None:
        # Once at warning level: a broken socket would otherwise log on
        # every watchdog ping for the life of the process.
        if self._warned:
            log.debug("sd_notify failed again: %s", exc)
            return
        self._warned = True
        log.warning("sd_notify to %r failed: %s (further failures logged at debug level)",
                    self._address, exc)

    # -- lifetime --------------------------------------------------------

    def statistics(self) -> dict[str, object]:
        return {"enabled": self.enabled, "sent": self.sent, "failed": self.failed,
                "watchdog_interval": self.watchdog_interval()}

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> SystemdNotifier:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _address(value: str) -> bytes | None:
    """The sendto() address for $NOTIFY_SOCKET, or None when unusable."""
    if value.startswith("/"):
        return os.fsencode(value)
    if value.startswith("@") and len(value) > 1:
        # Linux abstract namespace: a leading NUL instead of a path.
        return b"\0" + os.fsencode(value[1:])
    if value:
        # e.g. "vsock:..." (systemd 253+ in VMs), which AF_UNIX cannot reach.
        log.warning("NOTIFY_SOCKET %r is not an AF_UNIX socket; systemd notifications disabled", value)
    return None


def _is_decimal(value: str | None) -> TypeGuard[str]:
    # isascii: str.isdigit() also accepts digits like "²" that int() rejects.
    return value is not None and value.isascii() and value.isdigit()
