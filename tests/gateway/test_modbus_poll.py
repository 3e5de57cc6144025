"""Polled registers -> readings, with a pymodbus RTU slave on a socat pair.

The plan (which requests carry which values) is checked as a pure function;
the rest runs the gateway: values with types, word orders, scale and offset
arrive as readings on the bus and over MQTT (a real mosquitto) exactly; a
unit that stops answering is stale while the other keeps going; a TCP
client that keeps its queue full does not starve the polls.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import urllib.request
from pathlib import Path

import modbus_harness as mh  # registered by this folder's conftest
import mqtt_fixtures as fx
import pytest

from gateway.config.model import ModbusRead
from gateway.modbus.plan import plan

pytestmark = pytest.mark.timeout(120)


def r(name: str, address: int, table: str = "holding", kind: str = "uint16", unit: int = 1,
      every: float = 10.0) -> ModbusRead:
    return ModbusRead(unit, name, table, address, kind, every=every)


def test_plan_merges_adjacent_values_only() -> None:
    blocks = plan((
        r("a", 10, kind="float32"), r("b", 12), r("c", 13, kind="int32"),  # 10..14: one read
        r("gap", 16),  # not adjacent: its own read
        r("other_unit", 15, unit=2), r("input", 15, "input"),  # other unit, other table
        r("slow", 15, every=60.0),  # adjacent, but another interval
        r("c0", 0, "coil", "bool"), r("c1", 1, "coil", "bool"),
    ))
    shape = [(b.unit, b.table, b.address, b.count, b.every, [x.name for x in b.reads]) for b in blocks]
    assert shape == [
        (1, "coil", 0, 2, 10.0, ["c0", "c1"]),
        (1, "holding", 10, 5, 10.0, ["a", "b", "c"]),
        (1, "holding", 16, 1, 10.0, ["gap"]),
        (1, "holding", 15, 1, 60.0, ["slow"]),
        (1, "input", 15, 1, 10.0, ["input"]),
        (2, "holding", 15, 1, 10.0, ["other_unit"]),
    ]
    assert [(b.request.function, b.request.address, b.request.count) for b in blocks[:2]] == [(1, 0, 2), (3, 10, 5)]


def test_plan_respects_the_register_limit_per_request() -> None:
    blocks = plan(tuple(r(f"v{i}", i * 2, kind="uint32") for i in range(100)))  # 200 registers
    assert [(b.address, b.count) for b in blocks] == [(0, 124), (124, 76)]


# -- against the slave ----------------------------------------------------------

# Unit 1's registers: (table, address, values) set on the slave.
F32_BIG = struct.unpack(">HH", struct.pack(">f", 230.5))
F32_LITTLE = struct.unpack(">HH", struct.pack(">f", -1.25))[::-1]
I32 = struct.unpack(">HH", struct.pack(">i", -100000))
U32 = struct.unpack(">HH", struct.pack(">I", 123456))
SLAVE_SET = [
    f"input:0:{F32_BIG[0]},{F32_BIG[1]},{F32_LITTLE[0]},{F32_LITTLE[1]},{U32[0]},{U32[1]}",
    f"holding:10:{I32[0]},{I32[1]},{0xFFFB}",
]
READS = """
poll = 0.2
[[device.modbus.read]]
unit = 1
name = "volts"
table = "input"
address = 0
type = "float32"
[[device.modbus.read]]
unit = 1
name = "amps"
table = "input"
address = 2
type = "float32"
word_order = "little"
[[device.modbus.read]]
unit = 1
name = "kwh"
table = "input"
address = 4
type = "uint32"
scale = 0.01
[[device.modbus.read]]
unit = 1
name = "delta"
table = "holding"
address = 10
type = "int32"
[[device.modbus.read]]
unit = 1
name = "temp"
table = "holding"
address = 12
type = "int16"
scale = 0.5
offset = 10
[[device.modbus.read]]
unit = 1
name = "thirteen"
table = "holding"
address = 13
[[device.modbus.read]]
unit = 1
name = "pump"
table = "coil"
address = 0
[[device.modbus.read]]
unit = 1
name = "door"
table = "discrete"
address = 5
[[device.modbus.read]]
unit = 2
name = "u2_hr7"
table = "holding"
address = 7
"""
UNIT1 = {"volts": 230.5, "amps": -1.25, "kwh": 123456 * 0.01, "delta": -100000, "temp": -5 * 0.5 + 10,
         "thirteen": 13, "pump": True, "door": False}


def test_polled_values_arrive_as_readings_and_on_mqtt(tmp_path: Path) -> None:
    slave_args = [a for s in SLAVE_SET for a in ("--set", s)]
    with mh.polled_over_mqtt(tmp_path, "timeout = 0.5\n" + READS, ["test/gw/bus/reading"],
                             *slave_args) as (gw, bus, sub, _port):
        bus.wait("reading", lambda item: "volts" in item["fields"], count=3)
        bus.wait("reading", lambda item: "u2_hr7" in item["fields"], count=3)
        assert sub.wait_for(lambda ms: len(ms) >= 4), "no readings on MQTT"
        poller = gw.modbus["bus"].poller
        assert poller is not None and poller.requests_per_cycle == {1: 4, 2: 1}
    master = gw.modbus["bus"].master
    units = poller.units()
    for item in bus.readings("bus"):
        assert item["fields"] in (UNIT1, {"u2_hr7": 7}), item
    seqs = [item["seq"] for item in bus.readings("bus")]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # Four requests per cycle of unit 1 (adjacent values in one read), one of unit 2.
    assert 4 * units[1]["cycles"] <= master.counts[(1, "ok")] < 4 * (units[1]["cycles"] + 1)
    assert units[1]["readings"] == units[1]["cycles"] and not units[1]["stale"]
    published = [json.loads(m.payload) for m in sub.on("test/gw/bus/reading")]
    assert published and all(p["fields"] in (UNIT1, {"u2_hr7": 7}) for p in published)
    assert {p["seq"] for p in published} <= set(seqs)


def test_a_unit_that_does_not_answer_is_stale_and_the_others_go_on(tmp_path: Path) -> None:
    reads = READS.replace("unit = 2", "unit = 9")  # nobody answers unit 9
    web = f'[web]\nlisten = "127.0.0.1:{fx.free_port()}"\n'
    with mh.rtu_bus(tmp_path) as (pair, _slave):
        config = mh.modbus_config(tmp_path / "state", pair.dev, modbus="timeout = 0.2\n" + reads, extra=web)
        with fx.running_gateway(config, mh.TIMEOUT) as (gw, bus):
            poller = gw.modbus["bus"].poller
            assert poller is not None
            bus.wait("reading", lambda item: "volts" in item["fields"], count=3)
            bus.wait_until(lambda: poller.units()[9]["cycles"] >= 2, "two cycles of unit 9")
            assert poller.units()[9]["stale"]
            assert "timeout" in poller.units()[9]["last_error"]
            assert gw.links["bus"].online
            assert not poller.units()[1]["stale"]
            with urllib.request.urlopen(fx.web_base(gw) + "/metrics", timeout=mh.TIMEOUT) as answer:
                metrics = answer.read().decode()
            assert 'gateway_modbus_unit_stale{device="bus",unit="9"} 1' in metrics
            assert 'gateway_modbus_unit_stale{device="bus",unit="1"} 0' in metrics
            assert re.search(r'gateway_modbus_requests_total\{device="bus",unit="9",result="timeout"\} [1-9]', metrics)
            assert re.search(r'gateway_modbus_requests_total\{device="bus",unit="1",result="ok"\} [1-9]', metrics)
            assert re.search(r'gateway_readings_total\{device="bus"\} [1-9]', metrics)
            # The dashboard's card reads this: unit 9 stale with the reason, unit 1 not.
            with urllib.request.urlopen(fx.web_base(gw) + "/api/devices", timeout=mh.TIMEOUT) as answer:
                (card,) = json.loads(answer.read())["devices"]
            assert card["online"] and card["modbus_units"]["1"] == {"stale": False, "last_error": ""}
            assert card["modbus_units"]["9"]["stale"]
            assert card["modbus_units"]["9"]["last_error"] == "holding 7..7: timeout 0x0B"
        assert not any("u2_hr7" in item["fields"] for item in bus.readings("bus"))


@pytest.mark.parametrize("gap", ["", "frame_gap = 0\n"], ids=["t3.5", "gap0"])
def test_a_busy_tcp_client_does_not_starve_the_polls(tmp_path: Path, gap: str) -> None:
    # With frame_gap = 0 the next request is taken in the pass that read
    # the answer: the same turn order, with no timer in between.
    port = fx.free_port()
    with mh.rtu_bus(tmp_path) as (pair, _slave):
        config = mh.modbus_config(tmp_path / "state", pair.dev, modbus_tcp=port,
                                  modbus="timeout = 0.5\nqueue = 8\n" + gap + READS)
        with fx.running_gateway(config, mh.TIMEOUT) as (gw, bus):
            bus.wait("reading", lambda item: "volts" in item["fields"])
            stop = threading.Event()
            answered = [0]

            def flood() -> None:
                # Keeps 8 requests queued all the time: the bus never idles.
                with socket.create_connection(("127.0.0.1", port), timeout=mh.TIMEOUT) as sock:
                    request = struct.pack(">HHHBBHH", 1, 0, 6, 1, 3, 0, 100)
                    sock.sendall(request * 8)
                    buf = b""
                    while not stop.is_set():
                        buf += sock.recv(65536)
                        size = 9 + 200
                        while len(buf) >= size:
                            buf = buf[size:]
                            answered[0] += 1
                            sock.sendall(request)

            thread = threading.Thread(target=flood, daemon=True)
            thread.start()
            try:
                bus.wait_until(lambda: answered[0] >= 50, "the flood to be served")
                before = len(bus.readings("bus"))
                bus.wait_until(lambda: len(bus.readings("bus")) >= before + 6, "polls during the flood")
                assert thread.is_alive()
            finally:
                stop.set()
                thread.join(mh.TIMEOUT)
