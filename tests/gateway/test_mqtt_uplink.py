"""MqttUplink against a real mosquitto: readings, status, writes, discovery, spool limits, TLS.

The gateway side runs in one thread (its circuits loop); the subscriber is a
paho client with its own network thread, on the test's side only.
"""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path
from typing import Any

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest

from gateway.mqtt import device_status, reading

PREFIX = "test/gw"


@pytest.fixture
def broker(tmp_path: Path) -> Any:
    broker = fx.Broker(tmp_path / "broker").start()
    yield broker
    broker.stop()


@pytest.fixture
def subscribers() -> Any:
    made: list[Any] = []

    def make(port: int, topics: list[str], **kwargs: Any) -> Any:
        made.append(fx.Subscriber(port, topics, **kwargs))
        return made[-1]

    yield make
    for subscriber in made:
        subscriber.close()


def count_on(topic: str, n: int) -> Any:
    return lambda messages: sum(m.topic == topic for m in messages) >= n


@pytest.mark.parametrize("qos", [0, 1])
def test_readings_arrive_in_order_as_json_with_the_configured_qos(
        broker: Any, subscribers: Any, tmp_path: Path, qos: int) -> None:
    sub = subscribers(broker.port, [f"{PREFIX}/+/reading"])
    with fx.running_uplink(fx.config(broker.port, qos=qos), tmp_path / "state") as (app, uplink, probe):
        for seq in range(1, 301):
            fx.send(app, "a" if seq % 2 else "b", seq, value=seq * 0.5, label="x")
        assert sub.wait_for(lambda ms: len(ms) >= 300)
        assert probe.wait_until(lambda: uplink.spool.depth == 0 and uplink.acked == 300)
        stats = uplink.statistics()
    assert stats["published"] == 300 and stats["dropped"] == 0 and stats["connected"]
    messages = sub.messages
    assert {m.qos for m in messages} == {qos}
    assert not any(m.retain for m in messages)
    a = sub.readings(f"{PREFIX}/a/reading")
    b = sub.readings(f"{PREFIX}/b/reading")
    assert [r["seq"] for r in a] == list(range(1, 301, 2))
    assert [r["seq"] for r in b] == list(range(2, 301, 2))
    assert a[0] == {"device": "a", "seq": 1, "ts": 1700000001.0, "fields": {"value": 0.5, "label": "x"}}
    assert list(a[0]) == ["device", "seq", "ts", "fields"]


def test_gateway_and_device_status_are_retained(broker: Any, subscribers: Any, tmp_path: Path) -> None:
    status = f"{PREFIX}/status"
    with fx.running_uplink(fx.config(broker.port), tmp_path / "state") as (app, uplink, probe):
        app.fire(reading({"device": "x", "seq": 1, "ts": 0, "fields": {}}), "gateway")  # any traffic
        app.fire(device_status("pump", "online", "/dev/ttyUSB0"), "gateway")
        assert probe.wait_until(lambda: uplink.acked == 1)
        # A subscriber arriving later gets the retained state.
        late = subscribers(broker.port, [status, f"{PREFIX}/pump/status"])
        assert late.wait_for(lambda ms: len(ms) >= 2)
        assert {(m.topic, m.payload, m.retain) for m in late.messages} == {
            (status, b"online", True), (f"{PREFIX}/pump/status", b"online", True)}
        app.fire(device_status("pump", "offline", "unplugged"), "gateway")
        assert late.wait_for(count_on(f"{PREFIX}/pump/status", 2))
        assert late.on(f"{PREFIX}/pump/status")[-1].payload == b"offline"
    # A clean stop says "offline" itself (the will is for dying without DISCONNECT).
    assert late.wait_for(count_on(status, 2))
    assert late.on(status)[-1].payload == b"offline"


def test_payloads_on_the_write_topic_become_device_write_events(
        broker: Any, subscribers: Any, tmp_path: Path) -> None:
    sub = subscribers(broker.port, [f"{PREFIX}/status"])
    with fx.running_uplink(fx.config(broker.port), tmp_path / "state") as (app, uplink, probe):
        assert sub.wait_for(lambda ms: any(m.payload == b"online" for m in ms))
        # The uplink subscribes before it says "online", so the writes reach it.
        sub.client.publish(f"{PREFIX}/pump/write", b"ON\r\n", qos=1)
        sub.client.publish(f"{PREFIX}/valve/write", b"\x00\x01", qos=0)
        assert probe.wait_until(lambda: len(probe.named("device_write")) == 2)
        writes = [tuple(e.args) for e in probe.named("device_write")]
    assert writes == [("pump", b"ON\r\n"), ("valve", b"\x00\x01")]
    assert uplink.statistics()["writes"] == 2


def test_home_assistant_discovery_for_numeric_fields(broker: Any, subscribers: Any, tmp_path: Path) -> None:
    sub = subscribers(broker.port, ["homeassistant/#"])
    cfg = fx.config(broker.port, homeassistant=True)
    with fx.running_uplink(cfg, tmp_path / "state") as (app, uplink, probe):
        fx.send(app, "dev", 1, temperature=21.5, humidity=40, ok=True, label="x")
        fx.send(app, "dev", 2, temperature=21.6, humidity=41, ok=True, label="x")
        fx.send(app, "dev", 3, temperature=21.6, pressure=1013.2)
        assert sub.wait_for(lambda ms: len(ms) >= 3)
        assert probe.wait_until(lambda: uplink.acked == 3)
    topics = [m.topic for m in sub.messages]
    # Published in order, so nothing for "ok" or "label" can be hiding behind "pressure".
    assert topics == [f"homeassistant/sensor/gw_dev_{f}/config" for f in ("temperature", "humidity", "pressure")]
    # Retained (a live subscriber sees retain=0, MQTT 3.1.1 section 3.3.1.3; a new one gets them).
    late = subscribers(broker.port, ["homeassistant/#"])
    assert late.wait_for(lambda ms: len(ms) >= 3)
    assert all(m.retain for m in late.messages)
    config = json.loads(sub.messages[0].payload)
    assert config["state_topic"] == f"{PREFIX}/dev/reading"
    assert config["value_template"] == '{{ value_json.fields["temperature"] }}'
    assert config["unique_id"] == "gw_dev_temperature"
    assert config["availability"][0] == {"topic": f"{PREFIX}/status"}


def test_a_full_spool_drops_the_oldest_counts_them_and_sends_the_rest_in_order(
        subscribers: Any, tmp_path: Path) -> None:
    port = fx.free_port()  # nothing listens here yet: the broker is "down"
    cfg = fx.config(port, spool_max_mb=1)
    big = "x" * 2000
    with fx.running_uplink(cfg, tmp_path / "state") as (app, uplink, probe):
        for seq in range(1, 1001):  # ~2 MB of readings into a 1 MB spool
            fx.send(app, "dev", seq, blob=big)
        assert probe.wait_until(lambda: uplink.spool.committed == 1000)
        stats = uplink.statistics()
        assert stats["dropped"] > 0
        assert uplink.spool.size <= 1 << 20
        kept = stats["spool_depth"]
        assert kept + stats["dropped"] == 1000
        # The broker comes up: what was kept goes out, oldest first, no gap.
        broker = fx.Broker(tmp_path / "broker", port).start()
        try:
            sub = subscribers(port, [f"{PREFIX}/dev/reading"])
            assert probe.wait_until(lambda: uplink.spool.depth == 0 and uplink.acked >= kept, timeout=30)
            assert sub.wait_for(lambda ms: len({json.loads(m.payload)["seq"] for m in ms}) >= kept)
            seqs = [r["seq"] for r in sub.readings(f"{PREFIX}/dev/reading")]
        finally:
            broker.stop()
    assert sorted(set(seqs)) == list(range(1001 - kept, 1001))


def test_a_corrupt_spool_is_moved_aside_and_the_uplink_keeps_working(
        broker: Any, subscribers: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "spool.sqlite3").write_bytes(b"this is not an SQLite database" * 200)
    sub = subscribers(broker.port, [f"{PREFIX}/+/reading"])
    with caplog.at_level(logging.ERROR, logger="gateway.spool"):
        with fx.running_uplink(fx.config(broker.port), state) as (app, uplink, probe):
            for seq in range(1, 11):
                fx.send(app, "dev", seq, v=seq)
            assert sub.wait_for(lambda ms: len(ms) >= 10)
            assert not uplink.spool.in_memory
    assert [r["seq"] for r in sub.readings(f"{PREFIX}/dev/reading")] == list(range(1, 11))
    assert len(list(state.glob("spool.sqlite3.corrupt-*"))) == 1
    assert "moved it to" in caplog.text


def test_tls_with_a_client_certificate_and_a_password(subscribers: Any, tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    server_cert, server_key = fx.certificate(certs, "server", "localhost")
    client_cert, client_key = fx.certificate(certs, "client", "gateway")
    bundle = certs / "trusted.pem"  # the broker trusts the (self-signed) client certificate
    bundle.write_bytes(server_cert.read_bytes() + client_cert.read_bytes())
    passwords = tmp_path / "passwd"
    passwords.write_text("gw:secret\n")
    subprocess.run(["/usr/bin/mosquitto_passwd", "-U", str(passwords)], check=True, timeout=30)
    plain, secure = fx.free_port(), fx.free_port()
    broker = fx.Broker(tmp_path / "broker", plain, per_listener_settings=True, extra=[
        f"listener {secure} 127.0.0.1", f"cafile {bundle}", f"certfile {server_cert}",
        f"keyfile {server_key}", "require_certificate true", "allow_anonymous false",
        f"password_file {passwords}"]).start()
    try:
        sub = subscribers(plain, [f"{PREFIX}/+/reading", f"{PREFIX}/status"])
        # "localhost" is resolved off the loop and checked against the certificate.
        cfg = fx.config(secure, host="localhost", tls=True, ca_file=server_cert, certfile=client_cert,
                        keyfile=client_key, username="gw", password="secret")
        with fx.running_uplink(cfg, tmp_path / "state") as (app, uplink, probe):
            fx.send(app, "dev", 1, v=1)
            assert sub.wait_for(count_on(f"{PREFIX}/dev/reading", 1))
            assert sub.on(f"{PREFIX}/status")[0].payload == b"online"
    finally:
        broker.stop()
