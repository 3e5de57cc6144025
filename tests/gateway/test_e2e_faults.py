"""The whole gateway under faults, with real parts: socat serial pairs, a
real mosquitto (started by the test on a free port), real WebSocket, TCP
and MQTT clients, and ``gateway run`` as a subprocess where a process has
to die.

* the broker stopped for a while mid-stream, then restarted: every reading
  arrives afterwards, in order;
* the whole gateway SIGKILLed while the broker is down: the spooled
  readings arrive after a restart;
* a slow WebSocket client and a slow TCP client dropped while a fast
  WebSocket client gets everything;
* a garbage burst and a 100 KB line: readings go on, /metrics counts them;
* unplug/replug: status messages on /ws and the retained MQTT status;
* a payload published to ``{prefix}/{device}/write`` is written to the device.

Every wait has a deadline and waits for a message, an event or an answer.
"""

from __future__ import annotations

import base64
import json
import os
import select
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest
from gwrun import GatewayRun
from mqtt_fixtures import free_port
from wsclient import WsClient

from gateway.app import Gateway
from gateway.config import GatewayConfig, parse_config
from gateway.readings import check_profile
from gateway.socat import SocatPair
from gateway.spool import SLOW_COMMIT_ENV

TIMEOUT = 15.0
PREFIX = "e2e/gw"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.timeout(90),
              pytest.mark.skipif(not os.path.exists(fx.MOSQUITTO), reason="mosquitto is needed")]


# -- harness ---------------------------------------------------------------------


def config_text(tmp_path: Path, pair: SocatPair, *, broker: int | None = None, web: int | None = None,
                device: str = "") -> str:
    text = f"""
[gateway]
name = "e2e"
state_dir = {json.dumps(str(tmp_path / "state"))}

[web]
listen = "127.0.0.1:{web or free_port(0)}"
"""
    if broker is not None:
        text += f"""
[mqtt]
host = "127.0.0.1"
port = {broker}
topic_prefix = "{PREFIX}"
client_id = "e2e-{broker}"
keepalive = 10
reconnect_min = 0.05
reconnect_max = 0.3
"""
    text += f"""
[[device]]
name = "thermo"
port = {json.dumps(str(pair.dev))}
profile = "keyvalue"
tcp = "127.0.0.1:{free_port(0)}"
{device}
"""
    return text


def make_config(*args: Any, **kwargs: Any) -> GatewayConfig:
    return parse_config(config_text(*args, **kwargs), "<test>", check_profile=check_profile)


@contextmanager
def running(config: GatewayConfig, **kwargs: Any) -> Iterator[tuple[Gateway, fx.BusLog, str]]:
    with fx.running_gateway(config, TIMEOUT, **kwargs) as (gateway, bus):
        yield gateway, bus, fx.web_base(gateway)


@pytest.fixture
def cleanup() -> Iterator[Callable[[Any], None]]:
    """Things to stop at the end whatever happens (brokers, subscribers, processes)."""
    stack: list[Any] = []
    yield stack.append
    for thing in reversed(stack):
        if isinstance(thing, subprocess.Popen):
            if thing.poll() is None:
                thing.kill()
                thing.wait(TIMEOUT)
        elif isinstance(thing, fx.Subscriber | WsClient):
            thing.close()
        else:
            thing.stop()


def write_all(fd: int, data: bytes, timeout: float = TIMEOUT) -> None:
    view = memoryview(data)
    deadline = time.monotonic() + timeout
    while view:
        left = deadline - time.monotonic()
        assert left > 0 and select.select([], [fd], [], left)[1], "the device side would not take the data"
        view = view[os.write(fd, view[:4096]):]


def lines(start: int, stop: int) -> bytes:
    return b"".join(f"n={i}\n".encode() for i in range(start, stop))


def metrics(base: str) -> dict[str, float]:
    with urllib.request.urlopen(base + "/metrics", timeout=TIMEOUT) as response:
        text = response.read().decode()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


def wait_metrics(base: str, predicate: Callable[[dict[str, float]], bool], what: str) -> dict[str, float]:
    """Ask /metrics until ``predicate`` holds (each answer is a real scrape)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        values = metrics(base)
        if predicate(values):
            return values
        assert time.monotonic() < deadline, f"timed out waiting for {what}; last: {values}"


def last_n(messages: list[dict[str, Any]]) -> int:
    """The ``n`` field of the newest reading (0 if none): cheap however many messages there are."""
    for m in reversed(messages):
        if m["type"] == "reading":
            return int(m["fields"]["n"])
    return 0


def seqs_of(sub: Any, topic: str) -> list[int]:
    return [json.loads(m.payload)["seq"] for m in sub.on(topic)]


def first_arrivals(seqs: list[int]) -> list[int]:
    seen: set[int] = set()
    return [s for s in seqs if not (s in seen or seen.add(s))]


READINGS = f"{PREFIX}/thermo/reading"


# -- the broker goes away mid-stream ----------------------------------------------------


def test_a_broker_restart_mid_stream_loses_nothing_and_keeps_the_order(
        tmp_path: Path, pair: SocatPair, cleanup: Callable[[Any], None]) -> None:
    # Persistence only keeps the test subscriber's session across the
    # restart; what the gateway resends comes from its spool.
    broker = fx.Broker(tmp_path / "broker", persistence=True).start()
    cleanup(broker)
    sub = fx.Subscriber(broker.port, [READINGS], client_id="e2e-durable", persistent=True)
    cleanup(sub)
    with running(make_config(tmp_path, pair, broker=broker.port)) as (gateway, bus, base):
        ws = WsClient(base)
        cleanup(ws)
        fd = pair.open_peer()
        try:
            write_all(fd, lines(1, 501))
            assert sub.wait_for(lambda ms: len(ms) >= 300)
            broker.stop()
            # "A while": the stream goes on with the broker away.
            write_all(fd, lines(501, 1501))
            bus.wait_until(lambda: len(bus.named("reading")) == 1500, "1500 readings")
            # Accepted (committed by the writer thread) is what the spool holds.
            down = wait_metrics(base, lambda m: m["gateway_mqtt_connected"] == 0
                                and m["gateway_spool_accepted_total"] == 1500, "mqtt disconnected")
            assert down["gateway_spool_depth"] > 0
            broker.start()
            write_all(fd, lines(1501, 2001))
        finally:
            os.close(fd)
        assert sub.wait_for(lambda ms: len(set(seqs_of(sub, READINGS))) >= 2000, timeout=30)
        drained = wait_metrics(base, lambda m: m["gateway_spool_depth"] == 0, "an empty spool")
        assert drained["gateway_mqtt_connected"] == 1
        assert drained["gateway_spool_dropped_total"] == 0
        # The dashboard never noticed: every reading reached the WebSocket too.
        ws.wait(lambda ms: sum(m["type"] == "reading" for m in ms) >= 2000, "2000 readings")
    seqs = seqs_of(sub, READINGS)
    assert first_arrivals(seqs) == list(range(1, 2001))  # no gap, in order (QoS 1 may repeat)
    assert [json.loads(m.payload)["fields"]["n"] for m in sub.on(READINGS)][:300] == list(range(1, 301))
    assert [m["fields"]["n"] for m in ws.readings()] == list(range(1, 2001))


# -- the whole gateway is killed while the broker is down ------------------------------------


def test_sigkill_of_gateway_run_while_the_broker_is_down_delivers_the_spool_after_restart(
        tmp_path: Path, pair: SocatPair, cleanup: Callable[[Any], None]) -> None:
    broker_port = free_port(0)  # nothing listens there yet
    web_port = free_port(0)
    config = tmp_path / "gateway.toml"
    config.write_text(config_text(tmp_path, pair, broker=broker_port, web=web_port))
    base = f"http://127.0.0.1:{web_port}"

    first = GatewayRun(config)
    cleanup(first.process)
    first.wait_log(r"ready: 1/1 devices online")
    fd = pair.open_peer()
    try:
        write_all(fd, lines(1, 301))
    finally:
        os.close(fd)
    # Accepted: parsed, handed to the spool's writer thread and committed
    # there (fsync); only then are they counted as accepted.
    wait_metrics(base, lambda m: m['gateway_readings_total{device="thermo"}'] == 300
                 and m["gateway_spool_accepted_total"] == 300 and m["gateway_spool_depth"] == 300,
                 "300 accepted readings")
    first.process.send_signal(signal.SIGKILL)
    assert first.process.wait(TIMEOUT) == -signal.SIGKILL

    broker = fx.Broker(tmp_path / "broker", broker_port).start()
    cleanup(broker)
    sub = fx.Subscriber(broker_port, [READINGS])
    cleanup(sub)
    second = GatewayRun(config)
    cleanup(second.process)
    second.wait_log(r"ready: 1/1 devices online")
    ok = sub.wait_for(lambda ms: len(set(seqs_of(sub, READINGS))) >= 300, timeout=30)
    assert ok, f"the spool was not delivered; gateway log: {''.join(second.log)[-2000:]}"
    assert first_arrivals(seqs_of(sub, READINGS)) == list(range(1, 301))
    wait_metrics(base, lambda m: m["gateway_spool_depth"] == 0 and m["gateway_mqtt_connected"] == 1,
                 "the spool drained")
    second.process.send_signal(signal.SIGTERM)
    assert second.process.wait(TIMEOUT) == 0


# -- a slow disk ---------------------------------------------------------------------------


def test_with_the_slow_commit_benchmark_hook_every_reading_still_arrives(
        tmp_path: Path, pair: SocatPair, cleanup: Callable[[Any], None], monkeypatch: pytest.MonkeyPatch) -> None:
    # The stall benchmark's hook (bench/gateway_stall.py): every spool commit
    # held 50 ms on the writer thread, like an SD card's fsync. Not a speed
    # test: the readings must all arrive, at the broker and on /ws, none
    # dropped, in fewer commits than readings (they wait and group up).
    monkeypatch.setenv(SLOW_COMMIT_ENV, "50")
    broker = fx.Broker(tmp_path / "broker").start()
    cleanup(broker)
    sub = fx.Subscriber(broker.port, [READINGS])
    cleanup(sub)
    with running(make_config(tmp_path, pair, broker=broker.port)) as (gateway, bus, base):
        assert gateway.mqtt is not None and gateway.mqtt.spool.store.before_commit is not None
        wait_metrics(base, lambda m: m["gateway_mqtt_connected"] == 1, "the broker connection")
        ws = WsClient(base)
        cleanup(ws)
        fd = pair.open_peer()
        try:
            for start in range(1, 301, 50):  # in bursts, while commits are slow
                write_all(fd, b"".join(b"n=%d\n" % n for n in range(start, start + 50)))
            ws.wait(lambda ms: last_n(ms) == 300, "reading 300 on /ws")
            assert sub.wait_for(lambda ms: len(set(seqs_of(sub, READINGS))) >= 300, timeout=30)
        finally:
            os.close(fd)
        after = wait_metrics(base, lambda m: m["gateway_spool_depth"] == 0, "the spool drained")
    assert first_arrivals(seqs_of(sub, READINGS)) == list(range(1, 301))
    assert [m["fields"]["n"] for m in ws.readings()] == list(range(1, 301))
    assert after["gateway_spool_dropped_total"] == 0
    assert after["gateway_spool_accepted_total"] == 300
    assert 0 < after["gateway_spool_commits_total"] < 300




class DiskGate:
    """A controlled slow disk: the spool's commit blocks inside its
    transaction (on the writer thread) until the test opens the gate."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()

    def __call__(self) -> None:
        self.entered.set()
        assert self.gate.wait(TIMEOUT), "the test never opened the gate"


def test_the_loop_keeps_serving_while_a_spool_commit_is_stuck_and_publishes_only_after_it(
        tmp_path: Path, pair: SocatPair, cleanup: Callable[[Any], None]) -> None:
    broker = fx.Broker(tmp_path / "broker").start()
    cleanup(broker)
    sub = fx.Subscriber(broker.port, [READINGS])
    cleanup(sub)
    with running(make_config(tmp_path, pair, broker=broker.port)) as (gateway, bus, base):
        assert gateway.mqtt is not None
        wait_metrics(base, lambda m: m["gateway_mqtt_connected"] == 1, "the broker connection")
        disk = DiskGate()
        gateway.mqtt.spool.store.before_commit = disk
        client = socket.create_connection(gateway.bridges["thermo"].address, timeout=TIMEOUT)
        bus.wait_until(lambda: len(bus.named("client_connected")) == 1, "the TCP client")
        fd = pair.open_peer()
        try:
            write_all(fd, b"n=1\n")
            assert disk.entered.wait(TIMEOUT), "the spool never committed"
            # The commit is stuck in the writer thread. The loop still runs
            # the raw bridge both ways, HTTP and the WebSocket feed:
            client.sendall(b"to the device\n")
            got = b""
            while len(got) < 14:
                assert select.select([fd], [], [], TIMEOUT)[0], f"the device got only {got!r}"
                got += os.read(fd, 64)
            assert got == b"to the device\n"
            ws = WsClient(base)
            cleanup(ws)
            write_all(fd, b"n=2\n")
            echoed = b""
            while len(echoed) < 8:  # the device's lines reach the bridge's client too
                chunk = client.recv(64)
                assert chunk, f"the bridge closed after {echoed!r}"
                echoed += chunk
            assert echoed == b"n=1\nn=2\n"
            ws.wait(lambda ms: any(m["type"] == "reading" and m["fields"]["n"] == 2 for m in ms), "reading 2")
            with urllib.request.urlopen(base + "/healthz", timeout=TIMEOUT) as response:
                assert response.status == 200
            during = metrics(base)
            # ... but nothing is accepted, so nothing is published, until the disk says so.
            assert during["gateway_spool_accepted_total"] == 0
            assert during["gateway_spool_unaccepted"] == 2
            assert gateway.mqtt.published == 0
        finally:
            os.close(fd)
            disk.gate.set()
            client.close()
        after = wait_metrics(base, lambda m: m["gateway_spool_accepted_total"] == 2
                             and m["gateway_spool_depth"] == 0, "both readings accepted and acknowledged")
        assert after["gateway_spool_unaccepted"] == 0
    assert sub.wait_for(lambda ms: len(ms) >= 2)
    assert seqs_of(sub, READINGS) == [1, 2]


def test_the_history_answers_from_memory_while_the_disk_writer_is_stuck(tmp_path: Path, pair: SocatPair) -> None:
    with running(make_config(tmp_path, pair)) as (gateway, bus, base):
        disk = DiskGate()
        # A job that holds the one disk thread: every store's commit waits behind it.
        gateway.writer.submit(gateway.loop, disk, lambda future: None)
        assert disk.entered.wait(TIMEOUT)
        fd = pair.open_peer()
        try:
            write_all(fd, lines(1, 51))
            bus.wait_until(lambda: len(bus.named("reading")) == 50, "50 readings")
            with urllib.request.urlopen(base + "/api/history?limit=1000", timeout=TIMEOUT) as response:
                history = json.loads(response.read())
            assert [r["fields"]["n"] for r in history["thermo"]] == list(range(1, 51))
        finally:
            os.close(fd)
            disk.gate.set()
    # Stopped and closed: every reading is in the file, none twice.
    db = sqlite3.connect(tmp_path / "state" / "history.sqlite3")
    try:
        stored = [json.loads(body)["fields"]["n"] for (body,) in db.execute("SELECT body FROM readings ORDER BY n")]
    finally:
        db.close()
    assert stored == list(range(1, 51))


def test_when_the_disk_cannot_keep_up_the_oldest_unaccepted_readings_are_dropped_and_counted(
        tmp_path: Path) -> None:
    state = tmp_path / "state"
    topic_len = len(f"{fx.config(1).topic_prefix}/dev/reading")
    payload_len = len(b'{"device":"dev","seq":100,"ts":1700000100.0,"fields":{"v":1}}')
    row = topic_len + payload_len + 32  # gateway.spool.ROW_OVERHEAD
    bound = 10 * row
    # No broker: nothing is published, everything stays in the spool.
    with fx.running_uplink(fx.config(free_port(0)), state, max_handover_bytes=bound) as (app, uplink, probe):
        disk = DiskGate()
        uplink.spool.store.before_commit = disk
        fx.send(app, "dev", 100, v=1)
        assert disk.entered.wait(TIMEOUT), "the spool never committed"
        for seq in range(101, 200):  # 99 more while the first commit is stuck
            fx.send(app, "dev", seq, v=1)
        assert probe.wait_until(lambda: uplink.readings == 100)
        stats = uplink.spool.statistics()
        assert (stats["committed"], stats["unaccepted"]) == (0, 1 + 10)  # the stuck one + the bound
        assert stats["overflow_dropped"] == 89 and stats["dropped"] == 89
        disk.gate.set()
        assert probe.wait_until(lambda: uplink.spool.committed == 11 and uplink.spool.unaccepted == 0)
    db = sqlite3.connect(state / "spool.sqlite3")
    try:
        seqs = [json.loads(payload)["seq"] for (payload,) in db.execute("SELECT payload FROM spool ORDER BY id")]
    finally:
        db.close()
    # The batch already at the disk, then the newest that fitted.
    assert seqs == [100, *range(190, 200)]


# -- slow consumers ---------------------------------------------------------------------------


def raw_websocket(base: str, rcvbuf: int = 4096) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(TIMEOUT)
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "closed during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def test_slow_websocket_and_tcp_clients_are_dropped_while_a_fast_one_gets_everything(
        tmp_path: Path, pair: SocatPair, cleanup: Callable[[Any], None]) -> None:
    config = make_config(tmp_path, pair, device="client_buffer = 65536")
    total, chunk = 6000, 64
    pad = "x" * 1500  # ~9 MB in all: more than any kernel buffers for the slow ones
    with running(config, ws_send_buffer=256 * 1024) as (gateway, bus, base):
        fast = WsClient(base)
        cleanup(fast)
        fast.wait(lambda ms: any(m["type"] == "status" for m in ms), "hello")
        slow_ws = raw_websocket(base)
        cleanup_socket = [slow_ws]
        slow_tcp = socket.socket()
        slow_tcp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow_tcp.connect(gateway.bridges["thermo"].address)
        cleanup_socket.append(slow_tcp)
        bus.wait_until(lambda: len(bus.named("client_connected")) == 1, "the TCP client")
        fd = pair.open_peer()
        try:
            # Paced by the fast client: the next chunk is written only once it has the previous
            # one, so it is never more than a chunk (~100 KB, under its 256 KiB allowance) behind,
            # however slowly this test process runs; the slow ones fall ever further behind.
            for start in range(1, total + 1, chunk):
                stop = min(start + chunk, total + 1)
                write_all(fd, b"".join(f"n={i} pad={pad}\n".encode() for i in range(start, stop)))
                fast.wait(lambda ms, last=stop - 1: last_n(ms) >= last, f"readings up to n={stop - 1}")
        finally:
            os.close(fd)
        values = wait_metrics(base, lambda m: m["gateway_websocket_clients_dropped_total"] == 1
                              and m['gateway_tcp_clients_dropped_total{device="thermo"}'] == 1,
                              "both slow clients dropped")
        assert values["gateway_websocket_clients"] == 1  # the fast one is still there
        assert not fast.closed
        assert [m["fields"]["n"] for m in fast.readings()] == list(range(1, total + 1))
        reasons = [a[2] for a in bus.named("client_disconnected")]
        assert reasons == ["too slow"]
        for sock in cleanup_socket:
            sock.close()


# -- garbage on the serial side ----------------------------------------------------------------


def test_garbage_and_a_100kb_line_are_counted_and_the_readings_go_on(tmp_path: Path, pair: SocatPair,
                                                                     cleanup: Callable[[Any], None]) -> None:
    with running(make_config(tmp_path, pair)) as (gateway, bus, base):
        ws = WsClient(base)
        cleanup(ws)
        fd = pair.open_peer()
        try:
            write_all(fd, b"n=1\n")
            write_all(fd, b"".join(b"\x00\xff garbage %d\n" % i for i in range(50)))
            write_all(fd, b"n=" + b"9" * 100_000 + b"\n")
            write_all(fd, b"n=2\nn=3\n")
        finally:
            os.close(fd)
        ws.wait(lambda ms: sum(m["type"] == "reading" for m in ms) >= 3, "3 readings")
        values = wait_metrics(base, lambda m: m['gateway_readings_total{device="thermo"}'] == 3,
                              "3 readings")
        assert values['gateway_parse_errors_total{device="thermo"}'] == 51
        assert [m["fields"]["n"] for m in ws.readings()] == [1, 2, 3]
        ws.wait(lambda ms: any(m["type"] == "counters" and m["counters"]["parse_errors"] == 51 for m in ms),
                "the parse errors in a counters message")


# -- unplug, replug; writes from MQTT ---------------------------------------------------------------


def test_unplug_and_replug_show_on_the_websocket_and_in_the_retained_mqtt_status(
        tmp_path: Path, pair: SocatPair, cleanup: Callable[[Any], None]) -> None:
    broker = fx.Broker(tmp_path / "broker").start()
    cleanup(broker)
    status_topic = f"{PREFIX}/thermo/status"
    sub = fx.Subscriber(broker.port, [status_topic])
    cleanup(sub)
    with running(make_config(tmp_path, pair, broker=broker.port)) as (gateway, bus, base):
        assert sub.wait_for(lambda ms: bool(ms) and ms[-1].payload == b"online")
        ws = WsClient(base)
        cleanup(ws)

        def statuses(ms: list[dict[str, Any]]) -> list[bool]:
            return [m["online"] for m in ms if m["type"] == "status"]

        ws.wait(lambda ms: statuses(ms) == [True], "the first status")
        pair.unplug()
        ws.wait(lambda ms: statuses(ms) == [True, False], "offline")
        assert sub.wait_for(lambda ms: ms[-1].payload == b"offline")
        late = fx.Subscriber(broker.port, [status_topic])
        cleanup(late)
        assert late.wait_for(lambda ms: bool(ms))
        assert (late.messages[0].payload, late.messages[0].retain) == (b"offline", True)
        pair.replug()
        ws.wait(lambda ms: statuses(ms) == [True, False, True], "online again")
        assert sub.wait_for(lambda ms: ms[-1].payload == b"online")
        assert late.wait_for(lambda ms: ms[-1].payload == b"online")
        # And the data flows again, to the dashboard.
        fd = pair.open_peer()
        try:
            write_all(fd, b"n=7\n")
        finally:
            os.close(fd)
        ws.wait(lambda ms: any(m["type"] == "reading" and m["fields"]["n"] == 7 for m in ms), "a reading")


def test_a_payload_published_to_the_write_topic_is_written_to_the_device(
        tmp_path: Path, pair: SocatPair, cleanup: Callable[[Any], None]) -> None:
    broker = fx.Broker(tmp_path / "broker").start()
    cleanup(broker)
    sub = fx.Subscriber(broker.port, [f"{PREFIX}/thermo/status"])
    cleanup(sub)
    with running(make_config(tmp_path, pair, broker=broker.port)) as (gateway, bus, base):
        # "online" comes after the gateway's SUBSCRIBE on the same connection.
        assert sub.wait_for(lambda ms: bool(ms) and ms[-1].payload == b"online")
        fd = pair.open_peer()
        try:
            sub.client.publish(f"{PREFIX}/thermo/write", b"SET interval=5\r\n", qos=1).wait_for_publish(TIMEOUT)
            got = b""
            deadline = time.monotonic() + TIMEOUT
            while not got.endswith(b"\r\n"):
                left = deadline - time.monotonic()
                assert left > 0 and select.select([fd], [], [], left)[0], f"the device got {got!r}"
                got += os.read(fd, 1024)
            assert got == b"SET interval=5\r\n"
            sub.client.publish(f"{PREFIX}/nosuch/write", b"x", qos=1).wait_for_publish(TIMEOUT)
        finally:
            os.close(fd)
        assert gateway.mqtt is not None
        wait_metrics(base, lambda m: True, "an answer")  # the loop went on after the unknown device
        assert gateway.mqtt.writes >= 1
