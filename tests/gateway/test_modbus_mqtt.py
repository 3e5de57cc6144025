"""Modbus writes over MQTT (a real mosquitto), answered on .../modbus/result,
with a pymodbus RTU slave on the bus; the polled register shows the write."""

from __future__ import annotations

import json
from pathlib import Path

import modbus_harness as mh  # registered by this folder's conftest
import paho.mqtt.publish as publish
import pytest

from gateway.modbus.writes import parse_write

pytestmark = pytest.mark.timeout(120)

READS = """
poll = 0.2
[[device.modbus.read]]
unit = 1
name = "setpoint"
table = "holding"
address = 20
[[device.modbus.read]]
unit = 1
name = "relay"
table = "coil"
address = 1
"""


def test_writes_from_mqtt_are_answered_and_take_effect(tmp_path: Path) -> None:
    with mh.polled_over_mqtt(tmp_path, "timeout = 0.3\n" + READS,
                             ["test/gw/bus/modbus/result"]) as (_gw, bus, results, port):

        def ask(**payload: object) -> None:
            publish.single("test/gw/bus/modbus/write", json.dumps(payload), qos=1, hostname="127.0.0.1",
                           port=port)

        def answers() -> list[dict[str, object]]:
            return [json.loads(m.payload) for m in results.on("test/gw/bus/modbus/result")]

        bus.wait("reading", lambda item: item["fields"] == {"setpoint": 20, "relay": False})
        ask(id="a", unit=1, table="holding", address=20, value=4242)
        ask(id="b", unit=1, table="coil", address=1, values=[True])
        ask(id="c", unit=9, table="holding", address=0, value=1)  # nobody answers unit 9
        publish.single("test/gw/bus/modbus/write", b"{not json", qos=1, hostname="127.0.0.1", port=port)
        assert results.wait_for(lambda ms: len(ms) >= 4), f"results: {answers()}"
        got = {a.get("id"): a for a in answers()}
        assert got["a"] == {"id": "a", "unit": 1, "table": "holding", "address": 20, "result": "ok"}
        assert got["b"]["result"] == "ok"
        assert got["c"] == {"id": "c", "unit": 9, "table": "holding", "address": 0, "result": "timeout",
                            "exception": 0x0B}
        assert got[None]["result"] == "invalid" and "not JSON" in got[None]["error"]
        bus.wait("reading", lambda item: item["fields"] == {"setpoint": 4242, "relay": True})


@pytest.mark.parametrize(("payload", "error"), [
    (b"[]", "must be a JSON object"),
    (b'{"unit": 1, "address": 0}', 'give one of "value" or "values"'),
    (b'{"unit": 300, "address": 0, "value": 1}', '"unit" must be an integer 0..247, got 300'),
    (b'{"unit": 1, "table": "input", "address": 0, "value": 1}', '"table" must be "holding" or "coil"'),
    (b'{"unit": 1, "address": 0, "value": 70000}', "a register value is an integer -32768..65535"),
    (b'{"unit": 1, "address": 0, "values": []}', '"values" must be a non-empty array'),
    (b'{"unit": 1, "address": 65535, "values": [1, 2]}', "runs past 65535"),
    (b'{"unit": 1, "address": 0, "value": 1, "extra": 2}', "unknown keys: extra"),
])
def test_bad_write_payloads_say_why(payload: bytes, error: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        parse_write(payload)
    assert error in str(info.value)


def test_write_payloads_become_the_right_requests() -> None:
    assert parse_write(b'{"unit":1,"address":5,"value":-1}').request.encode() == bytes([6, 0, 5, 0xFF, 0xFF])
    assert parse_write(b'{"unit":0,"table":"coil","address":3,"value":true}').request.encode() == \
        bytes([5, 0, 3, 0xFF, 0])
    assert parse_write(b'{"unit":2,"address":1,"values":[1,2]}').request.encode() == \
        bytes([16, 0, 1, 0, 2, 4, 0, 1, 0, 2])


DISCOVERED = """
poll = 0.2
[[device.modbus.read]]
unit = 1
name = "voltage"
table = "holding"
address = 30
scale = 0.1
device_class = "voltage"
[[device.modbus.read]]
unit = 1
name = "energy"
table = "holding"
address = 31
type = "uint32"
device_class = "energy"
state_class = "total_increasing"
[[device.modbus.read]]
unit = 1
name = "count"
table = "holding"
address = 33
[[device.modbus.read]]
unit = 1
name = "relay"
table = "coil"
address = 1
[device.fields.voltage]
unit = "V"
[device.fields.energy]
unit = "kWh"
"""


def test_polled_fields_are_discovered_with_their_unit_and_classes(tmp_path: Path) -> None:
    with mh.polled_over_mqtt(tmp_path, "timeout = 0.3\n" + DISCOVERED, ["homeassistant/sensor/+/config"],
                             "--set", "holding:30:2305,0,1234", mqtt="homeassistant = true\n") as (_gw, bus, configs, _port):
        bus.wait("reading", lambda item: item["fields"]["energy"] == 1234)
        assert configs.wait_for(lambda ms: len(ms) >= 3), f"configs: {len(configs.messages)}"
    got = {}
    for message in configs.messages:
        config = json.loads(message.payload)
        got[config["name"]] = config
    # The bool (a coil) is not a sensor; the others carry what was configured.
    assert set(got) == {"voltage", "energy", "count"}
    assert (got["voltage"]["unit_of_measurement"], got["voltage"]["device_class"],
            got["voltage"]["state_class"]) == ("V", "voltage", "measurement")
    assert (got["energy"]["unit_of_measurement"], got["energy"]["device_class"],
            got["energy"]["state_class"]) == ("kWh", "energy", "total_increasing")
    assert "unit_of_measurement" not in got["count"] and "device_class" not in got["count"]
    assert got["count"]["state_class"] == "measurement"
    assert {c["state_topic"] for c in got.values()} == {"test/gw/bus/reading"}
