"""gateway.mqtt.topics and .discovery: pure topic and payload building."""

from __future__ import annotations

import json

import pytest

from gateway.mqtt.discovery import Discovery, numeric_fields, sensor_config
from gateway.mqtt.topics import Topics, object_id, topic_level


def test_topic_layout() -> None:
    topics = Topics("site/gw/")
    assert topics.status == "site/gw/status"
    assert topics.reading("pump") == "site/gw/pump/reading"
    assert topics.device_status("pump") == "site/gw/pump/status"
    assert topics.write_filter == "site/gw/+/write"
    assert Topics.discovery("gw 1", "pump", "flow") == "homeassistant/sensor/gw_1_pump_flow/config"


@pytest.mark.parametrize(("name", "level"), [("a/b", "a_b"), ("x+", "x_"), ("#", "_"), ("", "_"), ("ok-1", "ok-1")])
def test_device_names_become_one_safe_level(name: str, level: str) -> None:
    assert topic_level(name) == level
    assert Topics("p").reading(name) == f"p/{level}/reading"


@pytest.mark.parametrize(("topic", "device"), [
    ("p/q/pump/write", "pump"),
    ("p/q/pump/reading", None),
    ("p/q/a/b/write", None),
    ("p/q//write", None),
    ("other/pump/write", None),
    ("p/qx/pump/write", None),
])
def test_parse_write(topic: str, device: str | None) -> None:
    assert Topics("p/q").parse_write(topic) == device


def test_numeric_fields_leave_out_bools_and_text() -> None:
    assert numeric_fields({"t": 1.5, "n": 3, "ok": True, "s": "x", "none": None}) == ["t", "n"]


def test_sensor_config_reads_its_field_from_the_reading_topic() -> None:
    config = sensor_config(Topics("gw"), "gate", "dev", "temp C")
    assert config["state_topic"] == "gw/dev/reading"
    assert config["value_template"] == '{{ value_json.fields["temp C"] }}'
    assert config["unique_id"] == object_id("gate", "dev", "temp C") == "gate_dev_temp_C"
    assert config["availability"] == [{"topic": "gw/status"}, {"topic": "gw/dev/status"}]


def test_discovery_announces_each_numeric_field_once() -> None:
    discovery = Discovery(Topics("gw"), "gate")
    first = discovery.new_fields("dev", {"t": 1.0, "label": "x"})
    assert [topic for topic, _ in first] == ["homeassistant/sensor/gate_dev_t/config"]
    assert json.loads(first[0][1])["name"] == "t"
    assert discovery.new_fields("dev", {"t": 2.0, "label": "y"}) == []
    # A field that was text and turns numeric is announced then.
    assert [t for t, _ in discovery.new_fields("dev", {"t": 2.0, "label": 5})] == [
        "homeassistant/sensor/gate_dev_label/config"]
    assert [t for t, _ in discovery.new_fields("other", {"t": 1})] == ["homeassistant/sensor/gate_other_t/config"]
    assert len(discovery.all()) == 3


def test_refresh_republishes_changed_hints_and_withdraws_dropped_fields() -> None:
    hints = {("dev", "v"): {"unit_of_measurement": "V"}}
    discovery = Discovery(Topics("gw"), "gate", lambda d, f: dict(hints.get((d, f), {})))
    discovery.new_fields("dev", {"v": 1.0, "n": 2})
    assert discovery.refresh("dev") == []  # nothing changed: nothing to publish
    hints[("dev", "v")] = {"unit_of_measurement": "mV"}
    [(topic, payload)] = discovery.refresh("dev", {"v", "m"})[1:]
    assert topic == "homeassistant/sensor/gate_dev_v/config"
    assert json.loads(payload)["unit_of_measurement"] == "mV"
    # "n" was dropped: withdrawn with an empty config (first, in name order), kept for reconnects.
    assert ("homeassistant/sensor/gate_dev_n/config", b"") in discovery.all()
    assert discovery.refresh("dev", {"v", "m"}) == []
    # Reported again later: announced again.
    assert [t for t, _ in discovery.new_fields("dev", {"n": 3})] == ["homeassistant/sensor/gate_dev_n/config"]
    # A removed device: all its sensors withdrawn.
    assert {p for _, p in discovery.refresh("dev", frozenset())} == {b""}
    assert discovery.refresh("unknown", frozenset()) == []
