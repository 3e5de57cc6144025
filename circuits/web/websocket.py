"""The 2.x/3.x module name of the WebSocket client (``circuits.web.websocket``)."""

from .websockets.client import WebSocketClient

__all__ = ["WebSocketClient"]
