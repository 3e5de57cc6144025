"""The default dispatcher: maps a request's path to a controller method.

``/a/b/c`` is looked up from the longest prefix down: the first controller
whose channel is a prefix answers, with (in this order) a method named
after the HTTP method, a method named after the next segment, or
``index``; the remaining segments are positional arguments, query and form
fields keyword arguments. Resolutions are cached per (method, path).

The method is called directly (no extra event per request). What it
returns is what the ``request`` handler returns, so a coroutine method
(a generator) becomes the request's task and ``request_success`` follows
when it finishes.
"""

from __future__ import annotations

import types
from collections.abc import Generator
from typing import Any

from ...core.components import BaseComponent
from ...core.dispatcher import walk
from ...core.handlers import handler
from ..controllers import BaseController, Signature, signature_of, to_json
from ..errors import from_exception, httperror
from ..exceptions import BadRequest, HTTPException
from ..forms import parse_body, parse_qs

__all__ = ["Dispatcher"]

#: Cache size before it is cleared (paths with arguments are unbounded).
CACHE_SIZE = 4096
_MISS: Any = None
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_GeneratorType = types.GeneratorType


class Dispatcher(BaseComponent):
    """Dispatches ``request`` events to the registered controllers (channel "web")."""

    channel = "web"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: URL prefix -> controller.
        self.paths: dict[str, BaseController] = {}
        self._cache: dict[tuple[str, str], Any] = {}

    @handler("registered", channel="*")
    def _on_registered(self, component: Any, manager: Any) -> None:
        if component is self:
            # Controllers that joined the tree before this dispatcher did.
            for node in walk(self.root):
                if isinstance(node, BaseController) and self._serves(node):
                    self.paths.setdefault(_prefix(node.channel), node)
            self._cache.clear()
        elif isinstance(component, BaseController) and self._serves(component):
            prefix = _prefix(component.channel)
            self.paths.setdefault(prefix, component)
            self._cache.clear()

    def _serves(self, controller: BaseController) -> bool:
        """A controller registered inside a web server belongs to that server,
        and to the servers nested inside it (3.x serves one app on two ports
        with ``(Server(80) + Server(443, secure=True))``), never to a sibling."""
        owner = _web_server_of(controller)
        if owner is None:
            return True
        server = _web_server_of(self)
        while server is not None:
            if server is owner:
                return True
            server = _web_server_of(server)
        return False

    @handler("unregistered", channel="*")
    def _on_unregistered(self, component: Any, manager: Any) -> None:
        if isinstance(component, BaseController):
            prefix = _prefix(component.channel)
            if self.paths.get(prefix) is component:
                del self.paths[prefix]
                self._cache.clear()

    def resolve(self, method: str, path: str) -> tuple[BaseController, Any, tuple[str, ...], bool] | None:
        """(controller, bound method, positional args, is index) for a request, or None."""
        key = (method, path)
        cache = self._cache
        try:
            return cache[key]
        except KeyError:
            pass
        found = self._resolve(method, path)
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        cache[key] = found
        return found

    def _resolve(self, method: str, path: str) -> Any:
        parts = [p for p in path.split("/") if p]
        paths = self.paths
        for i in range(len(parts), -1, -1):
            controller = paths.get("/" + "/".join(parts[:i]))
            if controller is None:
                continue
            rest = parts[i:]
            routes = controller.routes
            fn = routes.get(method)
            if fn is not None and signature_of(fn).accepts(len(rest)):
                return controller, fn, tuple(rest), False
            if rest:
                fn = routes.get(rest[0])
                if fn is not None and signature_of(fn).accepts(len(rest) - 1):
                    return controller, fn, tuple(rest[1:]), False
            fn = routes.get("index")
            if fn is not None and signature_of(fn).accepts(len(rest)):
                return controller, fn, tuple(rest), True
        return _MISS

    @handler("request", priority=0.1)
    def _on_request(self, event: Any, request: Any, response: Any) -> Any:
        if event.value.errors:
            return None  # an earlier handler (an auth check, say) failed: never run the controller
        found = self.resolve(request.method, request.path)
        if found is None:
            return None
        controller, fn, vpath, index = found
        if request.body_refused:
            return httperror(request, response, 413, description="The request body is larger than this server takes.")
        request.index = index
        try:
            params = parse_qs(request.qs) if request.qs else {}
            if request.method in _BODY_METHODS and request._body is not None:
                parse_body(request, response, params)
            args, kwargs = _bind(signature_of(fn), vpath, params)
        except HTTPException as e:
            return _as_error(request, response, e)
        request.args = vpath
        request.kwargs = params
        controller.request = request
        controller.response = response
        try:
            if signature_of(fn).wants_event:
                result = fn(event, *args, **kwargs)
            else:
                result = fn(*args, **kwargs)
        except HTTPException as e:
            # An intended answer, not a failure: no traceback in the log.
            return _as_error(request, response, e)
        if result.__class__ is _GeneratorType:
            return _bound(controller, request, response, result, getattr(fn, "json", False))
        return _finish(request, response, result, getattr(fn, "json", False))


def _web_server_of(component: Any) -> Any:
    node = component.parent
    while True:
        if getattr(node, "web_server", False):
            return node
        if node.parent is node:
            return None
        node = node.parent


def _prefix(channel: Any) -> str:
    text = str(channel)
    return "/" + text.strip("/") if text.strip("/") else "/"


def _bind(sig: Signature, vpath: tuple[str, ...], params: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Positional and keyword arguments for a method with signature ``sig``."""
    if not params:
        kwargs: dict[str, Any] = {}
    elif sig.varkw:
        kwargs = dict(params)
    else:
        # Fields the method does not name are left out (they are still in request.kwargs).
        kwargs = {k: v for k, v in params.items() if k in sig.names}
    if vpath and kwargs:
        for name in sig.positional[:len(vpath)]:
            kwargs.pop(name, None)
    if len(sig.required) > len(vpath):
        missing = [n for n in sig.required[len(vpath):] if n not in kwargs]
        if missing:
            raise BadRequest(f"Missing parameter: {', '.join(missing)}")
    return vpath, kwargs


def _finish(request: Any, response: Any, result: Any, as_json: bool) -> Any:
    if as_json:
        return to_json(response, result)
    if result is None:
        if response._body is None and response.code == 200 and not (response.stream or response.started):
            # Nothing returned and nothing set: nothing found (3.x answers 404 too).
            return httperror(request, response, 404)
        # The method answered through the response object (or streams).
        return response
    return result


def _as_error(request: Any, response: Any, error: HTTPException) -> httperror:
    return from_exception(request, response, error)


def _bound(controller: Any, request: Any, response: Any, gen: Generator[Any, Any, Any],
           as_json: bool) -> Generator[Any, Any, Any]:
    """Run a coroutine method with its controller's request/response set at every resumption."""
    send: Any = None
    error: BaseException | None = None
    # Values a generator yields (not coroutine steps) are collected by the
    # loop into the request's result, as body pieces.
    produced = False
    while True:
        controller.request = request
        controller.response = response
        try:
            yielded = gen.throw(error) if error is not None else gen.send(send)
        except StopIteration as stop:
            if stop.value is None and produced:
                return None
            return _finish(request, response, stop.value, as_json)
        except HTTPException as e:
            return _as_error(request, response, e)
        if yielded is not None and not produced:
            produced = yielded.__class__ is not _GeneratorType and not hasattr(yielded, "attach")
        try:
            send = yield yielded
            error = None
        except BaseException as e:  # noqa: BLE001 - handed to the coroutine, like the loop would
            send, error = None, e
