"""Helpers of the MQTT tests: a real mosquitto, a real subscriber, a gateway process.

Loaded by path from the test files (``load_fixtures()`` below is copied into
each): with ``--import-mode=importlib`` test modules cannot import each other.

Run as a script it is the gateway process the durability tests SIGKILL::

    python mqtt_fixtures.py --port P --state-dir D [--generate N] [--interval S]

It runs an MqttUplink (and a Timer generating readings ``seq`` 1..N for
device "dev") and prints one JSON line of statistics after every loop
timer tick, so the test can tell what was accepted before it kills it.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from circuits.core import BaseComponent, Component, Event, Timer, handler
from gateway.app import Gateway
from gateway.config import GatewayConfig, MqttConfig, parse_config
from gateway.demo import free_port as _free_port
from gateway.events import BUS
from gateway.mqtt import MqttUplink, reading
from gateway.readings import check_profile
from gateway.sdnotify import SystemdNotifier

MOSQUITTO = "/usr/sbin/mosquitto"
#: Bound for anything a test waits on; a healthy run takes far less.
TIMEOUT = 15.0
ROOT = Path(__file__).resolve().parents[2]


def gateway_cli(*args: str, timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m gateway ARGS`` from the repository root; returns its exit status and output."""
    return subprocess.run([sys.executable, "-m", "gateway", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def free_port(preferred: int = 0, host: str = "127.0.0.1", kind: int = socket.SOCK_STREAM) -> int:
    """A port free now, never the same twice in one test run: the tests' one
    way to pick ports (the demo's picker, which the tests do not import)."""
    return _free_port(preferred, host, kind)


class Broker:
    """A mosquitto on 127.0.0.1:port, started and stopped by the test."""

    def __init__(self, directory: Path, port: int | None = None, *, persistence: bool = False,
                 per_listener_settings: bool = False, extra: list[str] | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.persistence = persistence
        self.per_listener_settings = per_listener_settings
        self.extra = extra or []  # more config lines (e.g. a TLS listener), appended
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Broker:
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.directory / "mosquitto.conf"
        lines = ["per_listener_settings true"] if self.per_listener_settings else []
        lines += [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "log_dest stderr",
                 "log_type error", "log_type warning", "log_type notice", "log_type information",
                 # Queue without limit for a subscriber that is away (tests count every message).
                 "max_queued_messages 0", "max_inflight_messages 0"]
        if self.persistence:
            # Only for the test *subscriber's* session to outlive a broker restart;
            # the gateway uses a clean session and must not depend on this.
            lines += ["persistence true", f"persistence_location {self.directory}/", "autosave_interval 0"]
        else:
            lines.append("persistence false")
        if os.geteuid() == 0:
            # As root mosquitto switches to user "mosquitto", who cannot read
            # the test's private temporary files (password file, keys).
            lines.append("user root")
        lines += self.extra
        conf.write_text("\n".join(lines) + "\n")
        # Logging to stderr: unbuffered, so "running" shows up at once.
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        self._wait_for_log("running", TIMEOUT)
        return self

    def _wait_for_log(self, text: str, timeout: float) -> None:
        assert self.process is not None and self.process.stderr is not None
        deadline = time.monotonic() + timeout
        seen = b""
        fd = self.process.stderr.fileno()
        while text.encode() not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"mosquitto did not start: {seen.decode(errors='replace')}")
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise RuntimeError(f"mosquitto exited: {seen.decode(errors='replace')}")
                seen += chunk
        # Keep draining its log so it never blocks on a full pipe.
        threading.Thread(target=self._drain, args=(fd,), daemon=True).start()

    @staticmethod
    def _drain(fd: int) -> None:
        try:
            while os.read(fd, 65536):
                pass
        except OSError:
            pass

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(TIMEOUT)


class Subscriber:
    """A paho client on its own thread (test side only) collecting messages."""

    def __init__(self, port: int, topics: list[str], *, client_id: str = "",
                 persistent: bool = False) -> None:
        self.messages: list[paho.MQTTMessage] = []
        self._cond = threading.Condition()
        self._topics = topics
        self._subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"sub-{id(self)}",
                                  clean_session=not persistent)
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        assert self._subscribed.wait(TIMEOUT), "subscriber did not subscribe"

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if not reason.is_failure:
            client.subscribe([(t, 2) for t in self._topics])

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        self._subscribed.set()

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def on(self, topic: str) -> list[paho.MQTTMessage]:
        with self._cond:
            return [m for m in self.messages if m.topic == topic]

    def wait_for(self, predicate: Callable[[list[paho.MQTTMessage]], bool], timeout: float = TIMEOUT) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.messages), timeout)

    def readings(self, topic: str) -> list[dict[str, Any]]:
        return [json.loads(m.payload) for m in self.on(topic)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def config(port: int, **overrides: Any) -> MqttConfig:
    values: dict[str, Any] = dict(host="127.0.0.1", port=port, topic_prefix="test/gw", qos=1,
                                  client_id=f"gw-{port}", keepalive=10, reconnect_min=0.05,
                                  reconnect_max=0.3)
    values.update(overrides)
    return MqttConfig(**values)


class Probe(BaseComponent):
    """Sees every event of the app; lets the test thread wait for a condition."""

    def __init__(self) -> None:
        super().__init__(channel="probe")
        self.events: list[Event] = []
        self.cond = threading.Condition()

    @handler(channel="*", priority=1000)
    def _record(self, event: Event, *args: Any, **kwargs: Any) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def wait_until(self, predicate: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
        """True once ``predicate`` holds, checked after every event of the app."""
        with self.cond:
            return self.cond.wait_for(predicate, timeout)

    def named(self, name: str) -> list[Event]:
        with self.cond:
            return [e for e in self.events if e.name == name]


class App(Component):
    channel = "gateway"


@contextmanager
def running_uplink(cfg: MqttConfig, state_dir: Path, *extra: Callable[[MqttUplink], BaseComponent],
                   **kwargs: Any) -> Iterator[tuple[App, MqttUplink, Probe]]:
    """An app holding an MqttUplink (and ``extra(uplink)`` components), run in a thread."""
    app = App()
    uplink = MqttUplink(cfg, "gw", state_dir, **kwargs).register(app)
    probe = Probe().register(app)
    for component in extra:
        component(uplink).register(app)
    app.start()
    try:
        yield app, uplink, probe
    finally:
        app.stop()
        app.join(TIMEOUT)
        assert app._circuits_thread is not None and not app._circuits_thread.is_alive(), "the app did not stop"
        app.loop.close()


def send(app: App, device: str, seq: int, **fields: Any) -> None:
    """Fire a reading into the app (thread-safe: fire() appends and wakes the loop)."""
    app.fire(reading({"device": device, "seq": seq, "ts": 1700000000.0 + seq, "fields": fields}), "gateway")


# -- the gateway process ---------------------------------------------------

@dataclass
class GatewayProcess:
    process: subprocess.Popen[str]
    stats: list[dict[str, Any]]

    def wait_stats(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = TIMEOUT) -> dict[str, Any]:
        """Read statistics lines until one satisfies ``predicate``."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                raise AssertionError(f"gateway never reported the expected state; last: {self.stats[-1:]}")
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"gateway exited ({self.process.wait()}); last: {self.stats[-1:]}")
            stats = json.loads(line)
            self.stats.append(stats)
            if predicate(stats):
                return stats

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(TIMEOUT)


def start_gateway(port: int, state_dir: Path, generate: int = 0, interval: float = 0.002,
                  prefix: str = "test/gw", spool_max_mb: int = 64) -> GatewayProcess:
    args = [sys.executable, __file__, "--port", str(port), "--state-dir", str(state_dir),
            "--generate", str(generate), "--interval", str(interval), "--prefix", prefix,
            "--spool-max-mb", str(spool_max_mb)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, bufsize=1, env=env, cwd=ROOT)
    return GatewayProcess(process, [])


class generate_readings(Event):
    pass


class report_statistics(Event):
    pass


class Generator(Component):
    """Fires readings seq 1..n for device "dev", a few per timer tick, then reports."""

    channel = "gateway"

    def init(self, uplink: MqttUplink, n: int, interval: float, report: bool = True) -> None:
        self.uplink = uplink
        self.n = n
        self.seq = 0
        if n:
            Timer(interval, generate_readings(), "gateway", persist=True).register(self)
        if report:
            Timer(0.02, report_statistics(), "gateway", persist=True).register(self)

    def generate_readings(self) -> None:
        for _ in range(5):
            if self.seq >= self.n:
                return
            self.seq += 1
            self.fire(reading({"device": "dev", "seq": self.seq, "ts": time.time(),
                               "fields": {"value": self.seq * 0.5}}))

    def report_statistics(self) -> None:
        stats = self.uplink.statistics()
        stats["generated"] = self.seq
        del stats["spool"], stats["client"]
        print(json.dumps(stats), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--generate", type=int, default=0)
    parser.add_argument("--interval", type=float, default=0.002)
    parser.add_argument("--prefix", default="test/gw")
    parser.add_argument("--spool-max-mb", type=int, default=64)
    args = parser.parse_args()
    cfg = config(args.port, topic_prefix=args.prefix, spool_max_mb=args.spool_max_mb, client_id="gw-process")
    app = App()
    uplink = MqttUplink(cfg, "gw", args.state_dir).register(app)
    Generator(uplink, args.generate, args.interval).register(app)
    app.run()


if __name__ == "__main__":
    main()


def certificate(directory: Path, name: str, host: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``host`` (and 127.0.0.1) and its key, made with openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to generate test certificates")
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", f"/CN={host}",
                    "-addext", f"subjectAltName=DNS:{host},IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=30)
    return cert, key


class BusLog(BaseComponent):
    """Records the gateway's public events on its bus; the test thread waits on them."""

    channel = BUS

    def __init__(self, timeout: float = TIMEOUT) -> None:
        super().__init__(channel=BUS)
        self.timeout = timeout  # the default deadline of wait() and wait_until()
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self._cond = threading.Condition()

    @handler("device_status", "reading", "listening", "part_ready", "gateway_ready", "client_connected",
             "client_disconnected", priority=-100)
    def _record(self, event: Any, *args: Any) -> None:
        with self._cond:
            self.events.append((event.name, args))
            self._cond.notify_all()

    def wait(self, name: str, where: Callable[..., bool] = lambda *a: True, *, count: int = 1,
             timeout: float | None = None) -> list[tuple[Any, ...]]:
        """The first ``count`` events named ``name`` whose args satisfy ``where``."""
        timeout = self.timeout if timeout is None else timeout

        def found() -> list[tuple[Any, ...]]:
            return [args for n, args in self.events if n == name and where(*args)]
        with self._cond:
            if not self._cond.wait_for(lambda: len(found()) >= count, timeout):
                raise AssertionError(f"no {count}x {name} within {timeout}s; saw {self.names()}")
            return found()[:count]

    def wait_until(self, predicate: Callable[[], bool], what: str, timeout: float | None = None) -> None:
        timeout = self.timeout if timeout is None else timeout
        with self._cond:
            assert self._cond.wait_for(predicate, timeout), f"timed out waiting for {what}"

    def names(self) -> list[str]:
        return [n for n, _ in self.events]

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [a for n, a in self.events if n == name]

    def readings(self, device: str) -> list[dict[str, Any]]:
        with self._cond:
            return [a[0] for n, a in self.events if n == "reading" and a[0]["device"] == device]


@contextmanager
def running_gateway(config: GatewayConfig, timeout: float = TIMEOUT,
                    **kwargs: Any) -> Iterator[tuple[Gateway, BusLog]]:
    """A Gateway on its own thread, once it said READY; stopped (and checked) afterwards."""
    gateway = Gateway(config, notifier=SystemdNotifier({}), **kwargs)
    bus = BusLog(timeout).register(gateway)
    gateway.start()
    try:
        bus.wait("gateway_ready")
        yield gateway, bus
    finally:
        gateway.stop()
        gateway.join(timeout)
        assert gateway._circuits_thread is not None and not gateway._circuits_thread.is_alive(), "the gateway did not stop"
        gateway.close()
        gateway.loop.close()


def web_base(gateway: Gateway) -> str:
    """The dashboard's base URL ("http://host:port" or "https://...")."""
    assert gateway.web is not None
    host, port = gateway.web.address
    return f"{gateway.web.config.scheme}://{host}:{port}"


def device_toml(name: str, port: str | Path, extra: str = "", profile: str = "keyvalue") -> str:
    """One ``[[device]]`` table; ``extra`` is more TOML lines for it."""
    return f'\n[[device]]\nname = "{name}"\nport = {json.dumps(str(port))}\nprofile = "{profile}"\n{extra}\n'


def web_gateway_config(tmp_path: Path, *devices: str, name: str = "greenhouse", web: str = "") -> GatewayConfig:
    """A gateway named ``name`` with its state in tmp_path, ``[web]`` on a free
    loopback port (``web``: more lines for it) and the given device tables."""
    text = (f'[gateway]\nname = "{name}"\nstate_dir = {json.dumps(str(tmp_path / "state"))}\n\n'
            f'[web]\nlisten = "127.0.0.1:{free_port(0)}"\n{web}\n' + "".join(devices))
    return parse_config(text, "<test>", check_profile=check_profile)


def read_exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes from ``sock`` (a broker played by the test)."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise AssertionError(f"closed after {data!r}")
        data += chunk
    return data


def accept_connect(server: socket.socket) -> socket.socket:
    """Accept the client and read its whole CONNECT."""
    conn, _ = server.accept()
    conn.settimeout(TIMEOUT)
    head = read_exactly(conn, 2)
    assert head[0] == 0x10 and head[1] < 128
    read_exactly(conn, head[1])
    return conn
