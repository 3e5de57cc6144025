"""pymodbus's own Modbus TCP -> RTU forwarder: the peer for bench/modbus_tcp_rtu.py.

    python bench/modbus_pymodbus_forwarder.py SERIAL_PORT TCP_PORT [--baudrate B]

pymodbus 3.x dropped its remote-device context, so this is the nearest thing
built from its public parts: a pymodbus ``ModbusTcpServer`` whose server
context forwards every read and write through one pymodbus
``AsyncModbusSerialClient`` (RTU framer) on SERIAL_PORT.  The bus is
half-duplex, so requests go out one at a time (a lock), as in our gateway.
Prints ``ready`` once both ends are open.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import Any

from pymodbus.client import AsyncModbusSerialClient
from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.server import ModbusTcpServer


class ForwardingContext(ModbusServerContext):
    """A server context whose every device is the RTU bus behind ``client``."""

    def __init__(self, client: AsyncModbusSerialClient) -> None:  # no super(): no datastore here
        self.client = client
        self.lock = asyncio.Lock()
        self.old_simulator = True  # pymodbus then calls async_getValues/async_setValues as is
        self.simdevices = []
        self._devices = {}

    def device_ids(self) -> list[int]:
        return [0]

    async def async_getValues(self, device_id: int, func_code: int, address: int,
                              count: int = 1) -> Any:
        read = {1: self.client.read_coils, 2: self.client.read_discrete_inputs,
                3: self.client.read_holding_registers, 4: self.client.read_input_registers}.get(func_code)
        if read is None:  # after a write pymodbus reads back; the write's answer is enough
            return [0] * count
        async with self.lock:
            try:
                answer = await read(address, count=count, device_id=device_id)
            except Exception:  # noqa: BLE001 - a timeout or a broken frame: no answer from the unit
                return ExcCodes.GATEWAY_NO_RESPONSE
        if answer.isError():
            return ExcCodes(answer.exception_code)
        return answer.bits[:count] if func_code in (1, 2) else answer.registers

    async def async_setValues(self, device_id: int, func_code: int, address: int,
                              values: Sequence[int] | Sequence[bool]) -> Any:
        async with self.lock:
            try:
                if func_code in (5, 15):
                    answer = await self.client.write_coils(address, [bool(v) for v in values],
                                                           device_id=device_id)
                else:
                    answer = await self.client.write_registers(address, [int(v) for v in values],
                                                               device_id=device_id)
            except Exception:  # noqa: BLE001
                return ExcCodes.GATEWAY_NO_RESPONSE
        return ExcCodes(answer.exception_code) if answer.isError() else None


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("serial")
    parser.add_argument("tcp_port", type=int)
    parser.add_argument("--baudrate", type=int, default=115200)
    args = parser.parse_args()
    client = AsyncModbusSerialClient(args.serial, baudrate=args.baudrate, timeout=1, retries=0)
    assert await client.connect(), "the serial port did not open"
    server = ModbusTcpServer(ForwardingContext(client), address=("127.0.0.1", args.tcp_port))
    await server.serve_forever(background=True)  # returns once listening
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
