"""Pipe(): two connected UNIXClients, one on each end of a socketpair."""

from __future__ import annotations

import socket
from typing import Any

from .client import UNIXClient

#: The channels of the two ends when none are given (as in circuits 3.x).
DEFAULT_CHANNELS = ("a", "b")


def Pipe(*channels: Any, **kwargs: Any) -> tuple[UNIXClient, UNIXClient]:  # noqa: N802 (documented name)
    """A full-duplex pipe: what one end writes the other reads.

    ``channels`` name the two ends (default "a" and "b"); each end is a
    connected UNIXClient (``write(data)`` in, ``read(data)`` out, and
    ``disconnected`` when the other end closes).
    """
    if len(channels) > 2:
        raise TypeError(f"Pipe() takes at most 2 channels ({len(channels)} given)")
    names = channels + DEFAULT_CHANNELS[len(channels):]
    if names[0] == names[1]:
        raise ValueError(f"the two ends of a Pipe need different channels, not {names[0]!r} twice")
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    ends = []
    for sock, channel in zip((a, b), names, strict=True):
        end = UNIXClient(channel=channel, **kwargs)
        end.adopt(sock)
        ends.append(end)
    return ends[0], ends[1]
