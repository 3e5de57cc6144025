"""RFC 6455 base framing: header parsing and serialisation, masking.

Section 5.2 of RFC 6455 defines the wire format::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-------+-+-------------+-------------------------------+
    |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
    |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
    |N|V|V|V|       |S|             |   (if payload len==126/127)   |
    | |1|2|3|       |K|             |                               |
    +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
    |     Extended payload length continued, if payload len == 127  |
    + - - - - - - - - - - - - - - - +-------------------------------+
    |                               |Masking-key, if MASK set to 1  |
    +-------------------------------+-------------------------------+

:func:`parse_header` checks everything that can be checked from the header
alone, so a bad frame is rejected before its payload is buffered.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from .errors import CloseCode, WebSocketError

__all__ = [
    "MAX_CONTROL_PAYLOAD",
    "FrameHeader",
    "Opcode",
    "apply_mask",
    "build_frame",
    "frame_header",
    "parse_header",
]

# Section 5.5: "All control frames MUST have a payload length of 125 bytes or less".
MAX_CONTROL_PAYLOAD = 125


class Opcode(IntEnum):
    """Section 5.2 / 11.8 opcodes; 0x3-0x7 and 0xB-0xF are reserved."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA

    @property
    def is_control(self) -> bool:
        # Section 5.5: control frames are those whose opcode has the MSB set.
        return bool(self & 0x8)


# Lookup table indexed by the 4-bit opcode field; None marks reserved values.
_KNOWN: dict[int, Opcode] = {op.value: op for op in Opcode}
_OPCODES: tuple[Opcode | None, ...] = tuple(_KNOWN.get(i) for i in range(16))

_PACK_16 = struct.Struct("!BBH")
_PACK_64 = struct.Struct("!BBQ")


@dataclass(frozen=True, slots=True)
class FrameHeader:
    fin: bool
    opcode: Opcode
    payload_length: int
    masking_key: bytes | None
    header_length: int  # bytes of header, masking key included


def _protocol_error(message: str) -> WebSocketError:
    return WebSocketError(CloseCode.PROTOCOL_ERROR, message)


def parse_header(buf: bytes | bytearray, expect_masked: bool | None = None) -> FrameHeader | None:
    """Parse a frame header at the start of ``buf``.

    Returns None if ``buf`` does not yet hold the whole header.  Raises
    :class:`WebSocketError` (1002) as soon as the bytes available show the
    header is invalid.  ``expect_masked`` enforces section 5.1 (True when we
    are a server, False when we are a client, None to skip the check).
    """
    n = len(buf)
    if n < 2:
        return None
    b0 = buf[0]
    b1 = buf[1]
    # Section 5.2: "RSV1, RSV2, RSV3: ... MUST be 0 unless an extension is
    # negotiated that defines meanings for non-zero values."  We negotiate none.
    if b0 & 0x70:
        raise _protocol_error("reserved bits set without a negotiated extension")
    opcode = _OPCODES[b0 & 0x0F]
    if opcode is None:
        # Section 5.2: "If an unknown opcode is received, the receiving
        # endpoint MUST _Fail the WebSocket Connection_."
        raise _protocol_error(f"reserved opcode {b0 & 0x0F:#x}")
    fin = bool(b0 & 0x80)
    masked = bool(b1 & 0x80)
    length = b1 & 0x7F
    if opcode & 0x8:
        # Section 5.5: "Control frames ... MUST NOT be fragmented" and have a
        # payload of 125 bytes or less.
        if not fin:
            raise _protocol_error("fragmented control frame")
        if length > MAX_CONTROL_PAYLOAD:
            raise _protocol_error("control frame payload longer than 125 bytes")
    if expect_masked is not None and masked != expect_masked:
        # Section 5.1: "a client MUST mask all frames that it sends to the
        # server ... The server MUST close the connection upon receiving a
        # frame that is not masked" and "A server MUST NOT mask any frames
        # ... A client MUST close a connection if it detects a masked frame."
        raise _protocol_error("unmasked frame from client" if expect_masked else "masked frame from server")
    pos = 2
    if length == 126:
        if n < 4:
            return None
        length = (buf[2] << 8) | buf[3]
        # Section 5.2: "the minimal number of bytes MUST be used to encode
        # the length".
        if length < 126:
            raise _protocol_error("non-minimal 16-bit payload length")
        pos = 4
    elif length == 127:
        if n < 10:
            return None
        length = int.from_bytes(buf[2:10], "big")
        # Section 5.2: "the most significant bit MUST be 0".
        if length >> 63:
            raise _protocol_error("64-bit payload length with the high bit set")
        if length < 0x10000:
            raise _protocol_error("non-minimal 64-bit payload length")
        pos = 10
    key: bytes | None = None
    if masked:
        if n < pos + 4:
            return None
        key = bytes(buf[pos : pos + 4])
        pos += 4
    return FrameHeader(fin, opcode, length, key, pos)


def apply_mask(data: bytes | bytearray | memoryview, key: bytes) -> bytes:
    """XOR ``data`` with the repeating 4-byte ``key`` (section 5.3).

    Masking and unmasking are the same operation.  The whole payload is
    XORed as one big integer: linear time, C speed, no per-byte Python loop.
    """
    n = len(data)
    if n == 0:
        return b""
    if len(key) != 4:
        raise ValueError("masking key must be 4 bytes")
    # Section 5.3: octet i of the result is octet i of the data XOR octet
    # (i MOD 4) of the masking key.
    stream = (key * ((n + 3) >> 2))[:n]
    value = int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")
    return value.to_bytes(n, "little")


def frame_header(opcode: Opcode | int, length: int) -> bytes:
    """The header of an unmasked, final frame of ``length`` payload bytes.

    For a sender that joins many frames into one write: header and payload
    can then go into one ``b"".join`` without building each frame first.
    """
    return _header(0x80 | (int(opcode) & 0x0F), 0, length)


def _header(b0: int, mask_bit: int, n: int) -> bytes:
    # Section 5.2: the minimal length encoding (7 bits, 16 or 64).
    if n < 126:
        return bytes((b0, mask_bit | n))
    if n < 0x10000:
        return _PACK_16.pack(b0, mask_bit | 126, n)
    return _PACK_64.pack(b0, mask_bit | 127, n)


def build_frame(
    opcode: Opcode | int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    masking_key: bytes | None = None,
    rsv: int = 0,
) -> bytes:
    """Serialise one frame, using the minimal length encoding (section 5.2).

    ``rsv`` (0-7) sets RSV1-RSV3; only useful to build invalid test frames.
    """
    b0 = (0x80 if fin else 0) | ((rsv & 0x7) << 4) | (int(opcode) & 0x0F)
    header = _header(b0, 0x80 if masking_key is not None else 0, len(payload))
    if masking_key is None:
        return header + payload
    return header + masking_key + apply_mask(payload, masking_key)
