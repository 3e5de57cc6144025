"""The wire format of circuits.node: events and values as JSON, one packet a line.

Why JSON and not pickle: a node listens on a network socket, and unpickling
what a peer sends runs whatever code the peer chooses. JSON only ever
produces plain data, so the worst a peer can send is a bad packet.

What crosses the wire (``encode``/``decode``):

* JSON's own types: None, bool, int, finite float, str, list, dict with
  str keys;
* tuples and bytes, tagged (``{"$tuple": [...]}``, ``{"$bytes": "<base64>"}``)
  so they come back as tuples and bytes; a dict whose keys start with "$"
  is wrapped (``{"$dict": {...}}``) so it is never mistaken for a tag;
* a handler's error, as ``{"$error": {...}}``; it comes back as the
  ``(RemoteError, RemoteError(...), traceback lines)`` triple a local
  failed event's value holds.

An event packet also carries the event's *meta*: its delivery flags
(``success``, ``failure``, ``complete``, ``alert_done``, ``notify``) and
the attributes set on the instance (``event.user = "x"``), so the peer's
copy behaves like the sender's (a ``success`` event fires there too). A
value packet carries the meta of the event as the remote handlers left
it, flags excepted. Names starting with ``__`` and the event's own
machinery (``args``, ``value``, ``channels``...) are never sent nor
applied; an attribute that cannot be encoded is left out.

Anything else (an arbitrary object, a set, a dict with non-str keys, NaN)
is **refused** in an event (:class:`UnsafeValue`, a TypeError: changing an
event's arguments behind the sender's back would be worse), and **sent as
its repr()** in a value (the remote handler already ran; the caller gets a
description instead of waiting forever). Names of remote events are
checked; classes are never looked up by name: the receiver makes a plain
``Event.create(name, ...)``.
"""

from __future__ import annotations

import base64
import json
import math
import re
import traceback
from types import TracebackType
from typing import Any

from ..core.events import Event
from ..core.values import Value

__all__ = [
    "FLAGS", "PacketError", "RemoteError", "UnsafeValue", "decode", "dump_event", "dump_value",
    "encode", "get_meta", "load_event", "load_packet", "load_value",
]

#: Deepest nesting accepted either way (a hostile packet must not exhaust the stack).
MAX_DEPTH = 100
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,199}")


class UnsafeValue(TypeError):
    """A value that cannot cross the wire faithfully (see module doc)."""


class PacketError(ValueError):
    """A packet from a peer that is not valid JSON or not a valid packet."""


class RemoteError(Exception):
    """A handler on the remote node raised: ``type`` and ``message`` say what."""

    def __init__(self, type: str, message: str, traceback: list[str] | None = None) -> None:  # noqa: A002
        super().__init__(f"{type}: {message}" if message else type)
        self.type = type
        self.message = message
        self.traceback = traceback or []


# -- values ------------------------------------------------------------------

def encode(obj: Any, strict: bool = True, _depth: int = 0) -> Any:
    """``obj`` as JSON-ready data (see module doc); ``strict=False``: repr() the rest."""
    if _depth > MAX_DEPTH:
        raise UnsafeValue("nested too deeply")
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        return _refuse(obj, strict, "a non-finite float")
    if isinstance(obj, list):
        return [encode(x, strict, _depth + 1) for x in obj]
    if isinstance(obj, tuple):
        return {"$tuple": [encode(x, strict, _depth + 1) for x in obj]}
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(obj)).decode("ascii")}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            return _refuse(obj, strict, "a dict with non-str keys")
        body = {k: encode(v, strict, _depth + 1) for k, v in obj.items()}
        return {"$dict": body} if any(k.startswith("$") for k in obj) else body
    return _refuse(obj, strict, f"a {type(obj).__name__}")


def _refuse(obj: Any, strict: bool, what: str) -> Any:
    if strict:
        raise UnsafeValue(f"{what} cannot be sent to another node: {obj!r:.80}")
    return repr(obj)


def decode(data: Any, _depth: int = 0) -> Any:
    """The inverse of :func:`encode`; raises PacketError on a bad tag."""
    if _depth > MAX_DEPTH:
        raise PacketError("nested too deeply")
    if isinstance(data, list):
        return [decode(x, _depth + 1) for x in data]
    if not isinstance(data, dict):
        return data
    if len(data) == 1:
        ((tag, body),) = data.items()
        if tag == "$tuple" and isinstance(body, list):
            return tuple(decode(x, _depth + 1) for x in body)
        if tag == "$bytes" and isinstance(body, str):
            try:
                return base64.b64decode(body, validate=True)
            except ValueError as e:
                raise PacketError(f"bad base64: {e}") from None
        if tag == "$dict" and isinstance(body, dict):
            return {k: decode(v, _depth + 1) for k, v in body.items()}
        if tag == "$error" and isinstance(body, dict):
            error = RemoteError(str(body.get("type", "Error")), str(body.get("message", "")),
                                [str(x) for x in body.get("traceback", []) if isinstance(x, str)])
            return (RemoteError, error, error.traceback)
    if any(k.startswith("$") for k in data):
        raise PacketError(f"unknown tag in {sorted(data)!r:.80}")
    return {k: decode(v, _depth + 1) for k, v in data.items()}


def _error_data(err: Any) -> dict[str, Any]:
    """A failed event's value, the (type, value, traceback) triple, as a tag."""
    etype, evalue, tb = err
    if isinstance(evalue, RemoteError):  # relayed from a further node: keep its origin
        name, message = evalue.type, evalue.message
    else:
        name, message = getattr(etype, "__name__", str(etype)), str(evalue)
    if isinstance(tb, TracebackType):  # a Value keeps the traceback object
        tb = traceback.format_tb(tb)
    lines = [str(x) for x in tb] if isinstance(tb, list) else []
    return {"$error": {"type": name, "message": message, "traceback": lines}}


# -- meta --------------------------------------------------------------------

#: Delivery flags sent with an event (class or instance attributes).
FLAGS = ("success", "failure", "complete", "alert_done", "notify")
#: An event's own machinery: never taken from (or sent to) a peer as meta.
_RESERVED = frozenset({
    "args", "kwargs", "name", "channels", "value", "handler", "stopped", "cancelled",
    "waitingHandlers", "parent", "create", "child", "stop", "cancel", "node_call_id",
})


def _meta_name(name: Any) -> bool:
    if name in FLAGS:
        return True
    return (isinstance(name, str) and name.isidentifier() and not name.startswith("__")
            and name not in _RESERVED and not hasattr(Event, name))


def get_meta(e: Event | None, flags: bool = True) -> dict[str, Any]:
    """The meta of ``e`` (see module doc) as JSON-ready data."""
    if e is None:
        return {}
    meta: dict[str, Any] = {}
    if flags:
        for name in FLAGS:
            on = getattr(e, name, False)
            if on:
                meta[name] = on
    for name, value in vars(e).items():
        if name in FLAGS or not _meta_name(name):
            continue
        try:
            meta[name] = encode(value)
        except UnsafeValue:
            continue  # a socket, a lock...: stays on this side
    return meta


def _load_meta(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PacketError("meta must be an object")
    meta = decode(data)
    return {k: v for k, v in meta.items() if _meta_name(k)}


# -- packets -----------------------------------------------------------------

def _dumps(packet: dict[str, Any]) -> str:
    # allow_nan=False: the encoder already refused or repr()'d NaN and infinities.
    return json.dumps(packet, separators=(",", ":"), allow_nan=False)


def dump_event(e: Event, id: int, channels: tuple[str, ...] | list[str] | None = None) -> str:  # noqa: A002
    """A packet asking the peer to fire ``e`` on ``channels`` (default: the
    event's own channels, else ``("*",)``), with its meta (see module doc).

    Raises :class:`UnsafeValue` if an argument cannot cross the wire.
    """
    chans = list(channels or e.channels or ("*",))
    if not all(isinstance(c, str) for c in chans):
        raise UnsafeValue(f"channels must be strings: {chans!r}")
    return _dumps({"type": "event", "id": id, "name": e.name, "args": encode(list(e.args)),
                   "kwargs": encode(dict(e.kwargs)), "channels": chans, "meta": get_meta(e)})


def dump_value(v: Value | Any, id: int | None = None, errors: bool | None = None) -> str:  # noqa: A002
    """A packet carrying the result of event ``id``: a Value (its result,
    errors flag and its event's meta) or a plain result. What cannot be
    encoded is sent as its repr()."""
    meta: dict[str, Any] = {}
    if isinstance(v, Value):
        result, failed = v.getValue(), v.errors
        meta = get_meta(v.event, flags=False)
        if id is None:
            id = getattr(v, "node_call_id", None)  # noqa: A001 - the 2.x attribute
    else:
        result, failed = v, False
    if errors is not None:
        failed = errors
    if failed and isinstance(result, tuple) and len(result) == 3:
        data = _error_data(result)
    else:
        data = encode(result, strict=False)
    return _dumps({"type": "value", "id": id, "value": data, "errors": bool(failed), "meta": meta})


def load_packet(s: str | bytes) -> dict[str, Any]:
    """Parse and check one packet (either kind); raises PacketError."""
    try:
        packet = json.loads(s)
    except (ValueError, RecursionError) as e:
        raise PacketError(f"not JSON: {e}") from None
    if not isinstance(packet, dict) or packet.get("type") not in ("event", "value"):
        raise PacketError("not a packet")
    if not isinstance(packet.get("id"), int) or isinstance(packet.get("id"), bool):
        raise PacketError("packet without an integer id")
    return packet


def load_event(s: str | bytes | dict[str, Any]) -> tuple[Event, int]:
    """(event, id) from an event packet, as in 3.x: the event's ``channels``
    are the packet's, its meta is applied. The event is a plain
    ``Event.create(name, ...)``: no class is ever looked up by name."""
    packet = s if isinstance(s, dict) else load_packet(s)
    if packet.get("type") != "event":
        raise PacketError("not an event packet")
    name, args, kwargs = packet.get("name"), packet.get("args", []), packet.get("kwargs", {})
    channels = packet.get("channels") or ["*"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise PacketError(f"bad event name {name!r:.80}")
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise PacketError("args must be a list and kwargs an object")
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise PacketError("channels must be a list of strings")
    kwargs = decode(kwargs)
    if not isinstance(kwargs, dict) or not all(k.isidentifier() and k != "_name" for k in kwargs):
        raise PacketError("bad keyword argument names")
    meta = _load_meta(packet.get("meta"))
    event = Event.create(name, *decode(args), **kwargs)
    for key, value in meta.items():
        setattr(event, key, value)
    event.channels = tuple(channels)
    return event, packet["id"]


def load_value(s: str | bytes | dict[str, Any]) -> tuple[Any, int, bool, dict[str, Any]]:
    """(value, id, errors, meta) from a value packet, as in 3.x."""
    packet = s if isinstance(s, dict) else load_packet(s)
    if packet.get("type") != "value":
        raise PacketError("not a value packet")
    return (decode(packet.get("value")), packet["id"], bool(packet.get("errors")),
            _load_meta(packet.get("meta")))
