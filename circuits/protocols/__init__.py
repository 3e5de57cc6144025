"""Protocols: sans-I/O parsers and the thin components that bind them to transports.

``Line`` and ``IRC`` are importable from here, as in circuits 3.x. They are
imported when first asked for, not with the package: importing any
``circuits.protocols.X`` runs this file first, and a program that needs
only a line splitter or the Modbus codec should not hold an IRC client.
"""

from __future__ import annotations

from typing import Any

__all__ = ["IRC", "LP", "Line"]


def __getattr__(name: str) -> Any:
    if name == "IRC":
        from .irc import IRC

        return IRC
    if name in ("LP", "Line"):
        from . import line

        return getattr(line, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
