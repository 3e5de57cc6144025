"""Controllers: classes whose methods answer URLs.

A controller's ``channel`` is its URL prefix ("/" by default). On a
:class:`Controller` every public method is *exposed*: ``/prefix/name/a/b``
calls ``name(a, b)``, query and form fields become keyword arguments, and
``index`` answers the prefix itself. ``expose("index.html", ...)`` gives a
method other URL names; methods named after an HTTP method (``GET``,
``POST``...) answer every request of that method (REST style).

While a method runs, ``self.request``, ``self.response``, ``self.cookie``
and ``self.session`` are those of the request it answers (also across the
``yield`` points of a coroutine method).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator, MutableMapping
from http.cookies import Morsel, SimpleCookie
from typing import Any

from ..core.components import BaseComponent
from ..core.handlers import handler
from . import files
from .caching import expires as _expires  # not .tools: it holds auth (hashlib) and gzip
from .errors import forbidden, notfound, redirect

__all__ = ["BaseController", "Controller", "CookieView", "JSONController", "Signature", "expose", "exposeJSON"]


class CookieView(MutableMapping[str, Morsel[str]]):
    """``self.cookie`` of a controller: read the request's cookies, set the response's.

    As in circuits 3.x, ``self.cookie["k"] = v`` sends a Set-Cookie and
    ``self.cookie["k"]["path"] = "/"`` sets its attributes (once set, a
    name reads back the response's morsel); ``del self.cookie["k"]`` asks
    the client to drop it (Max-Age=0).
    """

    __slots__ = ("_incoming", "_outgoing")

    def __init__(self, incoming: SimpleCookie, outgoing: SimpleCookie | None) -> None:
        self._incoming = incoming
        self._outgoing = outgoing

    def _out(self) -> SimpleCookie:
        if self._outgoing is None:
            raise RuntimeError("no response to set a cookie on")
        return self._outgoing

    def __getitem__(self, key: str) -> Morsel[str]:
        if self._outgoing is not None and key in self._outgoing:
            return self._outgoing[key]
        return self._incoming[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._out()[key] = value

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        out = self._out()
        out[key] = ""
        out[key]["max-age"] = 0

    def __iter__(self) -> Iterator[str]:
        yield from self._incoming
        if self._outgoing is not None:
            yield from (k for k in self._outgoing if k not in self._incoming)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Signature:
    """What a controller method accepts, worked out once per function."""

    __slots__ = ("positional", "required", "varargs", "varkw", "names", "wants_event")

    def __init__(self, fn: Callable[..., Any]) -> None:
        params = list(inspect.signature(fn).parameters.values())
        if params and params[0].name == "self":
            params = params[1:]
        self.wants_event = bool(params) and params[0].name == "event"
        if self.wants_event:
            params = params[1:]
        kinds = inspect.Parameter
        positional = [p for p in params if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)]
        self.positional = tuple(p.name for p in positional)
        self.required = tuple(p.name for p in positional if p.default is kinds.empty)
        self.varargs = any(p.kind is kinds.VAR_POSITIONAL for p in params)
        self.varkw = any(p.kind is kinds.VAR_KEYWORD for p in params)
        self.names = frozenset(p.name for p in params if p.kind in (
            kinds.POSITIONAL_OR_KEYWORD, kinds.KEYWORD_ONLY))

    def accepts(self, count: int) -> bool:
        """Can ``count`` path segments be passed positionally?"""
        return self.varargs or count <= len(self.positional)


def signature_of(fn: Callable[..., Any]) -> Signature:
    f = getattr(fn, "__func__", fn)
    sig = f.__dict__.get("_web_signature")
    if sig is None:
        # The bound method's signature leaves out its first parameter,
        # whatever it is called (3.x controllers write ``def query(req, x)``).
        sig = f._web_signature = Signature(fn)
    return sig


def expose(*channels: str, **config: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Expose a method under the URL names ``channels`` (default: its own name)."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        names = channels or (f.__name__,)
        h = handler(*names, **config)(f)
        h.exposed = True  # type: ignore[attr-defined]
        h.routes = tuple(names)  # type: ignore[attr-defined]
        h.json = config.get("json", False)  # type: ignore[attr-defined]
        return h

    return decorate


def exposeJSON(*channels: str, **config: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:  # noqa: N802
    """Like :func:`expose`; the return value is sent as JSON."""
    return expose(*channels, json=True, **config)


class BaseController(BaseComponent):
    """A component whose exposed methods answer URLs under its channel."""

    channel: Any = "/"
    #: Expose every public method defined in a subclass (Controller does).
    expose_all = False
    #: Send return values as JSON (JSONController does).
    json = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if cls.__dict__.get("expose_all", cls.expose_all):
            for attr, value in list(vars(cls).items()):
                if attr.startswith("_") or attr in _RESERVED or not inspect.isfunction(value):
                    continue
                if getattr(value, "handler", None) is not None:
                    continue
                setattr(cls, attr, expose(attr, json=cls.json)(value))
        super().__init_subclass__(**kwargs)
        routes: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                for route in getattr(value, "routes", ()) if getattr(value, "exposed", False) else ():
                    routes[route] = attr
        cls._web_routes = routes  # type: ignore[attr-defined]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: URL name -> bound method (names are literal: "index.html", "GET").
        self.routes: dict[str, Any] = {
            route: getattr(self, attr) for route, attr in getattr(type(self), "_web_routes", {}).items()}
        self.request: Any = None
        self.response: Any = None

    # -- the request being answered ---------------------------------------
    @property
    def cookie(self) -> CookieView | None:
        """The request's cookies; a cookie set here is sent back (see :class:`CookieView`)."""
        if self.request is None:
            return None
        return CookieView(self.request.cookie, self.response.cookie if self.response is not None else None)

    @property
    def session(self) -> Any:
        return getattr(self.request, "session", None)

    @property
    def uri(self) -> Any:
        """The current request's URL, split."""
        return self.request.uri if self.request is not None else None

    # -- helpers: return their result from a method ------------------------
    def forbidden(self, description: str | None = None) -> forbidden:
        """A 403 answer."""
        kwargs = {"description": description} if description else {}
        return forbidden(self.request, self.response, **kwargs)

    def notfound(self, description: str | None = None) -> notfound:
        """A 404 answer."""
        kwargs = {"description": description} if description else {}
        return notfound(self.request, self.response, **kwargs)

    def redirect(self, urls: Any, code: int | None = None) -> redirect:
        """A redirect to ``urls`` (relative URLs are resolved against the request)."""
        return redirect(self.request, self.response, urls, code=code)

    def serve_file(self, path: str, type: str | None = None, disposition: str | None = None,  # noqa: A002
                   name: str | None = None) -> Any:
        """Answer with the file at ``path`` (conditional and range requests included)."""
        return files.serve_file(self.request, self.response, path, type, disposition, name)

    def serve_download(self, path: str, name: str | None = None) -> Any:
        """Answer with ``path`` as an attachment."""
        return files.serve_download(self.request, self.response, path, name)

    def expires(self, secs: Any = 0, force: bool = False) -> None:
        """Set caching headers (see :func:`circuits.web.tools.expires`)."""
        _expires(self.request, self.response, secs, force)


#: Names of the controller machinery: never exposed as URLs. ``name`` (the
#: component's display name) is left out: a page called ``/name`` is common,
#: and nothing in the framework relies on it being a string.
_RESERVED = (frozenset(dir(BaseController)) - {"name"}) | {"init"}


class Controller(BaseController):
    """A controller exposing every public method it defines."""

    expose_all = True


class JSONController(BaseController):
    """A controller whose public methods' return values are sent as JSON."""

    expose_all = True
    json = True


def to_json(response: Any, value: Any) -> str:
    """``value`` as JSON, with the matching Content-Type."""
    response.headers["Content-Type"] = "application/json"
    return json.dumps(value)
