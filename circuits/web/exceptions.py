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
    description = "The server could not make sense of this request. Check its syntax and send it again."


class UnicodeError(HTTPException):  # noqa: A001 - the documented 3.x name
    """Raised when incoming data cannot be decoded (a 400)."""

    code = 400
    description = ("Part of the request is not valid text in the expected "
                   "encoding. Send it as UTF-8 (or declare its charset) and try again.")


class Unauthorized(HTTPException):
    """*401 Unauthorized*: the user is not authorized (also used for HTTP auth)."""

    code = 401
    traceback = False
    description = ("You need to sign in to see this page. Send valid "
                   "credentials (check the user name and password) and try again.")


class Forbidden(HTTPException):
    """*403 Forbidden*: authenticated, but not allowed to access this resource."""

    code = 403
    traceback = False
    description = "You are not allowed to open this page; signing in again will not change that."


class NotFound(HTTPException):
    """*404 Not Found*: the resource does not exist."""

    code = 404
    traceback = False
    description = "Nothing lives at this address. Check the URL for typing mistakes."


class MethodNotAllowed(HTTPException):
    """*405 Method Not Allowed*; ``method`` lists the allowed methods (for the Allow header)."""

    code = 405
    traceback = False
    description = "This URL does not accept this request method; the Allow header lists the ones it does."

    def __init__(self, method: str | Iterable[str] | None = None, description: str | None = None) -> None:
        if method is None:
            self.valid_methods: list[str] = []
        elif isinstance(method, str):
            self.valid_methods = [method]
        else:
            self.valid_methods = list(method)
        self.method = method
        super().__init__(description or self.description)


class NotAcceptable(HTTPException):
    """*406 Not Acceptable*: nothing matches the request's Accept headers."""

    code = 406
    description = ("This resource is not available in any of the formats "
                   "your client asked for. Widen its Accept headers and try again.")


class RequestTimeout(HTTPException):
    """*408 Request Timeout*."""

    code = 408
    description = "The request did not arrive in time, so the server gave up waiting. Send it again."


class Conflict(HTTPException):
    """*409 Conflict*."""

    code = 409
    description = "The change clashes with the resource as it is now. Fetch it again, then repeat the change."


class Gone(HTTPException):
    """*410 Gone*: the resource existed and went away for good."""

    code = 410
    description = "This page has been removed for good; there is no newer address for it."


class LengthRequired(HTTPException):
    """*411 Length Required*: a body was sent without a Content-Length."""

    code = 411
    description = "The request has a body but no Content-Length header. Add one and send it again."


class PreconditionFailed(HTTPException):
    """*412 Precondition Failed* (If-Match, If-None-Match, If-Unmodified-Since)."""

    code = 412
    traceback = False
    description = ("A condition in the request's headers (If-Match, "
                   "If-Unmodified-Since...) did not hold, so nothing was done.")


class RequestEntityTooLarge(HTTPException):
    """*413 Content Too Large*: the body exceeds the server's limit."""

    code = 413
    description = "The request body is bigger than this server accepts. Send less data."


class RequestURITooLarge(HTTPException):
    """*414 URI Too Long*."""

    code = 414
    description = ("The URL is longer than this server accepts. "
                   "Shorten it, or send the data in a request body.")


class UnsupportedMediaType(HTTPException):
    """*415 Unsupported Media Type*."""

    code = 415
    description = ("The server cannot read the kind of data this "
                   "request body holds. Send it in a supported format.")


class RangeUnsatisfiable(HTTPException):
    """*416 Range Not Satisfiable*."""

    code = 416
    traceback = False
    description = "The part of the resource asked for (the Range header) lies outside it."


class ExpectationFailed(HTTPException):
    """*417 Expectation Failed*: an Expect value the server does not support."""

    code = 417
    description = ("The server cannot do what the request's "
                   "Expect header asks for. Send it without that header.")


class TooManyRequests(HTTPException):
    """*429 Too Many Requests*."""

    code = 429
    description = "Too many requests in too short a time. Wait a while before trying again."


class RequestHeaderFieldsTooLarge(HTTPException):
    """*431 Request Header Fields Too Large*."""

    code = 431
    description = ("The request's headers are too big. Send fewer or "
                   "shorter headers (large cookies are a usual cause).")


class InternalServerError(HTTPException):
    """*500 Internal Server Error*: the fallback for unexpected errors."""

    code = 500
    description = ("Something went wrong on the server while handling "
                   "this request. It is not your fault; try again later.")


class NotImplemented(HTTPException):  # noqa: A001 - the documented 3.x name
    """*501 Not Implemented*: the action requested is not supported."""

    code = 501
    description = "The server does not know how to do what this request asks (its method is not supported)."


class BadGateway(HTTPException):
    """*502 Bad Gateway*: an upstream server sent an invalid response."""

    code = 502
    description = ("A server further along the way sent back an "
                   "answer this server could not use. Try again later.")


class ServiceUnavailable(HTTPException):
    """*503 Service Unavailable*: temporarily unable to serve."""

    code = 503
    description = ("The server cannot handle requests right now (it is "
                   "overloaded or down for maintenance). Try again later.")


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
