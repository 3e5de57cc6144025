"""Sans-I/O Modbus: PDUs, RTU framing and the Modbus TCP (MBAP) header.

Nothing here does I/O; :class:`ModbusError` is the only error raised.
"""

from .crc import append_crc, check_crc, crc16
from .errors import ModbusError
from .mbap import MbapDecoder, TcpAdu, encode_adu
from .pdu import (
    BitsResponse,
    ExceptionResponse,
    ReadRequest,
    ReadWriteRegisters,
    RegistersResponse,
    WriteCoils,
    WriteRegisters,
    WriteResponse,
    WriteSingle,
    check_response,
    decode_request,
    decode_response,
    is_write,
)
from .rtu import Discarded, RtuDecoder, RtuFrame, encode_frame, silent_interval

__all__ = [
    "BitsResponse",
    "Discarded",
    "ExceptionResponse",
    "MbapDecoder",
    "ModbusError",
    "ReadRequest",
    "ReadWriteRegisters",
    "RegistersResponse",
    "RtuDecoder",
    "RtuFrame",
    "TcpAdu",
    "WriteCoils",
    "WriteRegisters",
    "WriteResponse",
    "WriteSingle",
    "append_crc",
    "check_crc",
    "check_response",
    "crc16",
    "decode_request",
    "decode_response",
    "encode_adu",
    "encode_frame",
    "is_write",
    "silent_interval",
]
