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
"""

from .controllers import BaseController, Controller, JSONController, expose, exposeJSON
from .dispatchers import JSONRPC, XMLRPC, Dispatcher, Static, VirtualHosts
from .errors import Forbidden, HTTPError, MethodNotAllowed, NotFound, Redirect, Unauthorized
from .events import Request, Response, Stream, WebEvent, request, response, stream
from .http import HTTP
from .loggers import Logger
from .servers import BaseServer, Server
from .sessions import Sessions
from .tools import basic_auth, check_auth, digest_auth, gzip
from .wrappers import Host

__all__ = [
    "BaseController", "BaseServer", "Controller", "Dispatcher", "Forbidden", "HTTP", "HTTPError", "Host",
    "JSONController", "Logger", "MethodNotAllowed", "NotFound", "Redirect", "Request", "Response", "Server",
    "Sessions", "Static", "Stream", "Unauthorized", "WebEvent", "basic_auth", "check_auth", "digest_auth",
    "expose", "exposeJSON", "gzip", "request", "response", "stream",
    "JSONRPC", "XMLRPC", "VirtualHosts",
]
