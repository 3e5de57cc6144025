"""The ``modbus`` profile: a Modbus RTU bus, and register values -> fields.

The gateway is the bus master (``gateway.modbus``): it does not parse the
byte stream as messages, so the profile is ``bridge_only`` like ``raw``.
What is pure, and lives here, is turning the registers or bits a unit
answered into the configured field values (:func:`decode_value`).
"""

from __future__ import annotations

import math
import random
import struct
from collections.abc import Iterator, Sequence

from circuits.protocols.modbus import RegistersResponse, encode_frame

from .profile import Fields, FieldValue, Profile, ProfileOptions

__all__ = ["PROFILE", "REGISTER_WIDTH", "decode_value"]

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
        fmt = {"int32": ">i", "uint32": ">I", "float32": ">f"}[kind]
        value: float | int = struct.unpack(fmt, raw)[0]
    else:
        value = int(words[0])
        if kind == "int16" and value >= 0x8000:
            value -= 0x10000
    if scale != 1.0 or offset != 0.0:
        value = value * scale + offset
    if isinstance(value, float) and not math.isfinite(value):
        return None
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
