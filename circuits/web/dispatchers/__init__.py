"""Dispatchers: components that answer ``request`` events.

Each is imported from its module when first used (PEP 562): a server with
a Dispatcher and Static files does not hold the XML-RPC client library.
"""

from __future__ import annotations

from circuits.core.lazy import lazy_attributes

_HOMES = {"Dispatcher": ".dispatcher", "JSONRPC": ".jsonrpc", "Static": ".static", "VirtualHosts": ".virtualhosts",
          "WebSockets": ".websockets", "XMLRPC": ".xmlrpc"}

__all__ = sorted(_HOMES)


__getattr__, __dir__ = lazy_attributes(__name__, _HOMES, globals())
