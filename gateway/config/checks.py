"""What ``gateway check`` says beyond validation: risky but valid settings
(warnings, exit 0) and a ``state_dir`` the gateway could not use (an error).

These look at the machine (the file system) or judge a combination of keys,
so they are not part of :mod:`gateway.config.validate`, which only reads
the file.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from .model import GatewayConfig

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True when ``host`` (a listen host) is reachable from this machine only."""
    if host.lower().rstrip(".") in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # "" (every interface) or a name that may resolve to anything


def config_warnings(config: GatewayConfig) -> list[str]:
    """Valid settings that are probably a mistake, one line each."""
    warnings: list[str] = []
    web = config.web
    if web is not None and web.users and web.certfile is None and not is_loopback(web.host):
        warnings.append(f"[web] listens on {web.listen} (not loopback) with [web.users] but no certfile: "
                        "passwords and session data cross the network in clear text; set certfile "
                        "(HTTPS) or listen on 127.0.0.1")
    return warnings


def state_dir_problems(state_dir: Path) -> tuple[list[str], list[str]]:
    """(errors, warnings) about ``state_dir``: the gateway creates it (with parents) and writes there."""
    existing = state_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        what = "is not a directory" if existing == state_dir else f"cannot be created: {existing} is not a directory"
        return [f"state_dir {state_dir} {what}"], []
    try:
        read_only = bool(os.statvfs(existing).f_flag & os.ST_RDONLY)
    except OSError as exc:
        return [f"state_dir {state_dir}: {exc.strerror or exc}"], []
    if read_only:
        return [f"state_dir {state_dir} is on a read-only file system"], []
    if not os.access(existing, os.W_OK | os.X_OK):
        # The service may run as another user (systemd's StateDirectory=
        # makes it theirs): a warning, not a failure, for whoever checks.
        verb = "writable" if existing == state_dir else f"creatable ({existing} is not writable)"
        return [], [f"state_dir {state_dir} is not {verb} by uid {os.getuid()}: fine if the service "
                    "runs as its owner, else the gateway cannot start"]
    return [], []
