"""Which requests poll the configured values: adjacent registers in one read.

Pure: from the ``[[device.modbus.read]]`` entries to :class:`Block` s, and
from a block's answer to field values.  Values of one unit, table and
interval whose registers (or bits) are adjacent are read with one request,
up to the spec's limit per request (Modbus Application Protocol 6.1-6.4:
2000 bits, 125 registers).  Values are never merged across a gap: the
registers in between may not exist, and reading them would fail the whole
request with an illegal address exception.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.protocols.modbus import BitsResponse, ReadRequest, RegistersResponse
from circuits.protocols.modbus.pdu import READ_LIMITS
from devices.modbus import decode_value
from devices.profile import FieldValue

from ..config.model import ModbusRead

__all__ = ["FUNCTION", "Block", "plan"]

#: The read function of each table (6.1-6.4).
FUNCTION = {"coil": 1, "discrete": 2, "holding": 3, "input": 4}


@dataclass(frozen=True, slots=True)
class Block:
    """One read request and the values it carries."""

    unit: int
    table: str
    address: int
    count: int
    every: float
    reads: tuple[ModbusRead, ...]

    @property
    def request(self) -> ReadRequest:
        return ReadRequest(FUNCTION[self.table], self.address, self.count)

    def values(self, response: RegistersResponse | BitsResponse) -> dict[str, FieldValue]:
        """The field values in ``response`` (already checked against :attr:`request`)."""
        words = response.bits if isinstance(response, BitsResponse) else response.registers
        out: dict[str, FieldValue] = {}
        for read in self.reads:
            start = read.address - self.address
            out[read.name] = decode_value(words[start:start + read.width], read.type, read.word_order,
                                          read.scale, read.offset)
        return out


def plan(reads: tuple[ModbusRead, ...]) -> list[Block]:
    """The blocks polling ``reads``, in a stable order (unit, table, address)."""
    groups: dict[tuple[int, str, float], list[ModbusRead]] = {}
    for read in reads:
        groups.setdefault((read.unit, read.table, read.every), []).append(read)
    blocks: list[Block] = []
    for (unit, table, every), members in sorted(groups.items()):
        limit = READ_LIMITS[FUNCTION[table]]
        current: list[ModbusRead] = []
        for read in sorted(members, key=lambda r: r.address):
            if current:
                start = current[0].address
                end = current[-1].address + current[-1].width
                if read.address == end and read.address + read.width - start <= limit:
                    current.append(read)
                    continue
                blocks.append(_block(unit, table, every, current))
            current = [read]
        if current:
            blocks.append(_block(unit, table, every, current))
    return blocks


def _block(unit: int, table: str, every: float, reads: list[ModbusRead]) -> Block:
    start = reads[0].address
    count = reads[-1].address + reads[-1].width - start
    return Block(unit, table, start, count, every, tuple(reads))
