"""circuits.web: a fast, hardened HTTP/1.1 web framework built on circuits.

``Server(8000) + Root()`` serves a :class:`Controller`; see the manual.
Events: Request, Response, Stream; servers: BaseServer, Server; errors:
HTTPError, Forbidden, NotFound, Redirect, Unauthorized, MethodNotAllowed;
dispatchers: Dispatcher, Static; components: Controller, JSONController,
Logger, Sessions.

Extensions plug in on the "web" channel: a dispatcher answers ``request``
events (returning anything ends the handling), and a protocol upgrade
(WebSocket) answers ``101`` or calls ``HTTP.upgrade(sock)`` to take the
connection over.

The names below are imported from their modules when first used (PEP 562),
not with the package: importing any ``circuits.web.X`` runs this file, and
a server that uses controllers and static files should not also hold the
XML-RPC, JSON-RPC, sessions and virtual-host dispatchers it never uses.
"""

from __future__ import annotations

from circuits.core.lazy import lazy_attributes

#: Each public name and the module that defines it.
_HOMES = {
    "BaseController": ".controllers", "Controller": ".controllers", "JSONController": ".controllers",
    "expose": ".controllers", "exposeJSON": ".controllers",
    "Dispatcher": ".dispatchers.dispatcher", "JSONRPC": ".dispatchers.jsonrpc", "Static": ".dispatchers.static",
    "VirtualHosts": ".dispatchers.virtualhosts", "XMLRPC": ".dispatchers.xmlrpc",
    "Forbidden": ".errors", "HTTPError": ".errors", "MethodNotAllowed": ".errors", "NotFound": ".errors",
    "Redirect": ".errors", "Unauthorized": ".errors",
    "Request": ".events", "Response": ".events", "Stream": ".events", "WebEvent": ".events",
    "request": ".events", "response": ".events", "stream": ".events",
    "HTTP": ".http", "Logger": ".loggers", "BaseServer": ".servers", "Server": ".servers",
    "Sessions": ".sessions", "basic_auth": ".tools", "check_auth": ".tools", "digest_auth": ".tools",
    "gzip": ".tools", "Host": ".wrappers",
}

__all__ = sorted(_HOMES)


__getattr__, __dir__ = lazy_attributes(__name__, _HOMES, globals())
