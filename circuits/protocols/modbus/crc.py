"""CRC-16/MODBUS (Modbus over Serial Line v1.02, section 6.2.2 and appendix B).

Polynomial 0x8005 reflected (0xA001), initial value 0xFFFF, no final XOR.
The CRC is appended to an RTU frame low byte first.
"""

from __future__ import annotations

__all__ = ["crc16", "append_crc", "check_crc"]


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _make_table()


def crc16(data: bytes | bytearray | memoryview, crc: int = 0xFFFF) -> int:
    """The CRC-16/MODBUS of ``data`` (0x4B37 for b"123456789")."""
    table = _TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def append_crc(frame: bytes) -> bytes:
    """``frame`` followed by its CRC, low byte first."""
    return frame + crc16(frame).to_bytes(2, "little")


def check_crc(frame: bytes | bytearray | memoryview) -> bool:
    """True when the last two bytes of ``frame`` are the CRC of the rest."""
    if len(frame) < 3:
        return False
    # The CRC over a frame including its own (little-endian) CRC is zero.
    return crc16(frame) == 0
