"""The one error type the Modbus codec raises."""

from __future__ import annotations

__all__ = ["ModbusError", "ILLEGAL_FUNCTION", "ILLEGAL_DATA_ADDRESS", "ILLEGAL_DATA_VALUE"]

# Modbus Application Protocol v1.1b3, section 7 "MODBUS Exception Responses".
ILLEGAL_FUNCTION = 0x01
ILLEGAL_DATA_ADDRESS = 0x02
ILLEGAL_DATA_VALUE = 0x03


class ModbusError(ValueError):
    """Malformed or out-of-limit Modbus data.

    ``exception_code`` is the Modbus exception a server would answer with for
    this request (section 7): 0x01 for an unknown function code, 0x02 for an
    address range past 0xFFFF, 0x03 for a bad count or length.
    """

    def __init__(self, message: str, exception_code: int = ILLEGAL_DATA_VALUE) -> None:
        super().__init__(message)
        self.exception_code = exception_code
