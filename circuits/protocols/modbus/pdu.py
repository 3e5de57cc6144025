"""Modbus PDUs: encode and decode requests and responses.

Function codes 1, 2, 3, 4, 5, 6, 15, 16 and 23 and exception responses, from
the Modbus Application Protocol Specification v1.1b3 (section numbers below).
Every decoder checks the limits of that section and raises only
:class:`~.errors.ModbusError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .errors import ILLEGAL_DATA_ADDRESS, ILLEGAL_DATA_VALUE, ILLEGAL_FUNCTION, ModbusError

__all__ = [
    "MAX_PDU",
    "READ_COILS",
    "READ_DISCRETE_INPUTS",
    "READ_HOLDING_REGISTERS",
    "READ_INPUT_REGISTERS",
    "WRITE_SINGLE_COIL",
    "WRITE_SINGLE_REGISTER",
    "WRITE_MULTIPLE_COILS",
    "WRITE_MULTIPLE_REGISTERS",
    "READ_WRITE_MULTIPLE_REGISTERS",
    "FUNCTIONS",
    "READ_LIMITS",
    "ReadRequest",
    "WriteSingle",
    "WriteCoils",
    "WriteRegisters",
    "ReadWriteRegisters",
    "BitsResponse",
    "RegistersResponse",
    "WriteResponse",
    "ExceptionResponse",
    "Request",
    "Response",
    "decode_request",
    "decode_response",
    "check_response",
    "is_write",
]

# Section 4.1: "the size of the MODBUS PDU is limited ... 256 - Server address
# (1 byte) - CRC (2 bytes) = 253 bytes".
MAX_PDU = 253

READ_COILS = 0x01
READ_DISCRETE_INPUTS = 0x02
READ_HOLDING_REGISTERS = 0x03
READ_INPUT_REGISTERS = 0x04
WRITE_SINGLE_COIL = 0x05
WRITE_SINGLE_REGISTER = 0x06
WRITE_MULTIPLE_COILS = 0x0F
WRITE_MULTIPLE_REGISTERS = 0x10
READ_WRITE_MULTIPLE_REGISTERS = 0x17

FUNCTIONS = frozenset({1, 2, 3, 4, 5, 6, 15, 16, 23})
_BIT_READS = frozenset({READ_COILS, READ_DISCRETE_INPUTS})
# 4.4 / serial line 2.2: only writes may be broadcast (unit 0).
_BROADCASTABLE = frozenset({5, 6, 15, 16})

# Quantity limits: 6.1/6.2 (2000 bits), 6.3/6.4 (125 registers), 6.11 (1968
# coils), 6.12 (123 registers), 6.17 (125 read, 121 write).
READ_LIMITS = {1: 2000, 2: 2000, 3: 125, 4: 125}
WRITE_COILS_LIMIT = 1968
WRITE_REGISTERS_LIMIT = 123
RW_READ_LIMIT = 125
RW_WRITE_LIMIT = 121

# 6.5: a coil is written ON with 0xFF00 and OFF with 0x0000; nothing else.
_COIL_ON = 0xFF00


def _check_range(address: int, count: int, limit: int, what: str) -> None:
    if not 1 <= count <= limit:
        raise ModbusError(f"{what}: quantity {count} outside 1..{limit}", ILLEGAL_DATA_VALUE)
    if not 0 <= address <= 0xFFFF:
        raise ModbusError(f"{what}: address {address} outside 0..65535", ILLEGAL_DATA_ADDRESS)
    if address + count > 0x10000:
        raise ModbusError(
            f"{what}: address {address} + quantity {count} runs past 65535", ILLEGAL_DATA_ADDRESS
        )


def _check_register(value: int) -> None:
    if not 0 <= value <= 0xFFFF:
        raise ModbusError(f"register value {value} outside 0..65535")


def _pack_bits(bits: tuple[bool, ...]) -> bytes:
    # 6.1: "The LSB of the first data byte contains the output addressed in
    # the query"; the last byte is padded with zeros.
    out = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            out[i >> 3] |= 1 << (i & 7)
    return bytes(out)


def _unpack_bits(data: bytes, count: int) -> tuple[bool, ...]:
    return tuple(bool(data[i >> 3] >> (i & 7) & 1) for i in range(count))


def _registers(data: bytes) -> tuple[int, ...]:
    return struct.unpack(f">{len(data) // 2}H", data)


def _pack_registers(values: tuple[int, ...]) -> bytes:
    for value in values:
        _check_register(value)
    return struct.pack(f">{len(values)}H", *values)


# -- requests ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """Function 1, 2, 3 or 4: read ``count`` bits or registers from ``address``."""

    function: int
    address: int
    count: int

    def __post_init__(self) -> None:
        if self.function not in READ_LIMITS:
            raise ModbusError(f"function {self.function} is not a read", ILLEGAL_FUNCTION)
        _check_range(self.address, self.count, READ_LIMITS[self.function], "read")

    def encode(self) -> bytes:
        return struct.pack(">BHH", self.function, self.address, self.count)


@dataclass(frozen=True, slots=True)
class WriteSingle:
    """Function 5 (coil, ``value`` 0 or 1) or 6 (register); the response echoes it."""

    function: int
    address: int
    value: int

    def __post_init__(self) -> None:
        if self.function not in (WRITE_SINGLE_COIL, WRITE_SINGLE_REGISTER):
            raise ModbusError(f"function {self.function} is not a single write", ILLEGAL_FUNCTION)
        _check_range(self.address, 1, 1, "write")
        if self.function == WRITE_SINGLE_COIL:
            if self.value not in (0, 1):
                raise ModbusError(f"coil value {self.value} is not 0 or 1")
        else:
            _check_register(self.value)

    def encode(self) -> bytes:
        raw = (_COIL_ON if self.value else 0) if self.function == WRITE_SINGLE_COIL else self.value
        return struct.pack(">BHH", self.function, self.address, raw)


@dataclass(frozen=True, slots=True)
class WriteCoils:
    """Function 15: write ``values`` to consecutive coils from ``address``."""

    address: int
    values: tuple[bool, ...]
    function: int = WRITE_MULTIPLE_COILS

    def __post_init__(self) -> None:
        _check_range(self.address, len(self.values), WRITE_COILS_LIMIT, "write coils")

    def encode(self) -> bytes:
        data = _pack_bits(self.values)
        return struct.pack(">BHHB", 15, self.address, len(self.values), len(data)) + data


@dataclass(frozen=True, slots=True)
class WriteRegisters:
    """Function 16: write ``values`` to consecutive holding registers."""

    address: int
    values: tuple[int, ...]
    function: int = WRITE_MULTIPLE_REGISTERS

    def __post_init__(self) -> None:
        _check_range(self.address, len(self.values), WRITE_REGISTERS_LIMIT, "write registers")
        for value in self.values:
            _check_register(value)

    def encode(self) -> bytes:
        n = len(self.values)
        return struct.pack(">BHHB", 16, self.address, n, 2 * n) + _pack_registers(self.values)


@dataclass(frozen=True, slots=True)
class ReadWriteRegisters:
    """Function 23: write ``values`` at ``write_address``, then read (6.17)."""

    read_address: int
    read_count: int
    write_address: int
    values: tuple[int, ...]
    function: int = READ_WRITE_MULTIPLE_REGISTERS

    def __post_init__(self) -> None:
        _check_range(self.read_address, self.read_count, RW_READ_LIMIT, "read/write read")
        _check_range(self.write_address, len(self.values), RW_WRITE_LIMIT, "read/write write")
        for value in self.values:
            _check_register(value)

    def encode(self) -> bytes:
        n = len(self.values)
        head = struct.pack(">BHHHHB", 23, self.read_address, self.read_count, self.write_address, n, 2 * n)
        return head + _pack_registers(self.values)


Request = ReadRequest | WriteSingle | WriteCoils | WriteRegisters | ReadWriteRegisters


def _need(pdu: bytes, length: int, what: str) -> None:
    if len(pdu) != length:
        raise ModbusError(f"{what}: PDU is {len(pdu)} bytes, expected {length}")


def decode_request(pdu: bytes) -> Request:
    """Decode a request PDU (function code first)."""
    pdu = bytes(pdu)
    if not pdu:
        raise ModbusError("empty PDU")
    if len(pdu) > MAX_PDU:
        raise ModbusError(f"PDU of {len(pdu)} bytes exceeds {MAX_PDU}")
    fc = pdu[0]
    if fc in READ_LIMITS:
        _need(pdu, 5, "read")
        _, address, count = struct.unpack(">BHH", pdu)
        return ReadRequest(fc, address, count)
    if fc in (WRITE_SINGLE_COIL, WRITE_SINGLE_REGISTER):
        _need(pdu, 5, "write single")
        _, address, raw = struct.unpack(">BHH", pdu)
        if fc == WRITE_SINGLE_COIL:
            if raw not in (0, _COIL_ON):
                raise ModbusError(f"coil value 0x{raw:04X} is neither 0xFF00 nor 0x0000")
            raw = 1 if raw else 0
        return WriteSingle(fc, address, raw)
    if fc in (WRITE_MULTIPLE_COILS, WRITE_MULTIPLE_REGISTERS):
        if len(pdu) < 6:
            raise ModbusError("write multiple: PDU too short")
        _, address, count, nbytes = struct.unpack(">BHHB", pdu[:6])
        data = pdu[6:]
        if len(data) != nbytes:
            raise ModbusError(f"write multiple: byte count {nbytes} but {len(data)} data bytes")
        if fc == WRITE_MULTIPLE_COILS:
            if nbytes != (count + 7) // 8:
                raise ModbusError(f"write coils: byte count {nbytes} does not fit {count} coils")
            _check_range(address, count, WRITE_COILS_LIMIT, "write coils")
            return WriteCoils(address, _unpack_bits(data, count))
        if nbytes != 2 * count:
            raise ModbusError(f"write registers: byte count {nbytes} is not 2 x {count}")
        return WriteRegisters(address, _registers(data))
    if fc == READ_WRITE_MULTIPLE_REGISTERS:
        if len(pdu) < 10:
            raise ModbusError("read/write: PDU too short")
        _, raddr, rcount, waddr, wcount, nbytes = struct.unpack(">BHHHHB", pdu[:10])
        data = pdu[10:]
        if nbytes != 2 * wcount or len(data) != nbytes:
            raise ModbusError(f"read/write: byte count {nbytes} does not fit {wcount} registers")
        return ReadWriteRegisters(raddr, rcount, waddr, _registers(data))
    raise ModbusError(f"unsupported function code {fc}", ILLEGAL_FUNCTION)


# -- responses --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BitsResponse:
    """Response to function 1 or 2."""

    function: int
    bits: tuple[bool, ...]

    def encode(self) -> bytes:
        data = _pack_bits(self.bits)
        return bytes((self.function, len(data))) + data


@dataclass(frozen=True, slots=True)
class RegistersResponse:
    """Response to function 3, 4 or 23."""

    function: int
    registers: tuple[int, ...]

    def encode(self) -> bytes:
        data = _pack_registers(self.registers)
        return bytes((self.function, len(data))) + data


@dataclass(frozen=True, slots=True)
class WriteResponse:
    """Response to function 15 or 16: ``address`` and ``count`` written."""

    function: int
    address: int
    count: int

    def encode(self) -> bytes:
        return struct.pack(">BHH", self.function, self.address, self.count)


@dataclass(frozen=True, slots=True)
class ExceptionResponse:
    """Section 7: the function code with its high bit set, and an exception code."""

    function: int
    code: int

    def encode(self) -> bytes:
        return bytes((self.function | 0x80, self.code))


Response = BitsResponse | RegistersResponse | WriteResponse | WriteSingle | ExceptionResponse


def decode_response(pdu: bytes, request: Request | None = None) -> Response:
    """Decode a response PDU.

    With ``request``, the response is checked against it (function, bit and
    register counts, echoed address) and bit lists are cut to the count
    asked for; without it, a bit response holds every bit of its bytes.
    """
    pdu = bytes(pdu)
    if not pdu:
        raise ModbusError("empty PDU")
    if len(pdu) > MAX_PDU:
        raise ModbusError(f"PDU of {len(pdu)} bytes exceeds {MAX_PDU}")
    fc = pdu[0]
    if fc & 0x80:
        _need(pdu, 2, "exception")
        response: Response = ExceptionResponse(fc & 0x7F, pdu[1])
        if request is not None and request.function != fc & 0x7F:
            raise ModbusError(f"exception for function {fc & 0x7F}, asked {request.function}")
        return response
    if request is not None and request.function != fc:
        raise ModbusError(f"response function {fc} does not answer request function {request.function}")
    if fc in (1, 2, 3, 4, 23):
        if len(pdu) < 2 or len(pdu) != 2 + pdu[1]:
            raise ModbusError(f"read response: byte count does not match PDU of {len(pdu)} bytes")
        data = pdu[2:]
        if fc in _BIT_READS:
            count = len(data) * 8
            if request is not None:
                assert isinstance(request, ReadRequest)
                if len(data) != (request.count + 7) // 8:
                    raise ModbusError(f"{len(data)} data bytes do not hold {request.count} bits")
                count = request.count
            return BitsResponse(fc, _unpack_bits(data, count))
        if len(data) % 2:
            raise ModbusError("register response with an odd byte count")
        if request is not None:
            if isinstance(request, ReadWriteRegisters):
                want = request.read_count
            else:
                assert isinstance(request, ReadRequest)
                want = request.count
            if len(data) != 2 * want:
                raise ModbusError(f"{len(data) // 2} registers in response, asked {want}")
        return RegistersResponse(fc, _registers(data))
    if fc in (WRITE_SINGLE_COIL, WRITE_SINGLE_REGISTER):
        echo = decode_request(pdu)
        if request is not None and echo != request:
            raise ModbusError("single write response does not echo the request")
        return echo  # type: ignore[return-value]
    if fc in (WRITE_MULTIPLE_COILS, WRITE_MULTIPLE_REGISTERS):
        _need(pdu, 5, "write multiple response")
        _, address, count = struct.unpack(">BHH", pdu)
        if request is not None:
            assert isinstance(request, WriteCoils | WriteRegisters)
            if (address, count) != (request.address, len(request.values)):
                raise ModbusError("write response does not echo address and quantity")
        return WriteResponse(fc, address, count)
    raise ModbusError(f"unsupported function code {fc}", ILLEGAL_FUNCTION)


def check_response(pdu: bytes, request: Request) -> bool:
    """Check ``pdu`` as the answer to ``request`` without building it: True
    for an exception response, False for a normal one, and ModbusError
    exactly where ``decode_response(pdu, request)`` raises.

    For a relay (the gateway's Modbus TCP server), which passes the bytes on
    and never reads the values.  Register reads, the common case, are
    checked here; anything else is decoded.
    """
    if isinstance(request, ReadRequest) and request.function in (3, 4) and pdu and pdu[0] == request.function:
        size = 2 * request.count
        if len(pdu) == 2 + size and pdu[1] == size:
            return False
    return isinstance(decode_response(pdu, request), ExceptionResponse)


def is_write(pdu: bytes) -> bool:
    """True for a request PDU that writes (the only kind allowed as broadcast)."""
    return bool(pdu) and pdu[0] in _BROADCASTABLE
