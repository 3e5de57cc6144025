"""Modbus TCP framing: the MBAP header (Modbus Messaging on TCP/IP v1.0b, 3.1.3).

``transaction id (2), protocol id (2) = 0, length (2), unit id (1)``, then the
PDU.  ``length`` counts the unit id and the PDU, so it is 2..254.
"""

from __future__ import annotations

import struct
from collections import deque
from typing import NamedTuple

from .errors import ModbusError
from .pdu import MAX_PDU

__all__ = ["MBAP_LENGTH", "TcpAdu", "MbapDecoder", "encode_adu"]

MBAP_LENGTH = 7
_HEADER = struct.Struct(">HHHB")


class TcpAdu(NamedTuple):
    """One Modbus TCP request or response (a named tuple: one is made per request)."""

    transaction: int
    unit: int
    pdu: bytes


def encode_adu(transaction: int, unit: int, pdu: bytes) -> bytes:
    """The Modbus TCP ADU carrying ``pdu``."""
    if not 0 <= transaction <= 0xFFFF:
        raise ModbusError(f"transaction id {transaction} outside 0..65535")
    if not 0 <= unit <= 0xFF:
        raise ModbusError(f"unit id {unit} outside 0..255")
    if not 1 <= len(pdu) <= MAX_PDU:
        raise ModbusError(f"PDU of {len(pdu)} bytes outside 1..{MAX_PDU}")
    return _HEADER.pack(transaction, 0, len(pdu) + 1, unit) + bytes(pdu)


class MbapDecoder:
    """Split a Modbus TCP stream into :class:`TcpAdu` events.

    A header with a protocol id other than 0 or a length outside 2..254 makes
    the stream unusable (there is no way to find the next header), so
    :meth:`next_event` raises :class:`ModbusError` and the caller closes the
    connection.
    """

    __slots__ = ("_buf", "_events")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._events: deque[TcpAdu] = deque()

    def receive_data(self, data: bytes) -> None:
        self._buf += data

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def next_event(self) -> TcpAdu | None:
        buf = self._buf
        if len(buf) < MBAP_LENGTH:
            return None
        transaction, protocol, length, unit = _HEADER.unpack_from(buf)
        if protocol != 0:
            raise ModbusError(f"MBAP protocol id {protocol}, expected 0")
        if not 2 <= length <= MAX_PDU + 1:
            raise ModbusError(f"MBAP length {length} outside 2..{MAX_PDU + 1}")
        end = MBAP_LENGTH - 1 + length
        if len(buf) < end:
            return None
        pdu = bytes(buf[MBAP_LENGTH:end])
        del buf[:end]
        return TcpAdu(transaction, unit, pdu)

    def __iter__(self):
        while (adu := self.next_event()) is not None:
            yield adu
