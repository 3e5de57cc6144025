"""A Modbus RTU slave for the tests: pymodbus's own serial server, run as a process.

    python modbus_slave.py PORT [--units 1,2] [--baudrate B] [--set TABLE:ADDRESS:V,V,...]

Each unit has 200 of each table: holding register i holds i, input
register i holds 1000 + i, coil i is on when i % 3 == 0, discrete input i
when i % 2 == 0.  ``--set`` overrides values from ADDRESS on (TABLE is
holding, input, coil or discrete).  Addresses from 200 on are invalid (an
illegal data address exception).  Prints ``ready`` once the port is open.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import DataType, SimData, SimDevice

SIZE = 200
TABLES = ("coil", "discrete", "holding", "input")


def tables(overrides: list[tuple[str, int, list[int]]]) -> dict[str, list[int]]:
    values = {
        "coil": [int(i % 3 == 0) for i in range(SIZE)],
        "discrete": [int(i % 2 == 0) for i in range(SIZE)],
        "holding": list(range(SIZE)),
        "input": [1000 + i for i in range(SIZE)],
    }
    for table, address, new in overrides:
        values[table][address:address + len(new)] = new
    return values


def device(unit: int, values: dict[str, list[int]]) -> SimDevice:
    def block(table: str) -> list[SimData]:
        if table in ("coil", "discrete"):
            return [SimData(0, values=[bool(v) for v in values[table]], datatype=DataType.BITS)]
        return [SimData(0, values=list(values[table]), datatype=DataType.REGISTERS)]
    # Non-shared tables, in pymodbus's order: coils, discrete inputs, holding, input.
    return SimDevice(unit, simdata=tuple(block(t) for t in TABLES))


def parse_set(text: str) -> tuple[str, int, list[int]]:
    table, address, values = text.split(":")
    assert table in TABLES, table
    return table, int(address), [int(v, 0) for v in values.split(",")]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port")
    parser.add_argument("--units", default="1,2")
    parser.add_argument("--baudrate", type=int, default=115200)
    parser.add_argument("--set", action="append", type=parse_set, default=[])
    args = parser.parse_args()
    values = tables(args.set)
    units = [int(u) for u in args.units.split(",")]

    def connected(up: bool) -> None:
        if up:
            print("ready", flush=True)

    def absent_units_stay_silent(sending: bool, pdu: Any) -> Any:
        # pymodbus answers a unit it does not simulate with an exception;
        # on a real bus an absent unit says nothing.
        if not sending and pdu.dev_id not in units and pdu.dev_id != 0:
            return None
        return pdu

    server = ModbusSerialServer([device(u, values) for u in units], port=args.port, baudrate=args.baudrate,
                                broadcast_enable=True, trace_connect=connected,
                                trace_pdu=absent_units_stay_silent)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
