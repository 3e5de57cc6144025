"""The keys of a ``profile = "modbus"`` device: ``modbus_tcp`` and ``[device.modbus]``.

::

    modbus_tcp = "0.0.0.0:5020"      # Modbus TCP clients share the RTU bus
    [device.modbus]
    timeout = 1.0                    # seconds a unit has to answer
    queue = 32                       # requests waiting per TCP client / for the poller
    turnaround = 0.1                 # seconds of quiet after a broadcast
    poll = 10                        # default seconds between polls
    rs485 = false                    # the kernel's RS-485 mode (TIOCSRS485)
    client_idle = 300                # seconds a silent Modbus TCP client stays connected
    client_partial = 5               # seconds a client has to finish a started request
    frame_gap = "t3.5"               # silence before the next request: "t3.5" or milliseconds (0: none)
    [[device.modbus.read]]
    unit = 1
    name = "voltage"
    table = "input"                  # holding | input | coil | discrete
    address = 0
    type = "float32"                 # int16 uint16 int32 uint32 float32 bool
    word_order = "big"               # of 32-bit values: big = high word first
    scale = 1.0                      # value = raw * scale + offset
    offset = 0.0
    every = 5                        # seconds; default poll
    device_class = "voltage"         # Home Assistant discovery (unit: [device.fields.NAME] unit)
    state_class = "measurement"      # measurement | total | total_increasing

Everything a running master could trip over is refused here, with the
line: units outside 1..247, a value running past address 65535, two values
sharing a register, a register type on a bit table.
"""

from __future__ import annotations

import re
from typing import Any

from .fields import Table, show
from .model import ModbusConfig, ModbusRead
from .presentation import _number

__all__ = ["MODBUS_TABLES", "MODBUS_TYPES", "read_modbus"]

MODBUS_TABLES = ("holding", "input", "coil", "discrete")
MODBUS_TYPES = ("int16", "uint16", "int32", "uint32", "float32", "bool")
_BIT_TABLES = frozenset({"coil", "discrete"})
#: Field names go into JSON, MQTT discovery ids and the dashboard.
#: Home Assistant's device classes are lower-case words joined by "_".
_DEVICE_CLASS = re.compile(r"[a-z][a-z0-9_]{0,63}")
STATE_CLASSES = ("measurement", "total", "total_increasing")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
#: Modbus over Serial Line 2.2: 1..247 are device addresses (0 is broadcast,
#: which is never answered, so it cannot be read).
MAX_UNIT = 247
#: A unit that needs more than a minute to answer is dead.
MAX_TIMEOUT = 60.0
MAX_QUEUE = 10_000
MAX_POLL = 86_400.0
#: A frame gap of a second would be a misread unit (seconds for ms); t3.5
#: at 1200 baud, the slowest rate in use, is 32 ms.
MAX_FRAME_GAP_MS = 1000.0
#: ``frame_gap``'s word for the spec's interval.
SPEC_GAP = "t3.5"


def read_modbus(t: Table, profile: str | None) -> dict[str, Any]:
    """``modbus_tcp`` and ``modbus`` for :class:`~.model.DeviceConfig` (``{}`` if neither applies)."""
    tcp = t.address("modbus_tcp")
    table = t.table("modbus")
    if profile != "modbus":
        if profile is not None:
            for key in ("modbus_tcp", "modbus"):
                if t.has(key):
                    t.error(key, 'only valid with profile = "modbus"')
        return {}
    if t.has("tcp"):
        # Raw bytes from TCP clients would collide with the master's frames
        # (gateway.config.rfc2217 refuses rfc2217 here for the same reason).
        t.error("tcp", 'not valid with profile = "modbus": the gateway is the bus master; '
                "give modbus_tcp for Modbus TCP clients")
    config = _modbus(table) if table is not None else ModbusConfig()
    if not t.has("modbus_tcp") and not (table is not None and table.has("read")):
        t.error("profile", 'a "modbus" device needs modbus_tcp or [[device.modbus.read]] entries')
    return {"modbus_tcp": tcp, "modbus": config}


def _modbus(t: Table) -> ModbusConfig:
    timeout = t.positive("timeout", 1.0, MAX_TIMEOUT)
    queue = t.integer("queue", 32, minimum=1, maximum=MAX_QUEUE)
    turnaround = t.positive("turnaround", 0.1, MAX_TIMEOUT)
    poll = t.positive("poll", 10.0, MAX_POLL)
    rs485 = t.boolean("rs485", False)
    client_idle = t.positive("client_idle", 300.0, MAX_POLL)
    client_partial = t.positive("client_partial", 5.0, MAX_TIMEOUT)
    frame_gap = _frame_gap(t)
    reads = _reads(t, poll or 10.0)
    t.finish()
    return ModbusConfig(timeout=timeout or 1.0, queue=queue or 32, turnaround=turnaround or 0.1,
                        poll=poll or 10.0, reads=reads, rs485=rs485,
                        client_idle=client_idle or 300.0, client_partial=client_partial or 5.0,
                        frame_gap=frame_gap)


def _frame_gap(t: Table) -> float | None:
    """``frame_gap``: None for "t3.5" (the default), else seconds from a number of milliseconds.

    0 is allowed: a pty, a USB adapter or a TCP-serial converter frames on
    its own, and the silence only costs throughput there.
    """
    value = t.raw("frame_gap")
    if value is None or value == SPEC_GAP:
        return None
    if type(value) not in (int, float):  # bool is an int: checked exactly
        t.error("frame_gap", f'must be "{SPEC_GAP}" or a number of milliseconds, got {t.show_type(value)}')
        return None
    if not 0 <= value <= MAX_FRAME_GAP_MS:  # also rejects nan
        t.error("frame_gap", f"must be 0..{MAX_FRAME_GAP_MS:g} milliseconds, got {value:g}")
        return None
    return value / 1000.0


def _reads(t: Table, poll: float) -> tuple[ModbusRead, ...]:
    raw = t.raw("read")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        t.error("read", f"must be an array of tables ([[device.modbus.read]]), got {show(raw)}")
        return ()
    reads: list[ModbusRead] = []
    names: dict[str, int] = {}
    # (unit, table) -> [(first, last, name, line)] for the overlap check.
    spans: dict[tuple[int, str], list[tuple[int, int, str, int]]] = {}
    for index, data in enumerate(raw):
        r = Table(t.ctx, data, t.path + ("read", index), t.section, f"{t.prefix}read[{index + 1}].")
        read = _read(r, poll)
        if read is None:
            continue
        if read.name in names:
            r.error("name", f"duplicate field name, first used on line {names[read.name]}")
            continue
        names[read.name] = r.line("name")
        first, last = read.address, read.address + read.width - 1
        for other_first, other_last, other, line in spans.setdefault((read.unit, read.table), []):
            if first <= other_last and other_first <= last:
                r.error("address", f"{read.table} {first}..{last} of unit {read.unit} overlaps "
                        f"{show(other)} ({other_first}..{other_last}, line {line})")
                break
        else:
            spans[(read.unit, read.table)].append((first, last, read.name, r.line("address")))
            reads.append(read)
    return tuple(reads)


def _read(r: Table, poll: float) -> ModbusRead | None:
    before = len(r.ctx.problems)
    unit = r.integer("unit", required=True, minimum=1, maximum=MAX_UNIT)
    name = r.string("name", required=True, pattern=_FIELD,
                    pattern_hint="must be 1-64 letters, digits, _ . or -, starting with a letter or _")
    table = r.choice("table", MODBUS_TABLES, required=True, fold=str.lower)
    address = r.integer("address", required=True, minimum=0, maximum=0xFFFF)
    bits = table in _BIT_TABLES
    kind = r.choice("type", MODBUS_TYPES, "bool" if bits else "uint16", fold=str.lower)
    order = r.choice("word_order", ("big", "little"), "big", fold=str.lower)
    scale = _number(r, "scale")
    offset = _number(r, "offset")
    every = r.positive("every", poll, MAX_POLL)
    device_class = r.string("device_class", pattern=_DEVICE_CLASS,
                            pattern_hint='must be a Home Assistant device class such as "voltage"')
    state_class = r.choice("state_class", STATE_CLASSES, fold=str.lower)
    if bits and kind is not None and kind != "bool":
        r.error("type", f'a {table} is one bit: type must be "bool", got {show(kind)}')
    if kind == "bool" and (scale is not None or offset is not None):
        r.error("scale" if scale is not None else "offset", 'not valid with type = "bool"')
    if r.has("word_order") and kind in ("int16", "uint16", "bool"):
        r.error("word_order", f"only valid with a 32-bit type, not {show(kind)}")
    if kind in ("int32", "uint32", "float32") and address == 0xFFFF:
        r.error("address", f"a {kind} at 65535 runs past the last register")
    r.finish()
    if len(r.ctx.problems) != before:
        return None
    assert unit is not None and name is not None and table is not None and address is not None
    return ModbusRead(unit=unit, name=name, table=table, address=address, type=kind, word_order=order,
                      scale=1.0 if scale is None else scale, offset=0.0 if offset is None else offset,
                      every=every or poll, device_class=device_class, state_class=state_class)
