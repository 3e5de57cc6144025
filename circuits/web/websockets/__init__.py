"""WebSockets for circuits.web (RFC 6455): a client and a server-side dispatcher.

Both are thin adapters binding the sans-I/O codec
``circuits.protocols.websocket`` to circuits.net transports; the shared
protocol logic (keepalive, closing handshake, limits) is
:class:`~.endpoint.WebSocketEndpoint`.
"""

from .client import WebSocketClient
from .dispatcher import WebSocketsDispatcher
from .endpoint import DEFAULT_MAX_MESSAGE, WebSocketEndpoint
from .events import not_connected

__all__ = ["DEFAULT_MAX_MESSAGE", "WebSocketClient", "WebSocketEndpoint", "WebSocketsDispatcher", "not_connected"]
