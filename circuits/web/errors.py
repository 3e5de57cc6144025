"""HTTP errors as events: return or fire one to answer with an error page.

Creating an error event updates the *response* it is given (status, and
for redirects the Location header); the HTTP component renders the page
(``str(error)``) and sends it. Every variant is named ``httperror``, so
one handler sees them all.
"""

from __future__ import annotations

import json
import traceback as _traceback
from html import escape
from typing import Any
from urllib.parse import quote, urljoin

from ..core.events import Event
from .constants import DEFAULT_ERROR_MESSAGE, HTTP_STATUS_CODES, POWERED_BY, SERVER_URL, SERVER_VERSION

__all__ = ["Forbidden", "HTTPError", "MethodNotAllowed", "NotFound", "Redirect", "Unauthorized",
           "forbidden", "httperror", "method_not_allowed", "notfound", "redirect", "unauthorized"]


class httperror(Event):
    """httperror(request, response, code=None, description=..., error=...): answer with an error."""

    channels = ("web",)
    code = 500
    description = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = "httperror"  # every variant reaches the one httperror handler

    def __init__(self, request: Any, response: Any, code: int | None = None, **kwargs: Any) -> None:
        super().__init__(request, response, code, **kwargs)
        self.request = request
        self.response = response
        if code is not None:
            self.code = code
        self.error = kwargs.get("error")
        self.description = kwargs.get("description", type(self).description)
        if self.error is not None:
            etype, evalue, etb = self.error
            stack = etb if isinstance(etb, (list, tuple)) else _traceback.format_tb(etb)
            name = getattr(etype, "__name__", str(etype))
            self.traceback = f"ERROR: ({name}) {evalue}\n{''.join(stack)}"
        else:
            self.traceback = ""
        response.status = self.code
        response.answered = True

    @property
    def data(self) -> dict[str, Any]:
        server = getattr(self.request, "server", None)
        banner = ""
        if getattr(server, "display_banner", False):
            banner = POWERED_BY % {"url": escape(SERVER_URL, True), "version": escape(SERVER_VERSION)}
        show_tb = bool(getattr(self.request, "print_debug", False))
        return {
            "code": self.code,
            "name": HTTP_STATUS_CODES.get(self.code, "Unknown"),
            "description": self.description or "",
            "traceback": self.traceback if show_tb else "",
            "powered_by": banner,
        }

    def sanitize(self) -> None:
        """Only 201 and 3xx responses may point somewhere with Location."""
        headers = self.response.headers
        if self.code != 201 and not (299 < self.code < 400) and "Location" in headers:
            del headers["Location"]

    def __str__(self) -> str:
        """The error page (JSON when the response's Content-Type is JSON)."""
        self.sanitize()
        if self.code < 200 or self.code in (204, 205, 304):
            return ""
        data = self.data
        if "json" in (self.response.headers.get("Content-Type") or ""):
            keys = ["code", "name", "description"] + (["traceback"] if data["traceback"] else [])
            return json.dumps({k: data[k] for k in keys})
        tb = data["traceback"]
        return DEFAULT_ERROR_MESSAGE % {
            "code": self.code,
            "name": escape(data["name"]),
            "description": escape(str(data["description"])),
            "traceback": f"<pre>{escape(tb)}</pre>\n" if tb else "",
            "powered_by": data["powered_by"],
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code} {HTTP_STATUS_CODES.get(self.code, '???')}>"


class forbidden(httperror):
    """403 Forbidden."""

    code = 403
    description = "You don't have the permission to access the requested resource."


class unauthorized(httperror):
    """401 Unauthorized (a WWW-Authenticate header is the caller's job)."""

    code = 401
    description = "The server could not verify that you are authorized to access the URL requested."


class notfound(httperror):
    """404 Not Found."""

    code = 404
    description = "The requested URL was not found on the server."


class method_not_allowed(httperror):
    """405 Method Not Allowed; ``method`` (a list) goes into the Allow header."""

    code = 405
    description = "The method is not allowed for the requested URL."

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


# 2.x names (``from circuits.web import HTTPError, NotFound ...``).
HTTPError = httperror
Forbidden = forbidden
Unauthorized = unauthorized
NotFound = notfound
MethodNotAllowed = method_not_allowed
Redirect = redirect
