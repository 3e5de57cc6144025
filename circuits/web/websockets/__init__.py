"""WebSockets for circuits.web (RFC 6455): a client and a server-side dispatcher.

Both are thin adapters binding the sans-I/O codec
``circuits.protocols.websocket`` to circuits.net transports; the shared
protocol logic (keepalive, closing handshake, limits) is
:class:`~.endpoint.WebSocketEndpoint`.

The names are imported from their modules when first used (PEP 562): a
server's dispatcher does not load the client side.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {"DEFAULT_MAX_MESSAGE": ".endpoint", "WebSocketClient": ".client", "WebSocketEndpoint": ".endpoint",
          "WebSocketsDispatcher": ".dispatcher", "not_connected": ".events"}

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
