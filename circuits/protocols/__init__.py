"""Protocols: sans-I/O parsers and the thin components that bind them to transports.

``Line`` and ``IRC`` are importable from here, as in circuits 3.x.
"""

from .irc import IRC
from .line import LP, Line

__all__ = ["IRC", "LP", "Line"]
