"""How the MQTT client reports completed publishes, against a broker played
by the test on a real socket: ``mqtt_published(mid)`` events by default,
or, with ``on_published`` set (the uplink's way), one call per chunk read
with every mid it completed and no events."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest

from gateway.mqtt.client import MqttClient

pytestmark = pytest.mark.timeout(60)


@contextmanager
def connected_client(calls: list[tuple[int, list[int]]] | None, called: threading.Event | None = None) -> Iterator[tuple[MqttClient, fx.Probe,
                                                                                  socket.socket]]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(fx.TIMEOUT)
        app = fx.App()
        client = MqttClient("127.0.0.1", server.getsockname()[1], client_id="acks", reconnect_min=0.05,
                            channel="gateway").register(app)
        if calls is not None and called is not None:
            def on_published(connection: int, mids: list[int]) -> None:
                calls.append((connection, list(mids)))
                called.set()
            client.on_published = on_published
        probe = fx.Probe().register(app)
        app.start()
        try:
            conn = fx.accept_connect(server)
            conn.sendall(b"\x20\x02\x00\x00")  # CONNACK, accepted
            assert probe.wait_until(lambda: client.connected)
            yield client, probe, conn
            conn.close()
        finally:
            app.stop()
            app.join(fx.TIMEOUT)
            app.loop.close()


def publish_three(client: MqttClient, conn: socket.socket, *, many: bool = False) -> list[int]:
    mids: list[int] = []
    if many:
        client.loop.call_soon_threadsafe(lambda: mids.extend(client.publish_many([("t", b"x%d" % i, 1)
                                                                                   for i in range(3)])))
    else:
        client.loop.call_soon_threadsafe(lambda: mids.extend(client.publish("t", b"x%d" % i, 1)  # type: ignore[misc]
                                                             for i in range(3)))
    for i in range(3):
        head = fx.read_exactly(conn, 2)
        assert head[0] == 0x32  # PUBLISH, QoS 1, not retained
        body = fx.read_exactly(conn, head[1])
        assert body[:3] == b"\x00\x01t" and body[5:] == b"x%d" % i  # topic, mid, payload (3.3.2)
    # The three PUBACKs (3.4) in one write: one chunk for the client.
    conn.sendall(b"".join(b"\x40\x02" + mid.to_bytes(2, "big") for mid in mids))
    return mids


def test_publishes_complete_as_events_by_default() -> None:
    with connected_client(None) as (client, probe, conn):
        mids = publish_three(client, conn)
        assert probe.wait_until(lambda: len(probe.named("mqtt_published")) == 3)
        assert [e.args[0] for e in probe.named("mqtt_published")] == mids


def test_on_published_gets_one_call_per_chunk_and_no_events() -> None:
    calls: list[tuple[int, list[int]]] = []
    called = threading.Event()
    with connected_client(calls, called) as (client, probe, conn):
        mids = publish_three(client, conn, many=True)
        assert called.wait(fx.TIMEOUT)  # a call, not an event: the probe would not notice
        assert calls == [(client.connection, mids)]
        assert not probe.named("mqtt_published")
