"""Pipe(): two connected UNIXClients, one on each end of a socketpair."""

from __future__ import annotations

import socket
from typing import Any

from .client import UNIXClient


def Pipe(*channels: Any, **kwargs: Any) -> tuple[UNIXClient, UNIXClient]:  # noqa: N802 (documented name)
    """A full-duplex pipe: what one end writes the other reads."""
    names = list(channels) + [None] * (2 - len(channels))
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    ends = []
    for sock, channel in zip((a, b), names[:2], strict=True):
        end = UNIXClient(channel=channel or "pipe", **kwargs)
        end.adopt(sock)
        ends.append(end)
    return ends[0], ends[1]
