"""The reading record the gateway publishes for every parsed message.

A :class:`Reading` is the dict ``{"device", "seq", "ts", "fields"}`` that
every consumer reads, and it carries its own JSON, made on first use and
kept: the UDP datagram, the MQTT payload, the WebSocket frame and the
history row are the same text, serialised once per reading however many
sinks there are. A reading is a value: nobody changes it once it is fired
(the cached JSON would no longer match).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from json.encoder import c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring as _encode_string
from typing import Any

from .profile import FieldValue

__all__ = ["Reading", "make_reading", "reading_bytes", "reading_text"]


class Reading(dict[str, Any]):
    """``{"device": str, "seq": int, "ts": float, "fields": {...}}`` plus its JSON (see module doc)."""

    __slots__ = ("_text", "_bytes")

    def text(self) -> str:
        """Compact JSON (UTF-8 text, not ASCII escapes), made once."""
        try:
            return self._text
        except AttributeError:
            self._text: str = _reading_text(self)
            return self._text

    def data(self) -> bytes:
        """:meth:`text` encoded as UTF-8, made once."""
        try:
            return self._bytes
        except AttributeError:
            self._bytes: bytes = self.text().encode("utf-8")
            return self._bytes


def make_reading(device: str, seq: int, ts: float, fields: Mapping[str, FieldValue]) -> Reading:
    """Build a reading; ``fields`` is copied so the record owns its data."""
    return Reading(device=device, seq=seq, ts=ts, fields=dict(fields))


def reading_text(reading: Mapping[str, Any]) -> str:
    """The JSON of a reading: its own for a :class:`Reading`, else made now
    (a plain dict fired by a test or another component)."""
    return reading.text() if isinstance(reading, Reading) else _dumps(reading)


def reading_bytes(reading: Mapping[str, Any]) -> bytes:
    """:func:`reading_text` as UTF-8 bytes (made once for a :class:`Reading`)."""
    return reading.data() if isinstance(reading, Reading) else _dumps(reading).encode("utf-8")


def _dumps(reading: Mapping[str, Any]) -> str:
    return json.dumps(reading, separators=(",", ":"), ensure_ascii=False, default=_jsonable)


def _reading_text(reading: Reading) -> str:
    """A :class:`Reading`'s JSON, the same text as :func:`_dumps` gives, faster.

    This runs once per reading, so at 20,000 readings/s its cost matters:
    ``json.dumps`` with options builds an encoder each call. The common
    shape (built by :func:`make_reading`: a str device, int seq, float ts,
    a fields dict) is written around one prebuilt encoder for the fields;
    anything else goes through ``json.dumps``.
    """
    device, seq, ts, fields = (reading.get("device"), reading.get("seq"), reading.get("ts"),
                               reading.get("fields"))
    if (_encode_fields is None or len(reading) != 4 or type(device) is not str or type(seq) is not int
            or type(ts) is not float or not math.isfinite(ts) or type(fields) is not dict):
        return _dumps(reading)
    return (f'{{"device":{_encode_string(device)},"seq":{seq},"ts":{float.__repr__(ts)},'
            f'"fields":{"".join(_encode_fields(fields, 0))}}}')


def _fields_encoder() -> Callable[[Any, int], Any] | None:
    """json's C encoder with :func:`_dumps`'s options (None without it).

    No circular-reference check (``markers=None``): fields are values a
    parser made from bytes, never a structure that contains itself. That
    also lets one encoder serve every thread.
    """
    if c_make_encoder is None:
        return None
    try:
        return c_make_encoder(None, _jsonable, _encode_string, None, ":", ",", False, False, True)  # type: ignore[no-any-return]
    except TypeError:  # another Python's internal signature: the plain path
        return None


def _jsonable(value: Any) -> Any:
    """JSON for what json.dumps cannot encode by itself (raw bytes, sets, ...)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


_encode_fields = _fields_encoder()
