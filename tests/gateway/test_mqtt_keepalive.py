"""The MQTT client's keep-alive (MQTT 3.1.1 3.1.2.10) against a broker
played by the test on a real socket: a PINGREQ after a keep-alive period
without traffic, and a broker that then stays silent is given up on and
dialled again. Also a broker that sends garbage is dropped, not obeyed."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest

from gateway.mqtt.client import MqttClient

pytestmark = pytest.mark.timeout(60)
TIMEOUT = 10.0


@contextmanager
def client_of(port: int, keepalive: int) -> Iterator[tuple[MqttClient, fx.Probe]]:
    app = fx.App()
    client = MqttClient("127.0.0.1", port, client_id="ka", keepalive=keepalive, reconnect_min=0.05,
                        reconnect_max=0.1, channel="gateway").register(app)
    probe = fx.Probe().register(app)
    app.start()
    try:
        yield client, probe
    finally:
        app.stop()
        app.join(TIMEOUT)
        app.loop.close()


def test_pings_when_idle_and_gives_up_on_a_silent_broker() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(TIMEOUT)
        with client_of(server.getsockname()[1], keepalive=1) as (client, probe):
            conn = fx.accept_connect(server)
            conn.sendall(b"\x20\x02\x00\x00")
            assert probe.wait_until(lambda: client.connected)
            assert fx.read_exactly(conn, 2) == b"\xc0\x00"  # PINGREQ after a second of silence
            conn.sendall(b"\xd0\x00")  # PINGRESP: the connection stays
            assert fx.read_exactly(conn, 2) == b"\xc0\x00"  # the next period's ping; unanswered now
            assert conn.recv(16) == b""  # given up: closed
            conn.close()
            assert probe.wait_until(lambda: client.last_error == "no PINGRESP from the broker")
            again = fx.accept_connect(server)  # and dialled again
            again.close()
            assert client.connections == 1


def test_a_broker_that_breaks_the_protocol_is_dropped() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(TIMEOUT)
        with client_of(server.getsockname()[1], keepalive=30) as (client, probe):
            conn = fx.accept_connect(server)
            conn.sendall(b"\x20\x02\x00\x00" + b"\xa0\x00")  # CONNACK, then a packet a client never gets
            assert conn.recv(16) == b""
            conn.close()
            assert probe.wait_until(lambda: (client.last_error or "").startswith("protocol error"))
            assert probe.named("mqtt_disconnected")
