"""The reading record the gateway publishes for every parsed message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from .profile import Fields, FieldValue


class Reading(TypedDict):
    device: str  # configured device name, e.g. "gps0"
    seq: int  # per-device message counter, so consumers can spot gaps
    ts: float  # seconds since the Unix epoch when the message was framed
    fields: Fields


def make_reading(device: str, seq: int, ts: float, fields: Mapping[str, FieldValue]) -> Reading:
    """Build a reading; ``fields`` is copied so the record owns its data."""
    return {"device": device, "seq": seq, "ts": ts, "fields": dict(fields)}
