"""Dispatchers: components that answer ``request`` events."""

from .dispatcher import Dispatcher
from .jsonrpc import JSONRPC
from .static import Static
from .virtualhosts import VirtualHosts
from .websockets import WebSockets
from .xmlrpc import XMLRPC

__all__ = ["JSONRPC", "XMLRPC", "Dispatcher", "Static", "VirtualHosts", "WebSockets"]
