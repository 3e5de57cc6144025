"""``gateway reload``: signal the running gateway and wait for what its reload did.

The pid comes from ``--pid``, ``$MAINPID`` (set by systemd for ExecReload=)
or the ``gateway.pid`` file the gateway writes in its state directory. The
outcome is the ``reload.json`` the gateway writes there after each reload
(:mod:`gateway.reloader`): it carries the gateway's pid and a count of its
reloads, so an older file (from before the signal, or from a previous run)
is never taken for the answer.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from .reloader import PID_FILE, RESULT_FILE

__all__ = ["ReloadRequestError", "request_reload"]

#: Seconds between looks at reload.json while waiting (a reload takes milliseconds).
POLL = 0.05


class ReloadRequestError(Exception):
    """No gateway to signal, no permission, or no answer in time."""

    def __init__(self, message: str, exit_code: int = 69) -> None:
        super().__init__(message)
        #: sysexits.h: 69 EX_UNAVAILABLE, 77 EX_NOPERM, 75 EX_TEMPFAIL.
        self.exit_code = exit_code


def find_pid(state_dir: Path, pid: int | None = None) -> int:
    """The running gateway's pid (see module doc); ReloadRequestError if there is none."""
    if pid is not None:
        return pid
    main = os.environ.get("MAINPID", "")
    if main.isdigit() and int(main) > 0:
        return int(main)
    pid_file = state_dir / PID_FILE
    try:
        text = pid_file.read_text().strip()
    except FileNotFoundError:
        raise ReloadRequestError(f"no running gateway: no $MAINPID and no {pid_file}") from None
    except OSError as exc:
        raise ReloadRequestError(f"cannot read {pid_file}: {exc.strerror}", 77) from None
    if not text.isdigit():
        raise ReloadRequestError(f"{pid_file} holds no pid: {text[:40]!r}")
    found = int(text)
    # A pid file outlives a SIGKILL: never signal whatever now has that pid.
    try:
        cmdline = Path(f"/proc/{found}/cmdline").read_bytes()
    except OSError:
        raise ReloadRequestError(f"no running gateway: pid {found} (from {pid_file}) is gone") from None
    if b"gateway" not in cmdline:
        raise ReloadRequestError(f"pid {found} (from {pid_file}) is not a gateway: a stale pid file")
    return found


def _result(state_dir: Path) -> dict[str, Any] | None:
    try:
        value = json.loads((state_dir / RESULT_FILE).read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def request_reload(state_dir: Path, pid: int | None = None, *, timeout: float = 30.0) -> dict[str, Any]:
    """SIGHUP the gateway and return its ``reload.json`` for this reload."""
    target = find_pid(state_dir, pid)
    before = _result(state_dir)
    seen = before.get("reload", 0) if before is not None and before.get("pid") == target else 0
    try:
        os.kill(target, signal.SIGHUP)
    except ProcessLookupError:
        raise ReloadRequestError(f"no running gateway: pid {target} is gone") from None
    except PermissionError:
        raise ReloadRequestError(f"not allowed to signal pid {target} (run as root or the service user)",
                                 77) from None
    deadline = time.monotonic() + timeout
    while True:
        now = _result(state_dir)
        if now is not None and now.get("pid") == target and isinstance(now.get("reload"), int) \
                and now["reload"] > seen:
            return now
        if time.monotonic() >= deadline:
            raise ReloadRequestError(f"signalled pid {target}, but no reload result in {state_dir / RESULT_FILE} "
                                     f"within {timeout:g} s (see the gateway's log)", 75)
        time.sleep(POLL)
