"""WebSockets for circuits.web (RFC 6455): a client and a server-side dispatcher.

Both are thin adapters binding the sans-I/O codec
``circuits.protocols.websocket`` to circuits.net transports; the shared
protocol logic (keepalive, closing handshake, limits) is
:class:`~.endpoint.WebSocketEndpoint`.

The names are imported from their modules when first used (PEP 562): a
server's dispatcher does not load the client side.
"""

from __future__ import annotations

from circuits.core.lazy import lazy_attributes

_HOMES = {"DEFAULT_MAX_MESSAGE": ".endpoint", "WebSocketClient": ".client", "WebSocketEndpoint": ".endpoint",
          "WebSocketsDispatcher": ".dispatcher", "not_connected": ".events"}

__all__ = sorted(_HOMES)


__getattr__, __dir__ = lazy_attributes(__name__, _HOMES, globals())
