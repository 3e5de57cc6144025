"""Live reload of a running ``gateway run`` with real signals, ptys and clients.

Four socat pairs: ``keep`` (unchanged: its TCP client and its UDP readings
must see an unbroken, unduplicated stream across the reload), ``change``
(baud rate and stop bits: applied to the open port, visible in termios, its
client stays connected), ``gone`` (removed: its client gets EOF) and
``new`` (added: it listens). The test edits the file, sends SIGHUP and
waits for systemd's RELOADING=1 / READY=1 on a NOTIFY_SOCKET it bound.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import termios
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mqtt_fixtures as fx
import pytest
import serial
from gwrun import GatewayRun, NotifyListener
from mqtt_fixtures import free_port, gateway_cli
from ptyio import read_fd, write_fd
from wsclient import WsClient

from gateway.socat import SocatPair

TIMEOUT = 15.0
NAMES = ("keep", "change", "gone", "new")

pytestmark = pytest.mark.timeout(120)


# -- harness ------------------------------------------------------------------------


def device_toml(name: str, pair: SocatPair, tcp: int, **extra: Any) -> str:
    lines = ["[[device]]", f'name = "{name}"', f'port = "{pair.dev}"', f'tcp = "127.0.0.1:{tcp}"',
             'profile = "keyvalue"', "exclusive = false"]
    for key, value in extra.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def gateway_toml(state_dir: Path, devices: list[str], sections: str = "") -> str:
    return "\n".join([f'[gateway]\nname = "reload-test"\nstate_dir = "{state_dir}"\nlog_level = "info"\n',
                      sections, *devices])


class Setup:
    """The pairs, the ports and the file of one test."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.pairs = {name: SocatPair(tmp_path, name).start() for name in NAMES}
        self.ports = {name: free_port() for name in NAMES}
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.file = tmp_path / "gateway.toml"
        self.state = tmp_path / "state"

    def write(self, sections: str = "", **devices: dict[str, Any]) -> None:
        """The file with these devices (name -> extra keys) after ``sections`` ([web], [mqtt])."""
        self.file.write_text(gateway_toml(self.state, [
            device_toml(name, self.pairs[name], self.ports[name], **extra) for name, extra in devices.items()],
            sections))

    def close(self) -> None:
        self.udp.close()
        for pair in self.pairs.values():
            pair.unplug()


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    s = Setup(tmp_path)
    yield s
    s.close()


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifyListener]:
    listener = NotifyListener(tmp_path)
    yield listener
    listener.close()


@pytest.fixture
def running(setup: Setup, notify: NotifyListener) -> Iterator[GatewayRun]:
    gateway: GatewayRun | None = None

    def start() -> GatewayRun:
        nonlocal gateway
        gateway = GatewayRun(setup.file, notify_socket=notify.path)
        notify.wait_for("READY", "1")
        return gateway

    yield start  # type: ignore[misc]
    if gateway is not None:
        assert gateway.stop() == 0, "".join(gateway.log)[-3000:]


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return sock


def device_reaches(pair: Any, sock: socket.socket, line: bytes) -> None:
    """The device side of ``pair`` writes ``line``; the client ``sock`` receives exactly it."""
    fd = pair.open_peer()
    try:
        write_fd(fd, line)
        sock.settimeout(TIMEOUT)
        assert fx.read_exactly(sock, len(line)) == line
    finally:
        os.close(fd)


def joined(gateway: Any, device: str, *socks: socket.socket) -> None:
    """Wait until the gateway has taken each client on: bytes the device sends
    before that are not for it (connect() returns at the kernel's accept)."""
    for sock in socks:
        host, port = sock.getsockname()[:2]
        gateway.wait_log(rf"{device}: TCP client {re.escape(host)}:{port} connected")


def wait_eof(sock: socket.socket) -> bytes:
    """Everything until the peer closes (AssertionError at the deadline)."""
    sock.settimeout(TIMEOUT)
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def reload(gateway: GatewayRun, notify: NotifyListener) -> tuple[dict[str, str], dict[str, str]]:
    """SIGHUP; the RELOADING=1 and the READY=1 message that follow it."""
    gateway.process.send_signal(signal.SIGHUP)
    try:
        reloading = notify.wait_for("RELOADING", "1")
        ready = notify.wait_for("READY", "1")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; gateway log: {''.join(gateway.log)[-3000:]}") from None
    return reloading, ready


class Stream:
    """Numbered lines written to a pty while a TCP client and the UDP socket read."""

    def __init__(self, fd: int, client: socket.socket, udp: socket.socket | None = None) -> None:
        self.fd, self.client, self.udp = fd, client, udp
        self.sent = b""
        self.count = 0
        self.received = bytearray()
        self.seqs: list[int] = []
        self.values: list[int] = []
        self._stop = threading.Event()
        self._writer = threading.Thread(target=self._write, daemon=True)
        self._reader = threading.Thread(target=self._read, daemon=True)

    def start(self) -> Stream:
        self._reader.start()
        self._writer.start()
        return self

    def _write(self) -> None:
        while not self._stop.is_set():
            chunk = b"".join(f"n={self.count + i}\n".encode() for i in range(5))
            write_fd(self.fd, chunk)
            self.count += 5
            self.sent += chunk
            time.sleep(0.002)  # paces the load; nothing waits on it

    def _read(self) -> None:
        self.client.setblocking(False)
        sources = [self.client] + ([self.udp] if self.udp is not None else [])
        deadline: float | None = None
        while True:
            # A short select so the stop flag is seen; the test itself waits on join().
            for sock in select.select(sources, [], [], 0.05)[0]:
                if sock is self.udp:
                    item = json.loads(self.udp.recv(65536))
                    self.seqs.append(item["seq"])
                    self.values.append(item["fields"]["n"])
                else:
                    chunk = self.client.recv(65536)
                    if not chunk:
                        return
                    self.received += chunk
            if self._stop.is_set():
                if len(self.received) >= len(self.sent) and (self.udp is None or len(self.values) >= self.count):
                    return
                deadline = deadline or time.monotonic() + TIMEOUT
                if time.monotonic() > deadline:
                    return  # the assertions say what is missing

    def wait_lines(self, n: int) -> None:
        deadline = time.monotonic() + TIMEOUT
        while self.count < n:
            assert time.monotonic() < deadline, "the writer stalled"
            time.sleep(0.01)

    def finish(self) -> None:
        self._stop.set()
        self._writer.join(TIMEOUT)
        self._reader.join(TIMEOUT)


def port_settings(path: Path) -> list[Any]:
    """termios of the gateway's side of a pair (the port it opened)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        return termios.tcgetattr(fd)
    finally:
        os.close(fd)


# -- the reload ------------------------------------------------------------------------------


def test_sighup_applies_the_difference_and_leaves_the_rest_untouched(
        setup: Setup, notify: NotifyListener, running: Any) -> None:
    udp_to = f"127.0.0.1:{setup.udp.getsockname()[1]}"
    setup.write(keep={"udp": udp_to}, change={"baudrate": 9600}, gone={})
    gateway = running()
    gateway.wait_log(r"ready: 3/3 devices online")
    assert (setup.state / "gateway.pid").read_text().strip() == str(gateway.process.pid)
    keep, change, gone = connect(setup.ports["keep"]), connect(setup.ports["change"]), connect(setup.ports["gone"])
    for name, sock in (("keep", keep), ("change", change), ("gone", gone)):
        joined(gateway, name, sock)
    before = port_settings(setup.pairs["change"].dev)
    assert before[4] == termios.B9600 and not before[2] & termios.CSTOPB
    with pytest.raises(ConnectionRefusedError):
        connect(setup.ports["new"])

    keep_fd = setup.pairs["keep"].open_peer()
    stream = Stream(keep_fd, keep, setup.udp).start()
    try:
        stream.wait_lines(200)
        setup.write(keep={"udp": udp_to}, change={"baudrate": 19200, "stopbits": 2}, new={})
        t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        reloading, ready = reload(gateway, notify)
        stream.wait_lines(stream.count + 200)  # the stream goes on after the reload
    finally:
        stream.finish()
        os.close(keep_fd)

    # systemd's notify-reload protocol: RELOADING=1 with our CLOCK_MONOTONIC, then READY=1.
    assert t0 <= int(reloading["MONOTONIC_USEC"]) <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    status = ready["STATUS"]
    assert "gone: removed" in status and "new: added" in status and "change: baudrate, stopbits" in status, status
    assert "keep" not in status.split("|")[0], status

    # The untouched device: every byte once, in order; readings numbered on without a gap.
    assert bytes(stream.received) == stream.sent
    assert stream.values == list(range(stream.count))
    assert stream.seqs == list(range(stream.seqs[0], stream.seqs[0] + stream.count))
    # The device side is open before the bytes leave: a pty with no reader
    # open may lose what arrives meanwhile.
    fd = setup.pairs["keep"].open_peer()
    try:
        keep.sendall(b"to-device\n")
        assert read_fd(fd, 10) == b"to-device\n"
    finally:
        os.close(fd)

    # The changed device: new settings on the open port, the same client still served.
    after = port_settings(setup.pairs["change"].dev)
    assert after[4] == termios.B19200 and after[5] == termios.B19200
    assert after[2] & termios.CSTOPB
    device_reaches(setup.pairs["change"], change, b"still=1\n")
    assert sum("change: online" in line for line in gateway.log) == 1, "the port was reopened"

    # The removed device: its client got EOF, and it was logged.
    assert wait_eof(gone) == b""
    gateway.wait_log(r"gone: removed from the configuration")
    with pytest.raises(ConnectionRefusedError):
        connect(setup.ports["gone"])

    # The new device listens and is served.
    added = connect(setup.ports["new"])
    gateway.wait_log(r"new: online")
    joined(gateway, "new", added)
    device_reaches(setup.pairs["new"], added, b"hello=1\n")

    result = json.loads((setup.state / "reload.json").read_text())
    assert result["ok"] and result["pid"] == gateway.process.pid and result["reload"] == 1
    assert result["unchanged"] == ["keep"]
    for sock in (keep, change, added):
        sock.close()


def test_an_invalid_edit_changes_nothing_and_is_reported_with_its_line(
        setup: Setup, notify: NotifyListener, running: Any) -> None:
    setup.write(keep={}, change={"baudrate": 9600})
    gateway = running()
    gateway.wait_log(r"ready: 2/2 devices online")
    keep, change = connect(setup.ports["keep"]), connect(setup.ports["change"])
    joined(gateway, "keep", keep)
    joined(gateway, "change", change)

    # A valid device removed and one added, but a bad value: none of it may happen.
    setup.write(keep={"baudrate": "fast"}, new={})
    bad_line = setup.file.read_text().splitlines().index('baudrate = "fast"') + 1
    _, ready = reload(gateway, notify)
    assert "reload refused: 1 problem(s)" in ready["STATUS"], ready
    logged = gateway.wait_log(rf"{setup.file}:{bad_line}: \[device \"keep\"\] baudrate: ")
    assert "ERROR" in logged or "error" in logged.lower()
    result = json.loads((setup.state / "reload.json").read_text())
    assert result["refused"] and not result["ok"] and result["changes"] == []
    assert result["errors"][0].startswith(f"{setup.file}:{bad_line}:")

    with pytest.raises(ConnectionRefusedError):
        connect(setup.ports["new"])
    for name, sock in (("keep", keep), ("change", change)):
        device_reaches(setup.pairs[name], sock, b"x=1\n")
    assert port_settings(setup.pairs["change"].dev)[4] == termios.B9600
    keep.close()
    change.close()


def test_gateway_reload_signals_the_service_and_prints_what_changed_or_why_not(
        setup: Setup, notify: NotifyListener, running: Any) -> None:
    setup.write(keep={})
    gateway = running()
    gateway.wait_log(r"ready: 1/1 devices online")

    setup.write(keep={}, new={})
    done = gateway_cli("reload", "-c", str(setup.file), timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert "changed: new: added" in done.stdout
    notify.wait_for("READY", "1")
    connect(setup.ports["new"]).close()

    # Unchanged: said so.
    done = gateway_cli("reload", "-c", str(setup.file), timeout=TIMEOUT)
    assert done.returncode == 0 and "nothing changed" in done.stdout, done

    # Invalid: the verb prints the problem and does not signal (no RELOADING=1).
    setup.write(keep={"baudrate": -5}, new={})
    done = gateway_cli("reload", "-c", str(setup.file), timeout=TIMEOUT)
    assert done.returncode == 78
    assert f"{setup.file}:" in done.stderr and "not signalled" in done.stderr
    assert json.loads((setup.state / "reload.json").read_text())["reload"] == 2

    # No gateway behind the pid file: a clear message, nothing signalled.
    setup.write(keep={})
    assert gateway.stop() == 0
    assert not (setup.state / "gateway.pid").exists()
    done = gateway_cli("reload", "-c", str(setup.file), timeout=TIMEOUT)
    assert done.returncode == 69 and "no running gateway" in done.stderr, done


def test_a_moved_listener_closes_its_clients_and_listens_on_the_new_address_with_the_port_left_open(
        setup: Setup, notify: NotifyListener, running: Any) -> None:
    setup.write(keep={})
    gateway = running()
    gateway.wait_log(r"ready: 1/1 devices online")
    client = connect(setup.ports["keep"])
    gateway.wait_log(r"keep: TCP client .* connected")
    old_port, setup.ports["keep"] = setup.ports["keep"], free_port()
    setup.write(keep={"max_line": 1000})
    _, ready = reload(gateway, notify)
    assert "keep: max_line, tcp" in ready["STATUS"], ready
    assert wait_eof(client) == b""
    with pytest.raises(ConnectionRefusedError):
        connect(old_port)
    moved = connect(setup.ports["keep"])
    joined(gateway, "keep", moved)
    device_reaches(setup.pairs["keep"], moved, b"a=1\n")
    assert sum("keep: online" in line for line in gateway.log) == 1, "the port was reopened"
    moved.close()


def healthz(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=TIMEOUT) as answer:
        return int(answer.status)


@pytest.mark.skipif(not os.path.exists(fx.MOSQUITTO), reason="mosquitto is needed")
def test_web_and_mqtt_changes_restart_only_those_parts_and_the_readings_go_on(
        setup: Setup, notify: NotifyListener, running: Any, tmp_path: Path) -> None:
    broker = fx.Broker(tmp_path / "broker").start()
    sub = fx.Subscriber(broker.port, ["a/keep/reading", "b/keep/reading"])
    web = [free_port(), free_port()]

    def sections(i: int, prefix: str) -> str:
        return (f'[web]\nlisten = "127.0.0.1:{web[i]}"\n\n[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\n'
                f'topic_prefix = "{prefix}"\nclient_id = "reload-{broker.port}"\nreconnect_min = 0.05\n')

    try:
        setup.write(sections(0, "a"), keep={})
        gateway = running()
        gateway.wait_log(r"ready: 1/1 devices online")
        assert healthz(web[0]) == 200
        client = connect(setup.ports["keep"])
        gateway.wait_log(r"keep: TCP client .* connected")
        fd = setup.pairs["keep"].open_peer()
        stream = Stream(fd, client).start()
        try:
            stream.wait_lines(200)
            setup.write(sections(1, "b"), keep={})
            _, ready = reload(gateway, notify)
            stream.wait_lines(stream.count + 200)
        finally:
            stream.finish()
            os.close(fd)
        assert "[web]: restarted" in ready["STATUS"] and "[mqtt]: restarted" in ready["STATUS"], ready
        assert "keep" not in ready["STATUS"].split("|")[0]
        # The device and its TCP client never noticed.
        assert bytes(stream.received) == stream.sent
        # The dashboard moved.
        assert healthz(web[1]) == 200
        with pytest.raises(OSError):
            healthz(web[0])
        # Every reading reached the broker (the spool was kept; rows spooled
        # before the change keep their topic), numbered on without a gap.
        def arrived() -> dict[int, int]:
            items = sub.readings("a/keep/reading") + sub.readings("b/keep/reading")
            return {item["fields"]["n"]: item["seq"] for item in items}

        assert sub.wait_for(lambda _: len(arrived()) >= stream.count, timeout=30), \
            f"{len(arrived())} of {stream.count} readings arrived"
        numbered = arrived()
        assert sorted(numbered) == list(range(stream.count))
        first = numbered[0]
        assert [numbered[n] for n in range(stream.count)] == list(range(first, first + stream.count))
        assert sub.readings("b/keep/reading"), "nothing was published with the new prefix"
        client.close()
    finally:
        sub.close()
        broker.stop()


def test_an_unchanged_dashboard_keeps_its_websockets_and_shows_the_new_device(
        setup: Setup, notify: NotifyListener, running: Any) -> None:
    web = free_port()
    section = f'[web]\nlisten = "127.0.0.1:{web}"\n'
    setup.write(section, keep={}, change={"baudrate": 9600})
    gateway = running()
    gateway.wait_log(r"ready: 2/2 devices online")
    ws = WsClient(f"http://127.0.0.1:{web}")
    client = connect(setup.ports["keep"])
    joined(gateway, "keep", client)
    try:
        fd = setup.pairs["keep"].open_peer()
        stream = Stream(fd, client).start()
        try:
            stream.wait_lines(200)
            setup.write(section, keep={}, change={"baudrate": 19200}, new={})
            _, ready = reload(gateway, notify)
            stream.wait_lines(stream.count + 200)
        finally:
            stream.finish()
            os.close(fd)
        assert "[web]" not in ready["STATUS"], ready

        def keep_readings(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [m for m in messages if m["type"] == "reading" and m["device"] == "keep"]

        messages = ws.wait(lambda ms: len(keep_readings(ms)) >= stream.count, f"{stream.count} readings")
        readings = keep_readings(messages)
        assert [r["fields"]["n"] for r in readings] == list(range(stream.count))
        first = readings[0]["seq"]
        assert [r["seq"] for r in readings] == list(range(first, first + stream.count))
        assert not ws.closed

        # The dashboard knows the new device: its readings go out on the same socket.
        new_fd = setup.pairs["new"].open_peer()
        try:
            write_fd(new_fd, b"t=7\n")
        finally:
            os.close(new_fd)
        ws.wait(lambda ms: any(m["type"] == "reading" and m["device"] == "new" for m in ms), "a reading of new")
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/api/devices", timeout=TIMEOUT) as answer:
            listed = [d["name"] for d in json.loads(answer.read())["devices"]]
        assert listed == ["keep", "change", "new"]
        assert not [line for line in gateway.log if "Traceback" in line or "Unhandled" in line], gateway.log
    finally:
        ws.close()
        client.close()


def test_rfc2217_clients_stay_connected_when_the_device_is_untouched_or_retuned_in_place(
        setup: Setup, notify: NotifyListener, running: Any) -> None:
    remote = {"keep": free_port(), "change": free_port()}
    keep_cfg = {"rfc2217": f"127.0.0.1:{remote['keep']}"}
    setup.write(keep=keep_cfg, change={"baudrate": 9600, "rfc2217": f"127.0.0.1:{remote['change']}"})
    gateway = running()
    gateway.wait_log(r"ready: 2/2 devices online")
    clients = {name: serial.serial_for_url(f"rfc2217://127.0.0.1:{remote[name]}", baudrate=baud, timeout=TIMEOUT)
               for name, baud in (("keep", 115200), ("change", 9600))}
    try:
        setup.write(keep=keep_cfg, change={"baudrate": 19200, "rfc2217": f"127.0.0.1:{remote['change']}"})
        _, ready = reload(gateway, notify)
        assert "change: baudrate" in ready["STATUS"] and "keep" not in ready["STATUS"].split("|")[0], ready
        assert port_settings(setup.pairs["change"].dev)[4] == termios.B19200
        for name, client in clients.items():
            fd = setup.pairs[name].open_peer()
            try:
                write_fd(fd, f"{name}=1\n".encode())
                assert client.read(len(name) + 3) == f"{name}=1\n".encode(), name
                client.write(b"back\n")
                assert read_fd(fd, 5) == b"back\n", name
            finally:
                os.close(fd)
        assert not [line for line in gateway.log if "RFC 2217 client" in line and "disconnected" in line]
    finally:
        for client in clients.values():
            client.close()


def connect_from(source: str, port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT, source_address=(source, 0))


def test_allow_and_tcp_mode_change_on_the_running_listener(
        setup: Setup, notify: NotifyListener, running: Any) -> None:
    setup.write(keep={})
    gateway = running()
    gateway.wait_log(r"ready: 1/1 devices online")
    near, far = connect_from("127.0.0.1", setup.ports["keep"]), connect_from("127.0.0.2", setup.ports["keep"])
    gateway.wait_log(r"keep: TCP client 127.0.0.2:\d+ connected")
    setup.write(keep={"allow": ["127.0.0.1/32"], "tcp_mode": "read-only"})
    _, ready = reload(gateway, notify)
    assert "keep: allow, tcp_mode" in ready["STATUS"], ready
    # The client the new allow refuses is closed; the other one is still served.
    assert wait_eof(far) == b""
    gateway.wait_log(r"keep: closing TCP client 127\.0\.0\.2:\d+: not in the new allow")
    fd = setup.pairs["keep"].open_peer()
    try:
        write_fd(fd, b"a=1\n")
        assert fx.read_exactly(near, 4) == b"a=1\n"
        # read-only now: what it sends is discarded, never written.
        near.sendall(b"nope\n")
        write_fd(fd, b"b=2\n")
        assert fx.read_exactly(near, 4) == b"b=2\n"
        assert not select.select([fd], [], [], 0.2)[0], "a read-only client's bytes reached the device"
    finally:
        os.close(fd)
    # A new connection from outside the list is closed before a byte.
    refused = connect_from("127.0.0.2", setup.ports["keep"])
    assert wait_eof(refused) == b""
    gateway.wait_log(r"keep: refused a connection from 127\.0\.0\.2")
    assert sum("keep: listening on" in line for line in gateway.log) == 1, "the listener was rebuilt"
    near.close()
