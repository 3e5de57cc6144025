"""HTTP errors as Python exceptions (the werkzeug-style names of 3.x).

Raise one in a controller (``raise NotFound()``) and the client gets that
status with an error page; ``description`` is shown on the page (escaped).
``traceback`` asks for the traceback to be included when the request has
``print_debug`` set; it never is otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

from .constants import HTTP_STATUS_CODES


class HTTPException(Exception):
    """Base class of every HTTP error exception."""

    code: int = 500
    traceback: bool = True
    description: str | None = None

    def __init__(self, description: str | None = None, traceback: bool | None = None) -> None:
        super().__init__(description or self.name)
        if description is not None:
            self.description = description
        if traceback is not None:
            self.traceback = traceback

    @property
    def name(self) -> str:
        """The reason phrase of ``code``."""
        return HTTP_STATUS_CODES.get(self.code, "Unknown Error")

    def __str__(self) -> str:
        return f"{self.code} {self.name}: {self.description or ''}".rstrip(": ")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} '{self}'>"


class BadRequest(HTTPException):
    """*400 Bad Request*: the request cannot be handled as sent."""

    code = 400
    description = "The browser (or proxy) sent a request that this server could not understand."


class UnicodeError(HTTPException):  # noqa: A001 - the documented 3.x name
    """Raised when incoming data cannot be decoded (a 400)."""

    code = 400
    description = "The request could not be decoded."


class Unauthorized(HTTPException):
    """*401 Unauthorized*: the user is not authorized (also used for HTTP auth)."""

    code = 401
    traceback = False
    description = ("The server could not verify that you are authorized to access the URL requested. "
                   "You either supplied the wrong credentials (e.g. a bad password), or your browser "
                   "doesn't understand how to supply the credentials required.")


class Forbidden(HTTPException):
    """*403 Forbidden*: authenticated, but not allowed to access this resource."""

    code = 403
    traceback = False
    description = "You don't have the permission to access the requested resource."


class NotFound(HTTPException):
    """*404 Not Found*: the resource does not exist."""

    code = 404
    traceback = False
    description = "The requested URL was not found on the server."


class MethodNotAllowed(HTTPException):
    """*405 Method Not Allowed*; ``method`` lists the allowed methods (for the Allow header)."""

    code = 405
    traceback = False

    def __init__(self, method: str | Iterable[str] | None = None, description: str | None = None) -> None:
        if method is None:
            self.valid_methods: list[str] = []
        elif isinstance(method, str):
            self.valid_methods = [method]
        else:
            self.valid_methods = list(method)
        self.method = method
        super().__init__(description or "The method is not allowed for the requested URL.")


class NotAcceptable(HTTPException):
    """*406 Not Acceptable*: nothing matches the request's Accept headers."""

    code = 406
    description = "The resource could not generate content acceptable to your browser."


class RequestTimeout(HTTPException):
    """*408 Request Timeout*."""

    code = 408
    description = "The server closed the network connection because the request took too long."


class Conflict(HTTPException):
    """*409 Conflict*."""

    code = 409
    description = "The request conflicts with the current state of the resource."


class Gone(HTTPException):
    """*410 Gone*: the resource existed and went away for good."""

    code = 410
    description = "The requested URL is no longer available on this server."


class LengthRequired(HTTPException):
    """*411 Length Required*: a body was sent without a Content-Length."""

    code = 411
    description = "A request with this method requires a valid Content-Length header."


class PreconditionFailed(HTTPException):
    """*412 Precondition Failed* (If-Match, If-None-Match, If-Unmodified-Since)."""

    code = 412
    traceback = False
    description = "The precondition on the request for the URL failed positive evaluation."


class RequestEntityTooLarge(HTTPException):
    """*413 Content Too Large*: the body exceeds the server's limit."""

    code = 413
    description = "The data value transmitted exceeds the capacity limit."


class RequestURITooLarge(HTTPException):
    """*414 URI Too Long*."""

    code = 414
    description = "The length of the requested URL exceeds the capacity limit for this server."


class UnsupportedMediaType(HTTPException):
    """*415 Unsupported Media Type*."""

    code = 415
    description = "The server does not support the media type transmitted in the request."


class RangeUnsatisfiable(HTTPException):
    """*416 Range Not Satisfiable*."""

    code = 416
    traceback = False
    description = "The requested range cannot be satisfied."


class ExpectationFailed(HTTPException):
    """*417 Expectation Failed*: an Expect value the server does not support."""

    code = 417
    description = "The server could not meet the requirements of the Expect header."


class TooManyRequests(HTTPException):
    """*429 Too Many Requests*."""

    code = 429
    description = "This user has exceeded an allotted request count."


class RequestHeaderFieldsTooLarge(HTTPException):
    """*431 Request Header Fields Too Large*."""

    code = 431
    description = "One or more header fields exceed the maximum size."


class InternalServerError(HTTPException):
    """*500 Internal Server Error*: the fallback for unexpected errors."""

    code = 500
    description = ("The server encountered an internal error and was unable to complete your request. "
                   "Either the server is overloaded or there is an error in the application.")


class NotImplemented(HTTPException):  # noqa: A001 - the documented 3.x name
    """*501 Not Implemented*: the action requested is not supported."""

    code = 501
    description = "The server does not support the action requested by the browser."


class BadGateway(HTTPException):
    """*502 Bad Gateway*: an upstream server sent an invalid response."""

    code = 502
    description = "The proxy server received an invalid response from an upstream server."


class ServiceUnavailable(HTTPException):
    """*503 Service Unavailable*: temporarily unable to serve."""

    code = 503
    description = ("The server is temporarily unable to service your request due to maintenance "
                   "downtime or capacity problems. Please try again later.")


class Redirect(HTTPException):
    """Redirect the client to ``urls`` (the first one) with ``status`` (default 303, or 302 for HTTP/1.0)."""

    code = 303
    traceback = False

    def __init__(self, urls: str | Iterable[str], status: int | None = None) -> None:
        self.urls = [urls] if isinstance(urls, str) else list(urls)
        if status is not None:
            self.code = status
        self.status = status
        super().__init__(f"redirect to {self.urls[0] if self.urls else ''}")


#: Status code -> exception class.
default_exceptions: dict[int, type[HTTPException]] = {}
for _obj in list(globals().values()):
    if isinstance(_obj, type) and issubclass(_obj, HTTPException) and _obj not in (HTTPException, Redirect):
        default_exceptions.setdefault(_obj.code, _obj)
default_exceptions[400] = BadRequest


def abort(status: int, *args: Any, **kwargs: Any) -> NoReturn:
    """Raise the exception for ``status`` (e.g. ``abort(404)``)."""
    cls = default_exceptions.get(status)
    if cls is None:
        raise LookupError(f"no exception for {status}")
    raise cls(*args, **kwargs)
