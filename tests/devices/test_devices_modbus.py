"""devices.modbus: register words -> field values, and the demo's meter."""

from __future__ import annotations

import math
import random
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.modbus import MeterSlave, decode_value


@pytest.mark.parametrize(("words", "kind", "order", "expected"), [
    ((0xFFFB,), "int16", "big", -5),
    ((0xFFFB,), "uint16", "big", 0xFFFB),
    ((0xFFFE, 0x7960), "int32", "big", -100000),
    ((0x7960, 0xFFFE), "int32", "little", -100000),
    ((0x0001, 0xE240), "uint32", "big", 123456),
    ((0x4366, 0x8000), "float32", "big", 230.5),
    ((0x8000, 0x4366), "float32", "little", 230.5),
    ((0x7FC0, 0x0000), "float32", "big", None),  # NaN: no value
    ((0x7F80, 0x0000), "float32", "big", None),  # +inf
    ((True,), "bool", "big", True),
    ((7,), "bool", "big", True),
])
def test_decode(words: tuple[int, ...], kind: str, order: str, expected: object) -> None:
    assert decode_value(words, kind, order) == expected


def test_scale_and_offset() -> None:
    assert decode_value((0xFFFB,), "int16", scale=0.5, offset=10) == 7.5
    assert decode_value((100,), "uint16") == 100 and isinstance(decode_value((100,), "uint16"), int)


@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_float32_round_trips_as_its_shortest_decimal(value: float) -> None:
    words = struct.unpack(">HH", struct.pack(">f", value))
    got = decode_value(words, "float32")
    assert isinstance(got, float) and struct.pack(">f", got) == struct.pack(">f", value)
    assert len(repr(got)) <= len(repr(value))


def test_meter_answers_reads_writes_and_exceptions() -> None:
    meter = MeterSlave(random.Random(1))
    meter.step(1.0)
    answer = meter.answer(bytes([4, 0, 0, 0, 8]))
    assert answer[:2] == bytes([4, 16])
    volts = struct.unpack(">f", answer[2:6])[0]
    assert 210 <= volts <= 250 and math.isfinite(volts)
    assert meter.answer(bytes([6, 0, 2, 0, 9])) == bytes([6, 0, 2, 0, 9])
    assert meter.answer(bytes([3, 0, 0, 0, 3])) == bytes([3, 6, 0, 0, 0, 0, 0, 9])
    assert meter.answer(bytes([4, 0, 7, 0, 2])) == bytes([0x84, 2])  # past input register 7
    assert meter.answer(bytes([1, 0, 0, 0, 1])) == bytes([0x81, 1])  # no coils
    assert meter.answer(bytes([0x2B, 0x0E])) == bytes([0xAB, 1])
