"""A live reload (SIGHUP to ``gateway run``) that changes a polled unit's fields
updates Home Assistant discovery on a real mosquitto: a changed unit is
announced again, a renamed field's old sensor is withdrawn (an empty retained
config) and the new name announced, and the broker's retained state is the
new one, as a Home Assistant connecting later would see it."""

from __future__ import annotations

import json
import signal
import uuid
from pathlib import Path

import modbus_harness as mh  # registered by this folder's conftest
import mqtt_fixtures as fx
import paho.mqtt.publish as publish
import pytest
from gwrun import GatewayRun, NotifyListener

pytestmark = pytest.mark.timeout(120)

CONFIGS = "homeassistant/sensor/+/config"


def topic(field: str) -> str:
    return f"homeassistant/sensor/rd_bus_{field}/config"


def config_file(path: Path, state: Path, dev: Path, broker: int, *, voltage_unit: str, counter: str) -> None:
    path.write_text("\n".join([
        "[gateway]", 'name = "rd"', f"state_dir = {json.dumps(str(state))}", "",
        "[mqtt]", 'host = "127.0.0.1"', f"port = {broker}", 'topic_prefix = "rd"', "homeassistant = true",
        "reconnect_min = 0.05", "",
        "[[device]]", 'name = "bus"', f"port = {json.dumps(str(dev))}", "baudrate = 115200",
        'profile = "modbus"', "",
        "[device.modbus]", "poll = 0.2", "timeout = 0.3",
        "[[device.modbus.read]]", "unit = 1", 'name = "voltage"', 'table = "holding"', "address = 30",
        'device_class = "voltage"',
        "[[device.modbus.read]]", "unit = 1", f"name = {json.dumps(counter)}", 'table = "holding"',
        "address = 32",
        "[device.fields.voltage]", f"unit = {json.dumps(voltage_unit)}", "",
    ]))


def configs_of(messages: list, name: str) -> list[bytes]:
    return [m.payload for m in messages if m.topic == topic(name)]


def retained(broker: int) -> dict[str, bytes]:
    """The discovery configs the broker holds now, as a new subscriber gets them."""
    sentinel = f"rd-test/{uuid.uuid4().hex}"
    late = fx.Subscriber(broker, [CONFIGS, sentinel])
    try:
        # Retained messages are queued on the subscription before anything
        # published after it: once the sentinel is in, all of them are.
        publish.single(sentinel, b"end", hostname="127.0.0.1", port=broker)
        assert late.wait_for(lambda ms: any(m.topic == sentinel for m in ms)), "the sentinel never came"
        return {m.topic: m.payload for m in late.messages if m.topic != sentinel}
    finally:
        late.close()


def test_a_reload_that_changes_polled_fields_updates_discovery(tmp_path: Path) -> None:
    broker = fx.Broker(tmp_path / "broker").start()
    notify = NotifyListener(tmp_path)
    sub = fx.Subscriber(broker.port, [CONFIGS])
    gateway: GatewayRun | None = None
    try:
        with mh.rtu_bus(tmp_path, "--set", "holding:30:2305,0,1234") as (pair, _slave):
            path = tmp_path / "gateway.toml"
            config_file(path, tmp_path / "state", pair.dev, broker.port, voltage_unit="V", counter="count")
            gateway = GatewayRun(path, notify_socket=notify.path)
            notify.wait_for("READY", "1")
            assert sub.wait_for(lambda ms: configs_of(ms, "voltage") and configs_of(ms, "count")), \
                f"never announced: {[m.topic for m in sub.messages]}; log: {''.join(gateway.log)[-2000:]}"
            assert json.loads(configs_of(sub.messages, "voltage")[-1])["unit_of_measurement"] == "V"

            config_file(path, tmp_path / "state", pair.dev, broker.port, voltage_unit="mV", counter="pulses")
            gateway.process.send_signal(signal.SIGHUP)
            notify.wait_for("RELOADING", "1")
            ready = notify.wait_for("READY", "1")
            assert "bus: restarted (fields, modbus)" in ready["STATUS"], ready

            def updated(ms: list) -> bool:
                voltage = configs_of(ms, "voltage")
                return (b"" in configs_of(ms, "count") and bool(configs_of(ms, "pulses"))
                        and json.loads(voltage[-1]).get("unit_of_measurement") == "mV")

            assert sub.wait_for(updated), f"not updated: {[(m.topic, m.payload) for m in sub.messages]}"
            held = retained(broker.port)
            assert set(held) == {topic("voltage"), topic("pulses")}, held
            assert json.loads(held[topic("voltage")])["unit_of_measurement"] == "mV"
            assert json.loads(held[topic("voltage")])["device_class"] == "voltage"
            assert json.loads(held[topic("pulses")])["name"] == "pulses"
            assert gateway.stop() == 0, "".join(gateway.log)[-3000:]
            gateway = None
    finally:
        if gateway is not None:
            gateway.stop()
        sub.close()
        notify.close()
        broker.stop()
