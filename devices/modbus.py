"""The ``modbus`` profile: a Modbus RTU bus, and register values -> fields.

The gateway is the bus master (``gateway.modbus``): it does not parse the
byte stream as messages, so the profile is ``bridge_only`` like ``raw``.
What is pure, and lives here, is turning the registers or bits a unit
answered into the configured field values (:func:`decode_value`).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from circuits.protocols.modbus import (
    ExceptionResponse,
    ModbusError,
    ReadRequest,
    RegistersResponse,
    WriteRegisters,
    WriteResponse,
    WriteSingle,
    decode_request,
    encode_frame,
)

from .profile import Fields, FieldValue, Profile, ProfileOptions

if TYPE_CHECKING:
    import random  # simulate() takes a Random: only simulators (demo, tests) make one

__all__ = ["PROFILE", "REGISTER_WIDTH", "MeterSlave", "decode_value"]

#: Registers a value of each type occupies (bit tables: one bit).
REGISTER_WIDTH = {"int16": 1, "uint16": 1, "bool": 1, "int32": 2, "uint32": 2, "float32": 2}


def decode_value(words: Sequence[int | bool], kind: str, word_order: str = "big",
                 scale: float = 1.0, offset: float = 0.0) -> FieldValue:
    """The field value of ``words`` (registers, or one bit) read as ``kind``.

    32-bit values take two registers, the high word first with ``word_order
    = "big"`` (the Modbus convention for bytes within a register, which is
    always big-endian), the low word first with ``"little"``.  A value is
    ``raw * scale + offset``; with neither set an integer stays an integer.
    A float that is not finite (a meter's NaN for "no value") is None.
    """
    if kind == "bool":
        return bool(words[0])
    if REGISTER_WIDTH[kind] == 2:
        high, low = (words[0], words[1]) if word_order == "big" else (words[1], words[0])
        raw = struct.pack(">HH", int(high), int(low))
        value: float | int = _float32(raw) if kind == "float32" else \
            struct.unpack(">i" if kind == "int32" else ">I", raw)[0]
    else:
        value = int(words[0])
        if kind == "int16" and value >= 0x8000:
            value -= 0x10000
    if scale != 1.0 or offset != 0.0:
        value = value * scale + offset
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _float32(raw: bytes) -> float:
    """The shortest decimal that is this float32 (230.1, not 230.10000610351562)."""
    value: float = struct.unpack(">f", raw)[0]
    if math.isfinite(value):
        for digits in range(6, 10):
            short = float(f"{value:.{digits}g}")
            if struct.pack(">f", short) == raw:
                return short
    return value


def parse(message: bytes, options: ProfileOptions) -> Fields:
    # Bytes on a Modbus bus are answered by the master, not parsed as
    # messages; like ``raw``, report a chunk losslessly if asked.
    return {"length": len(message), "hex": message.hex()}


def simulate(rng: random.Random, options: ProfileOptions) -> Iterator[bytes]:
    """An energy meter's answers: unit 1, four holding registers."""
    while True:
        registers = tuple(rng.randrange(0x10000) for _ in range(4))
        yield encode_frame(1, RegistersResponse(3, registers).encode())


PROFILE = Profile(
    name="modbus",
    description="Modbus RTU bus: the gateway is the master (modbus_tcp, [[device.modbus.read]])",
    parse=parse,
    simulate=simulate,
    framing="raw",
    interval=1.0,
    baudrate=9600,
    bridge_only=True,
)


class MeterSlave:
    """A simulated Modbus energy meter (unit ``unit``), for the demo: pure.

    Input registers 0..7 hold voltage, current and power (float32, high word
    first) and energy in Wh (uint32); holding registers 0..9 are free for
    writes. :meth:`answer` takes a request PDU and returns the response PDU
    (an exception for an address it does not have); :meth:`step` moves the
    values on like a real load.
    """

    INPUTS = 8
    HOLDING = 10

    def __init__(self, rng: random.Random, unit: int = 1) -> None:
        self.unit = unit
        self.rng = rng
        self.voltage = 230.0
        self.current = 2.0
        self.energy_wh = 1000
        self.holding = [0] * self.HOLDING

    def step(self, seconds: float) -> None:
        self.voltage = min(250.0, max(210.0, self.voltage + self.rng.uniform(-0.5, 0.5)))
        self.current = min(16.0, max(0.1, self.current + self.rng.uniform(-0.2, 0.2)))
        self.energy_wh += round(self.voltage * self.current * seconds / 3600) or 1

    def inputs(self) -> list[int]:
        words: list[int] = []
        for value in (self.voltage, self.current, self.voltage * self.current):
            words += struct.unpack(">HH", struct.pack(">f", value))
        return words + list(struct.unpack(">HH", struct.pack(">I", self.energy_wh & 0xFFFFFFFF)))

    def answer(self, pdu: bytes) -> bytes:
        try:
            request = decode_request(pdu)
        except ModbusError as exc:
            return ExceptionResponse(pdu[0] & 0x7F if pdu else 0, exc.exception_code).encode()
        function = request.function
        if isinstance(request, ReadRequest) and function in (3, 4):
            table = self.inputs() if function == 4 else self.holding
            if request.address + request.count > len(table):
                return ExceptionResponse(function, 2).encode()
            return RegistersResponse(function, tuple(table[request.address:request.address + request.count])).encode()
        if isinstance(request, WriteSingle) and function == 6 and request.address < self.HOLDING:
            self.holding[request.address] = request.value
            return request.encode()
        if isinstance(request, WriteRegisters) and request.address + len(request.values) <= self.HOLDING:
            self.holding[request.address:request.address + len(request.values)] = request.values
            return WriteResponse(16, request.address, len(request.values)).encode()
        return ExceptionResponse(function, 1 if function not in (3, 4, 6, 16) else 2).encode()
