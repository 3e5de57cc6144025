"""JSONRPC: JSON-RPC 2.0 over HTTP POST, calls become events.

``JSONRPC(path="/", encoding="utf-8", rpc_channel="*")``. A POST to
``path`` carrying a JSON-RPC request object (or a batch array of them) fires
one event per call, named after the method, on ``rpc_channel``; the value
its handlers return is the call's ``result``. Failures are JSON-RPC error
objects (section 5.1 codes: -32700 parse error, -32600 invalid request,
-32601 method not found, -32602 invalid params, -32000 a handler raised).
Notifications (no ``id``, section 4.1) get no response; a request made only
of notifications is answered ``204 No Content``. A request without the
``"jsonrpc": "2.0"`` member (the 1.0 style 2.x clients send) is accepted.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

from .rpc import RPC, RPCDispatcher, RPCError, call_method, rpc

__all__ = ["JSONRPC", "RPC", "rpc"]

#: Above the default Dispatcher (0.1) and the WSGI Gateway (0.2), so that

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
#: Calls in one batch (a bound on the work one request may cause).
MAX_BATCH = 100


def _error(code: int, message: str, id_: Any = None, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "error": error, "id": id_}


class JSONRPC(RPCDispatcher):
    """JSON-RPC 2.0 dispatcher (see module doc)."""

    default_path = "/"

    def _serve(self, request: Any, response: Any) -> Generator[Any, Any, Any]:
        response.headers["Content-Type"] = f"application/json; charset={self.encoding}"
        try:
            payload = json.loads(request.body.read().decode(self.encoding))
        except (ValueError, UnicodeDecodeError) as e:
            return self._dump(_error(PARSE_ERROR, f"parse error: {e}"))
        if isinstance(payload, list):
            if not payload:
                return self._dump(_error(INVALID_REQUEST, "empty batch"))
            if len(payload) > MAX_BATCH:
                return self._dump(_error(INVALID_REQUEST, f"batch larger than {MAX_BATCH}"))
            replies = []
            for call in payload:
                reply = yield from self._call(call)
                if reply is not None:
                    replies.append(reply)
            if not replies:
                response.status = 204
                return ""
            return self._dump(replies)
        reply = yield from self._call(payload)
        if reply is None:
            response.status = 204
            return ""
        return self._dump(reply)

    def _call(self, call: Any) -> Generator[Any, Any, dict[str, Any] | None]:
        if not isinstance(call, dict) or "method" not in call:
            return _error(INVALID_REQUEST, "invalid request object")
        notification = "id" not in call
        id_ = call.get("id")
        if not isinstance(id_, str | int | float | type(None)) or isinstance(id_, bool):
            return _error(INVALID_REQUEST, "invalid id")
        try:
            result = yield from call_method(self, call["method"], call.get("params"), self.rpc_channel)
        except RPCError as e:
            return None if notification else _error(e.code, e.message, id_, e.data)
        if notification:
            return None
        return {"jsonrpc": "2.0", "result": result, "id": id_}

    def _dump(self, data: Any) -> bytes:
        try:
            return json.dumps(data).encode(self.encoding)
        except (TypeError, ValueError) as e:  # a handler returned something JSON cannot hold
            id_ = data.get("id") if isinstance(data, dict) else None
            return json.dumps(_error(-32603, f"result not serializable: {e}", id_)).encode(self.encoding)
