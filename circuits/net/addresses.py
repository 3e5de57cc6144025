"""The flexible ``bind`` parameter: 8000, ("host", 8000), "host:8000", "/path";
and what every socket component shares (the default read size, stale registrations)."""

from __future__ import annotations

import os
import socket
from typing import Any

Address = tuple[str, int] | str

#: The default read size of stream clients and servers (3.x code imports
#: it from circuits.net.sockets).
BUFSIZE = 4096


def parse_bind(bind: Any, family: int = socket.AF_INET) -> Address:
    """Normalise a bind parameter for ``family``.

    An int is a port on all interfaces; a "host:port" string or a
    (host, port) tuple is taken as is ("[::1]:80" for IPv6); for AF_UNIX a
    string is a path.
    """
    if family == socket.AF_UNIX:
        if not isinstance(bind, (str, os.PathLike)):
            raise ValueError(f"a UNIX socket needs a path, not {bind!r}")
        return os.fspath(bind)
    any_host = "::" if family == socket.AF_INET6 else "0.0.0.0"
    if bind is None:
        return (any_host, 0)
    if isinstance(bind, int) and not isinstance(bind, bool):
        return (any_host, bind)
    if isinstance(bind, (tuple, list)):
        host, port = bind[0], int(bind[1])
        return (host or any_host, port)
    if isinstance(bind, str):
        return split_host_port(bind, any_host)
    raise ValueError(f"cannot bind to {bind!r}")


def split_host_port(text: str, default_host: str = "0.0.0.0") -> tuple[str, int]:
    """'host:port', '[v6]:port', ':port' or 'port' -> (host, port)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
    elif text.count(":") == 1:
        host, port = text.split(":")
    elif text.isdigit():
        host, port = "", text
    else:
        raise ValueError(f"expected host:port, got {text!r}")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"bad port in {text!r}")
    return (host or default_host, int(port))


def family_of(host: str) -> int:
    """AF_INET6 for an IPv6 literal, else AF_INET."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def forget_stale(loop: Any, sock: Any) -> None:
    """Drop whatever the loop still has registered under a brand-new socket's number.

    A descriptor number is reused as soon as it is closed. If its previous
    owner closed it without telling the loop (3.x code closes ``_sock``
    itself), epoll dropped it but the loop still holds the old callbacks:
    the new socket would be "modified" (ENOENT) and the old callbacks
    called for it. A socket we just made cannot legitimately be watched
    already, so any registration under its number is stale.
    """
    loop.discard(sock)
