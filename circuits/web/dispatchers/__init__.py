"""Dispatchers: components that answer ``request`` events.

Each is imported from its module when first used (PEP 562): a server with
a Dispatcher and Static files does not hold the XML-RPC client library.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {"Dispatcher": ".dispatcher", "JSONRPC": ".jsonrpc", "Static": ".static", "VirtualHosts": ".virtualhosts",
          "WebSockets": ".websockets", "XMLRPC": ".xmlrpc"}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
