"""HTTP errors as events: return or fire one to answer with an error page.

Creating an error event updates the *response* it is given (status, and
for redirects the Location header); the HTTP component renders the page
(``str(error)``) and sends it. Every variant is named ``httperror``, so
one handler sees them all.
"""

from __future__ import annotations

import json
import traceback as _traceback
from typing import Any
from urllib.parse import quote, urljoin

from ..core.events import Event
from . import exceptions as _exc
from .constants import DEFAULT_ERROR_MESSAGE, HTTP_STATUS_CODES, POWERED_BY, SERVER_URL, SERVER_VERSION

__all__ = ["Forbidden", "HTTPError", "MethodNotAllowed", "NotFound", "Redirect", "Unauthorized",
           "forbidden", "httperror", "method_not_allowed", "notfound", "redirect", "unauthorized"]


def _describe_failure(error: Any) -> str:
    """A readable report of an ``(type, value, traceback)`` triple; '' for None.

    The traceback part may be a traceback object or already formatted lines
    (errors that crossed a thread or process arrive formatted).
    """
    if error is None:
        return ""
    kind, value, tb = error
    lines = list(tb) if isinstance(tb, (list, tuple)) else _traceback.format_tb(tb)
    return f"ERROR: ({getattr(kind, '__name__', kind)}) {value}\n{''.join(lines)}"


def _wants_json(response: Any) -> bool:
    return "json" in (response.headers.get("Content-Type") or "")


def _has_no_body(code: int) -> bool:
    # RFC 9110 section 6.4.1: 1xx, 204 and 304 never carry content; a 205
    # must not either (section 15.3.6).
    return code < 200 or code in (204, 205, 304)


class httperror(Event):
    """httperror(request, response, code=None, description=..., error=...): answer with an error."""

    channels = ("web",)
    code = 500
    description = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # One event name for the whole family, so one handler sees them all.
        cls.name = "httperror"

    def __init__(self, request: Any, response: Any, code: int | None = None, **kwargs: Any) -> None:
        super().__init__(request, response, code, **kwargs)
        self.request = request
        self.response = response
        self.code = self.code if code is None else code
        self.description = kwargs.get("description", type(self).description)
        self.error = kwargs.get("error")
        self.traceback = _describe_failure(self.error)
        # The response is answered now: later handlers see the final status.
        response.status = self.code
        response.answered = True

    @property
    def data(self) -> dict[str, Any]:
        """What the page shows; the traceback only for a ``print_debug`` request."""
        debug = getattr(self.request, "print_debug", False)
        return {
            "code": self.code,
            "name": HTTP_STATUS_CODES.get(self.code, "Unknown"),
            "description": self.description or "",
            "traceback": self.traceback if debug else "",
            "powered_by": self._banner(),
        }

    def _banner(self) -> str:
        if not getattr(getattr(self.request, "server", None), "display_banner", False):
            return ""
        from html import escape  # here and below: html.entities is ~0.5 MB, for error pages only

        return POWERED_BY % {"url": escape(SERVER_URL, True), "version": escape(SERVER_VERSION)}

    def sanitize(self) -> None:
        """Drop a Location header unless the status may have one (201 and 3xx)."""
        if self.code == 201 or 300 <= self.code <= 399:
            return
        if "Location" in self.response.headers:
            del self.response.headers["Location"]

    def __str__(self) -> str:
        """The error page: HTML, or JSON when the response is JSON; '' for bodiless statuses."""
        self.sanitize()
        if _has_no_body(self.code):
            return ""
        page = self.data
        if _wants_json(self.response):
            if not page["traceback"]:
                del page["traceback"]
            del page["powered_by"]
            return json.dumps(page)
        from html import escape

        fields = {key: escape(str(page[key])) for key in ("name", "description")}
        fields["code"] = self.code
        fields["traceback"] = f"<pre>{escape(page['traceback'])}</pre>\n" if page["traceback"] else ""
        fields["powered_by"] = page["powered_by"]  # our own markup, already escaped
        return DEFAULT_ERROR_MESSAGE % fields

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code} {HTTP_STATUS_CODES.get(self.code, '???')}>"


class forbidden(httperror):
    """403 Forbidden."""

    code = 403
    description = _exc.Forbidden.description


class unauthorized(httperror):
    """401 Unauthorized (a WWW-Authenticate header is the caller's job)."""

    code = 401
    description = _exc.Unauthorized.description


class notfound(httperror):
    """404 Not Found."""

    code = 404
    description = _exc.NotFound.description


class method_not_allowed(httperror):
    """405 Method Not Allowed; ``method`` (a list) goes into the Allow header."""

    code = 405
    description = _exc.MethodNotAllowed.description

    def __init__(self, request: Any, response: Any, method: Any = None, **kwargs: Any) -> None:
        super().__init__(request, response, None, **kwargs)
        allowed = [method] if isinstance(method, str) else list(method or ())
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)


class redirect(httperror):
    """redirect(request, response, urls, code=None): a 30x to the first of ``urls``.

    Relative URLs are resolved against the request's URL (RFC 9110 section
    10.2.2 allows relative Location, but absolute is friendlier). The
    default code is 303 for HTTP/1.1 clients and 302 for HTTP/1.0 ones.
    """

    def __init__(self, request: Any, response: Any, urls: Any, code: int | None = None) -> None:
        if isinstance(urls, (str, bytes)):
            urls = [urls]
        base = getattr(request, "url", "")
        absolute = []
        for url in urls:
            if isinstance(url, bytes):
                url = url.decode("utf-8")
            # Keep reserved characters; encode only what may not appear in a URL.
            absolute.append(quote(urljoin(base, url), safe="/:?#[]@!$&'()*+,;=%~"))
        if code is None:
            code = 303 if getattr(request, "protocol", (1, 1)) >= (1, 1) else 302
        elif not 300 <= code <= 399:
            raise ValueError("status code must be between 300 and 399")
        self.urls = absolute
        super().__init__(request, response, code)
        if code in (300, 301, 302, 303, 307, 308):
            response.headers["Content-Type"] = "text/html; charset=utf-8"
            response.headers["Location"] = absolute[0]
            from html import escape

            links = "<br />\n".join(f'<a href="{escape(u, True)}">{escape(u)}</a>' for u in absolute)
            self.description = ""
            self._page = f"This resource can be found at {links}."
        elif code == 304:
            # RFC 9110 section 15.4.5: no body, no representation headers.
            for name in ("Content-Type", "Content-Length", "Location"):
                if name in response.headers:
                    del response.headers[name]
            self._page = ""
        elif code == 305:
            response.headers["Location"] = absolute[0]
            self._page = ""
        else:
            self._page = ""

    def __str__(self) -> str:
        if self.code == 304:
            return ""
        return self._page


def from_exception(request: Any, response: Any, exc: _exc.HTTPException, error: Any = None) -> httperror:
    """The event that answers a request with a raised HTTPException ``exc``."""
    if isinstance(exc, _exc.Redirect):
        return redirect(request, response, exc.urls, exc.code)
    allowed = getattr(exc, "valid_methods", None)
    if allowed:  # RFC 9110 section 15.5.6: a 405 says which methods are allowed
        response.headers["Allow"] = ", ".join(allowed)
    return httperror(request, response, exc.code, description=exc.description, error=error)


# 2.x names (``from circuits.web import HTTPError, NotFound ...``).
HTTPError = httperror
Forbidden = forbidden
Unauthorized = unauthorized
NotFound = notfound
MethodNotAllowed = method_not_allowed
Redirect = redirect
