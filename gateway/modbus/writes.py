"""Modbus writes asked for over MQTT: JSON in, a request, JSON out.

``{prefix}/{device}/modbus/write`` takes::

    {"unit": 1, "table": "holding", "address": 10, "value": 123}
    {"unit": 1, "table": "coil", "address": 0, "values": [true, false]}

(``table`` is ``holding`` or ``coil``; ``value`` writes one register or coil
with function 6 or 5, ``values`` several with 16 or 15; unit 0 broadcasts;
an ``id`` of any JSON type is echoed back).  The outcome is published to
``{prefix}/{device}/modbus/result``::

    {"id": ..., "unit": 1, "table": "holding", "address": 10, "result": "ok"}
    {..., "result": "exception", "exception": 2}
    {"result": "invalid", "error": "..."}       (the request was refused here)

Pure: :func:`parse_write` and :func:`result_json` do no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from circuits.protocols.modbus import ModbusError, WriteCoils, WriteRegisters, WriteSingle
from circuits.protocols.modbus.pdu import Request
from circuits.protocols.modbus.rtu import MAX_UNIT

from .master import Outcome

__all__ = ["WriteAsk", "parse_write", "result_json"]

#: A payload longer than this is not a write anyone meant (123 registers of JSON fit).
MAX_PAYLOAD = 8192


@dataclass(frozen=True, slots=True)
class WriteAsk:
    unit: int
    table: str
    address: int
    request: Request
    id: Any = None


def _int(data: dict[str, Any], key: str, low: int, high: int) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f'"{key}" must be an integer {low}..{high}, got {json.dumps(value)}')
    return value


def parse_write(payload: bytes) -> WriteAsk:
    """The write ``payload`` asks for; ValueError says what is wrong with it."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes (at most {MAX_PAYLOAD})")
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("must be a JSON object")
    unknown = set(data) - {"unit", "table", "address", "value", "values", "id"}
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    unit = _int(data, "unit", 0, MAX_UNIT)
    table = data.get("table", "holding")
    if table not in ("holding", "coil"):
        raise ValueError(f'"table" must be "holding" or "coil" (the writable tables), got {json.dumps(table)}')
    address = _int(data, "address", 0, 0xFFFF)
    if ("value" in data) == ("values" in data):
        raise ValueError('give one of "value" or "values"')
    coil = table == "coil"
    try:
        if "value" in data:
            value = data["value"]
            if coil:
                if not isinstance(value, bool) and value not in (0, 1):
                    raise ValueError(f'a coil "value" is true/false or 1/0, got {json.dumps(value)}')
                request: Request = WriteSingle(5, address, int(bool(value)))
            else:
                request = WriteSingle(6, address, _register(value))
        else:
            values = data["values"]
            if not isinstance(values, list) or not values:
                raise ValueError('"values" must be a non-empty array')
            if coil:
                if not all(isinstance(v, bool) or v in (0, 1) for v in values):
                    raise ValueError('coil "values" are true/false or 1/0')
                request = WriteCoils(address, tuple(bool(v) for v in values))
            else:
                request = WriteRegisters(address, tuple(_register(v) for v in values))
    except ModbusError as exc:
        raise ValueError(str(exc)) from None
    return WriteAsk(unit, table, address, request, data.get("id"))


def _register(value: object) -> int:
    # A register is 16 bits: -32768..-1 are written as their two's complement.
    if isinstance(value, bool) or not isinstance(value, int) or not -0x8000 <= value <= 0xFFFF:
        raise ValueError(f"a register value is an integer -32768..65535, got {json.dumps(value)}")
    return value & 0xFFFF


def result_json(ask: WriteAsk | None, outcome: Outcome | None = None, error: str = "") -> bytes:
    """The ``modbus/result`` message for ``ask`` (None: the payload was refused)."""
    out: dict[str, Any] = {}
    if ask is not None:
        out = {"id": ask.id, "unit": ask.unit, "table": ask.table, "address": ask.address}
    if outcome is None:
        out |= {"result": "invalid", "error": error}
    else:
        out["result"] = outcome.result
        if outcome.result != "ok" and len(outcome.pdu) == 2:
            out["exception"] = outcome.pdu[1]
    return json.dumps(out, separators=(",", ":")).encode()
