"""What the JSON-RPC and XML-RPC dispatchers share: turning a call into an event.

A remote call ``method(params)`` becomes an event named ``method`` fired on
the dispatcher's ``rpc_channel``; the value its handlers return is the
result. Because ``rpc_channel`` defaults to ``"*"`` (every channel, the
2.x behaviour), a remote peer could otherwise fire the framework's own
events (``close``, ``write``, ``stopped``, ``unregister``...): those names,
and names starting with ``_``, are refused. Prefer a dedicated channel.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from ...core.components import BaseComponent
from ...core.events import Event
from ...core.handlers import handler
from ...core.manager import Manager
from ...core.names import event_name
from ...core.values import Value

__all__ = ["RESERVED", "RPCDispatcher", "RPCError", "rpc", "RPC", "call_method", "has_handler"]

#: Events of circuits itself (core, net, web): never callable remotely.
RESERVED = frozenset({
    "started", "stopped", "signal", "registered", "unregistered", "unregister", "prepare_unregister",
    "generate_events", "exception", "error", "connect", "connected", "disconnect", "disconnected", "read",
    "write", "close", "closed", "ready", "broadcast", "starttls", "unreachable", "request", "response",
    "stream", "httperror", "upgraded", "terminate", "value_changed", "task", "done", "success", "failure",
    "complete",
})
#: A method name: dotted identifiers, nothing else (RFC-free, a sanity bound).
_METHOD = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,127}\Z")


class RPCError(Exception):
    """A call that cannot be made: ``code`` follows JSON-RPC 2.0 section 5.1."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000


class rpc(Event):
    """The 2.x ``RPC`` event (the base of the per-method events)."""


RPC = rpc


def check_method(name: Any) -> str:
    """The event name for a remote method, or RPCError if it is not callable."""
    if not isinstance(name, str) or _METHOD.match(name) is None:
        raise RPCError(METHOD_NOT_FOUND, f"invalid method name {name!r}")
    canonical = event_name(name)
    if canonical in RESERVED or canonical.endswith(("_success", "_failure", "_complete", "_done",
                                                    "_value_changed")):
        raise RPCError(METHOD_NOT_FOUND, f"method {name!r} is not callable remotely")
    return canonical


def has_handler(manager: Manager, name: str, channel: Any) -> bool:
    """True if some handler listens for ``name`` (by name) on ``channel``."""
    entries = manager.root._circuits_table.get(name, (channel,))
    return any(name in getattr(h, "names", ()) for h, _, _ in entries)


def call_method(manager: Manager, name: Any, params: Any, channel: Any) -> Generator[Any, Any, Any]:
    """Fire the event for ``name(params)`` and return its value (a task step).

    ``params`` is a list (positional) or a dict (keyword arguments). Errors
    of the handlers become RPCError(SERVER_ERROR, their message).
    """
    canonical = check_method(name)
    if not has_handler(manager, canonical, channel):
        raise RPCError(METHOD_NOT_FOUND, f"method {name!r} not found")
    if params is None:
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
    elif isinstance(params, list | tuple):
        args, kwargs = list(params), {}
    elif isinstance(params, dict):
        args, kwargs = [], {str(k): v for k, v in params.items()}
    else:
        raise RPCError(INVALID_PARAMS, "params must be an array or an object")
    event = rpc.create(canonical, *args, **kwargs)
    value: Value = yield manager.call(event, channel)
    if value.errors:
        etype, evalue, _ = value.getValue()
        if isinstance(evalue, TypeError):
            # Most often a signature mismatch: report it as such.
            raise RPCError(INVALID_PARAMS, str(evalue), getattr(etype, "__name__", None))
        raise RPCError(SERVER_ERROR, str(evalue), getattr(etype, "__name__", None))
    return value.getValue()


class RPCDispatcher(BaseComponent):
    """Answers POSTs to ``path`` with ``_serve(request, response)``.

    Runs before the default Dispatcher (priority 0.5) so a controller
    mounted on the same path cannot shadow the RPC endpoint.
    """

    channel: Any = "web"
    default_path = "/"

    def __init__(self, path: str | None = None, encoding: str = "utf-8", rpc_channel: Any = "*",
                 channel: Any = channel, **kwargs: Any) -> None:
        super().__init__(channel=channel)
        self.path = path or self.default_path
        self.encoding = encoding
        self.rpc_channel = rpc_channel

    @handler("request", priority=0.5)
    def _on_request(self, event: Any, request: Any, response: Any) -> Any:
        if request.path != self.path or request.method != "POST":
            return None
        return self._serve(request, response)

    def _serve(self, request: Any, response: Any) -> Any:
        raise NotImplementedError
