#!/usr/bin/env python3
"""The whole gateway pipeline, end to end, as a user runs it.

``gateway run -c FILE`` (a subprocess) with 4 socat serial devices, the
dashboard, and an MQTT uplink to a mosquitto of its own; 10 WebSocket
clients attached to /ws; a ``mosquitto_sub`` (another process) counting
what reaches the broker.

1. **Throughput**: N keyvalue lines written as fast as the ptys take them,
   spread over the 4 devices: serial -> parse -> spool (SQLite, fsync per
   pass: the shipped default) -> MQTT QoS 1 -> PUBACK, and every reading to
   all 10 WebSocket clients. Time runs from the first byte written to the
   moment the broker has delivered all N *and* every WebSocket client has
   all N *and* /metrics shows an empty spool. Zero loss is checked: every
   ``seq`` of every device at the subscriber and at each WebSocket client,
   nothing dropped from the spool, no WebSocket client dropped.
2. **Latency** at a steady ``--rate`` (1,000/s): each line carries
   ``t=<CLOCK_MONOTONIC>`` when written; each WebSocket client notes
   ``now - t`` on arrival (one clock: same host). p50/p99/max over all
   clients.
3. **RSS** of the gateway process (VmRSS and its peak, VmHWM) with the 4
   devices after both phases.

The WebSocket clients run on one thread with a selector and a minimal
RFC 6455 frame reader (server frames are unmasked), so counting costs the
bench little and the gateway's CPU is not shared with a heavy client.

Usage: PY bench/gateway_pipeline.py [-n 40000] [--rate 1000] [--seconds 10] [--clients 10]
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import resource
import select
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchutil import drain, start_broker, start_subscriber, wait_for_output  # noqa: E402

from gateway.demo import free_port as _free_port  # noqa: E402
from gateway.socat import SocatPair  # noqa: E402

DEVICES = 4
PREFIX = "bench/gw"
_READING_MARK = b'{"type":"reading"'
_DEVICE_SEQ = re.compile(rb'\{"type":"reading","device":"([^"]+)","seq":([0-9]+),')


class WsClients:
    """N WebSocket connections read on one thread; counts readings per client.

    While ``recording`` (the throughput phase) a client's bytes are only kept
    and the readings counted with ``bytes.count``: the frames are parsed and
    every ``seq`` checked by :meth:`settle`, after the clock stopped, so the
    reader takes little CPU from the gateway it shares the two cores with.
    """

    def __init__(self, host: str, port: int, n: int) -> None:
        self.socks = [self._connect(host, port) for _ in range(n)]
        self.buffers = [bytearray() for _ in self.socks]
        self.readings = [0] * n
        self.seqs: list[dict[str, set[int]]] = [{} for _ in self.socks]
        self.closed = [False] * n
        self.latencies: list[float] = []
        self.measure_latency = False
        self.keep_seqs = True
        self.recording = True
        self._tails = [b""] * n  # the last bytes of the previous chunk: a mark may straddle two
        self._settle = threading.Event()
        self._settled = threading.Event()
        self._stop = False
        self.cpu_s = 0.0  # this reader thread's CPU: it shares the machine with the gateway
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def _connect(host: str, port: int) -> socket.socket:
        sock = socket.create_connection((host, port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                     f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1)
            if not chunk:
                raise RuntimeError("WebSocket handshake failed")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"WebSocket handshake refused: {head!r}")
        sock.setblocking(False)
        return sock

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        for i, sock in enumerate(self.socks):
            selector.register(sock, selectors.EVENT_READ, i)
        while not self._stop:
            self.cpu_s = time.thread_time()
            if self._settle.is_set() and self.recording:
                for i in range(len(self.socks)):
                    self._frames(i, b"")  # parse what was recorded
                self.recording = False
                self._settled.set()
            for key, _ in selector.select(0.1):
                i = key.data
                try:
                    data = key.fileobj.recv(1 << 20)  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.closed[i] = True
                    selector.unregister(key.fileobj)
                    continue
                if self.recording:
                    self.buffers[i] += data
                    seen = self._tails[i] + data
                    self.readings[i] += seen.count(_READING_MARK)
                    self._tails[i] = seen[-(len(_READING_MARK) - 1):]
                else:
                    self._frames(i, data)

    def settle(self) -> None:
        """Parse what was recorded (seqs) and from now on parse as it comes."""
        self._settle.set()
        if not self._settled.wait(60):
            raise RuntimeError("the WebSocket reader did not settle")

    def _frames(self, i: int, data: bytes) -> None:
        buf = self.buffers[i]
        buf += data
        pos = 0
        end = len(buf)
        now = time.monotonic()
        while end - pos >= 2:
            b1 = buf[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if end - pos < 4:
                    break
                length = struct.unpack_from("!H", buf, pos + 2)[0]
                head = 4
            elif length == 127:
                if end - pos < 10:
                    break
                length = struct.unpack_from("!Q", buf, pos + 2)[0]
                head = 10
            if end - pos < head + length:
                break
            payload = bytes(buf[pos + head:pos + head + length])
            pos += head + length
            if buf[pos - head - length] & 0x0F != 1 or not payload.startswith(b'{"type":"reading"'):
                continue  # status, counters, pings
            if not self.recording:
                self.readings[i] += 1  # recorded ones were counted as they came
            if self.keep_seqs:
                # A regular expression, not json.loads: 400,000 messages
                # parsed here would take CPU from the gateway on this machine.
                match = _DEVICE_SEQ.match(payload)
                if match is None:
                    raise RuntimeError(f"unexpected reading {payload[:200]!r}")
                self.seqs[i].setdefault(match[1].decode(), set()).add(int(match[2]))
            if self.measure_latency:
                self.latencies.append(now - json.loads(payload)["fields"]["t"])
        del buf[:pos]

    def close(self) -> None:
        self._stop = True
        self.thread.join(5)
        for sock in self.socks:
            sock.close()


# -- the parts -----------------------------------------------------------------


def write_config(work: Path, pairs: list[SocatPair], broker: int, web: int,
                 bridge: tuple[SocatPair, int] | None = None) -> Path:
    lines = ["[gateway]", 'name = "bench"', f"state_dir = {json.dumps(str(work / 'state'))}", 'log_level = "warning"',
             "", "[web]", f'listen = "127.0.0.1:{web}"', "",
             "[mqtt]", 'host = "127.0.0.1"', f"port = {broker}", f'topic_prefix = "{PREFIX}"',
             'client_id = "bench-gateway"', "reconnect_min = 0.1", "reconnect_max = 1.0", ""]
    for i, pair in enumerate(pairs):
        lines += ["[[device]]", f'name = "dev{i}"', f"port = {json.dumps(str(pair.dev))}", 'profile = "keyvalue"',
                  "baudrate = 4000000", ""]
    if bridge is not None:  # another device, raw, bridged to TCP: the stall test's echo
        lines += ["[[device]]", 'name = "bridge"', f"port = {json.dumps(str(bridge[0].dev))}", 'profile = "raw"',
                  f'tcp = "127.0.0.1:{bridge[1]}"', ""]
    path = work / "gateway.toml"
    path.write_text("\n".join(lines))
    return path


def metrics(web: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{web}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, all its threads (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU so far: the main thread (the loop) and the others (the disk writer, ...)."""
    result: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        name = "loop" if task.name == str(pid) else "other_threads"
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        result[name] = result.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return result


def _reaped_children_cpu() -> float:
    """CPU of the children waited for so far (mosquitto_sub, once it exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rss_kib(pid: int) -> dict[str, int]:
    result = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            result[line.split(":")[0]] = int(line.split()[1])
    return result


class Writers:
    """The device side of each pair: raw, non-blocking descriptors."""

    def __init__(self, pairs: list[SocatPair]) -> None:
        self.fds = [pair.open_peer() for pair in pairs]

    def write(self, index: int, data: bytes) -> None:
        fd = self.fds[index]
        view = memoryview(data)
        while view:
            if not select.select([], [fd], [], 30)[1]:
                raise RuntimeError("a device side would not take data for 30 s")
            view = view[os.write(fd, view[:65536]):]

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)


# -- phases ----------------------------------------------------------------------


def throughput(n: int, writers: Writers, clients: WsClients, work: Path, broker: int, web: int,
               pid: int, broker_pid: int, socat_pids: list[int] | None = None) -> dict[str, Any]:
    received = work / "throughput.jsonl"
    sub = start_subscriber(broker, f"{PREFIX}/+/reading", n, received)
    per_device = n // DEVICES
    chunk = 500  # lines per write, round robin over the devices
    cpu0 = cpu_seconds(pid)
    threads0 = thread_cpu_seconds(pid)
    socats = socat_pids or []
    others0 = {"mosquitto": cpu_seconds(broker_pid), "mosquitto_sub": _reaped_children_cpu(),
               "bench_ws_clients": clients.cpu_s, "socat": sum(map(cpu_seconds, socats)),
               "bench_writer": time.thread_time()}
    t0 = time.monotonic()
    for start in range(0, per_device, chunk):
        for d in range(DEVICES):
            writers.write(d, b"".join(b"temp=%d.5 hum=%d seq=%d\n" % (40 + i % 9, i % 100, i)
                                      for i in range(start, min(start + chunk, per_device))))
    t_written = time.monotonic()
    total = per_device * DEVICES
    sub.wait(120)
    t_broker = time.monotonic()
    deadline = time.monotonic() + 60
    while min(clients.readings) < total and not any(clients.closed):
        if time.monotonic() > deadline:
            break
        select.select([], [], [], 0.001)
    t_ws = time.monotonic()
    while True:
        values = metrics(web)
        if values["gateway_spool_depth"] == 0 or time.monotonic() > deadline:
            break
    t_end = time.monotonic()
    cpu = cpu_seconds(pid) - cpu0
    others = {"mosquitto": cpu_seconds(broker_pid), "mosquitto_sub": _reaped_children_cpu(),
              "bench_ws_clients": clients.cpu_s, "socat": sum(map(cpu_seconds, socats)),
              "bench_writer": time.thread_time()}
    threads = {name: round(value - threads0.get(name, 0.0), 2) for name, value in thread_cpu_seconds(pid).items()}
    clients.settle()  # now that the clock stopped: check every seq
    seqs = [json.loads(line) for line in received.read_bytes().splitlines() if line.startswith(b"{")]
    got: dict[str, set[int]] = {}
    for reading in seqs:
        got.setdefault(reading["device"], set()).add(reading["seq"])
    # seq numbers continue across runs (state_dir): each device's must be contiguous.
    missing_mqtt = sum((max(s) - min(s) + 1) - len(s) for s in got.values()) + (total - sum(map(len, got.values())))
    missing_ws = [total - sum(map(len, c.values())) for c in clients.seqs]
    elapsed = t_end - t0
    return {
        "readings": total, "seconds": round(elapsed, 3), "readings_per_s": round(total / elapsed),
        # The gateway's own CPU per reading (all threads): what a busy machine
        # does not change much, unlike readings/s.
        "gateway_cpu_s": round(cpu, 3), "gateway_cpu_us_per_reading": round(cpu / total * 1e6, 1),
        "gateway_cpu_s_by_thread": {name: value for name, value in threads.items() if value},
        # What else ran on the same cores meanwhile.
        "peers_cpu_s": {name: round(value - others0[name], 2) for name, value in others.items()},
        "write_s": round(t_written - t0, 3), "broker_done_s": round(t_broker - t0, 3),
        "websockets_done_s": round(t_ws - t0, 3),
        "mqtt_missing": missing_mqtt, "mqtt_duplicates": len(seqs) - sum(map(len, got.values())),
        "ws_missing_per_client": missing_ws, "ws_clients_dropped": sum(clients.closed),
        "spool_dropped": values["gateway_spool_dropped_total"],
        "gateway_readings_total": sum(v for k, v in values.items() if k.startswith("gateway_readings_total")),
    }


def paced_readings(rate: float, seconds: float, writers: Writers) -> int:
    """Readings at ``rate`` over the devices, each carrying its write time;
    returns how many were written."""
    count = int(rate * seconds)
    interval = 1.0 / rate
    start = time.monotonic()
    for i in range(count):
        due = start + i * interval
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)  # pacing the generator, not waiting for a result
        writers.write(i % DEVICES, b"temp=21.5 t=%.6f\n" % time.monotonic())
    return count


def latency(rate: float, seconds: float, writers: Writers, clients: WsClients) -> dict[str, Any]:
    clients.keep_seqs = False
    clients.latencies.clear()
    clients.measure_latency = True
    before = list(clients.readings)
    count = paced_readings(rate, seconds, writers)
    deadline = time.monotonic() + 10
    while min(c - b for c, b in zip(clients.readings, before, strict=True)) < count:
        if time.monotonic() > deadline:
            break
        select.select([], [], [], 0.001)
    clients.measure_latency = False
    values = sorted(clients.latencies)

    def pct(p: float) -> float:
        return round(values[min(len(values) - 1, int(p * len(values)))] * 1e6) if values else -1

    return {"rate_per_s": rate, "readings": count, "samples": len(values),
            "p50_us": pct(0.50), "p99_us": pct(0.99), "max_us": round(values[-1] * 1e6) if values else -1}


class Pipeline:
    """Everything a run needs, set up and torn down: the device pairs, a
    mosquitto, ``gateway run`` (with ``env`` added to its environment), the
    WebSocket clients and the device-side writers. With ``bridge`` one more
    device, raw, bridged to TCP port :attr:`bridge_port`."""

    def __init__(self, clients: int, *, env: dict[str, str] | None = None, bridge: bool = False,
                 profile: str | None = None, prefix: str = "gateway-pipeline-") -> None:
        self.work = Path(tempfile.mkdtemp(prefix=prefix))
        self.pairs: list[SocatPair] = []
        self.clients_wanted = clients
        self.extra_env = env or {}
        self.with_bridge = bridge
        self.profile = profile
        self.broker: subprocess.Popen[bytes] | None = None
        self.gateway: subprocess.Popen[bytes] | None = None
        self.clients: WsClients | None = None
        self.writers: Writers | None = None
        self.bridge_pair: SocatPair | None = None
        self.bridge_port = 0
        self.startup_log = b""

    def __enter__(self) -> Pipeline:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        self.pairs = [SocatPair(self.work, f"dev{i}").start() for i in range(DEVICES)]
        bridge = None
        if self.with_bridge:
            self.bridge_pair = SocatPair(self.work, "bridge").start()
            self.bridge_port = _free_port(0)
            bridge = (self.bridge_pair, self.bridge_port)
        self.broker_port = _free_port(0)
        self.broker = start_broker(self.work, self.broker_port)
        self.web = _free_port(0)
        config = write_config(self.work, self.pairs, self.broker_port, self.web, bridge)
        env = {**os.environ, "PYTHONPATH": str(ROOT), **self.extra_env}
        env.pop("NOTIFY_SOCKET", None)
        profile = ["-m", "cProfile", "-o", self.profile] if self.profile else []
        self.gateway = subprocess.Popen([sys.executable, *profile, "-m", "gateway", "run", "-c", str(config),
                                         "--log-level", "info"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, env=env)
        devices = DEVICES + (1 if bridge else 0)
        self.startup_log = wait_for_output(self.gateway, rb"ready: %d/%d devices online" % (devices, devices))
        drain(self.gateway)
        self.clients = WsClients("127.0.0.1", self.web, self.clients_wanted)
        self.writers = Writers(self.pairs)

    @property
    def socat_pids(self) -> list[int]:
        """The socat processes linking each device's two ptys (they copy every byte)."""
        return [pair.process.pid for pair in self.pairs if pair.process is not None]

    def close(self) -> None:
        if self.clients is not None:
            self.clients.close()
        if self.writers is not None:
            self.writers.close()
        if self.gateway is not None and self.gateway.poll() is None:
            self.gateway.send_signal(signal.SIGTERM)
            self.gateway.wait(15)
        if self.broker is not None and self.broker.poll() is None:
            self.broker.terminate()
            self.broker.wait(10)
        for pair in [*self.pairs, *([self.bridge_pair] if self.bridge_pair else [])]:
            pair.unplug()
        shutil.rmtree(self.work, ignore_errors=True)


def lost(throughput_result: dict[str, Any]) -> bool:
    t = throughput_result
    return bool(t["mqtt_missing"] or any(t["ws_missing_per_client"]) or t["ws_clients_dropped"]
                or t["spool_dropped"])


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=40000, help="readings in the throughput phase")
    parser.add_argument("--rate", type=float, default=1000.0, help="readings/s in the latency phase")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency phase")
    parser.add_argument("--clients", type=int, default=10, help="WebSocket clients")
    parser.add_argument("--profile", metavar="FILE", help="run the gateway under cProfile, stats to FILE")
    args = parser.parse_args()

    with Pipeline(args.clients, profile=args.profile) as pipe:
        assert pipe.gateway is not None and pipe.broker is not None
        assert pipe.clients is not None and pipe.writers is not None
        result: dict[str, Any] = {"benchmark": "gateway_pipeline", "devices": DEVICES,
                                  "websocket_clients": args.clients, "spool_synchronous": "FULL"}
        result["throughput"] = throughput(args.n, pipe.writers, pipe.clients, pipe.work, pipe.broker_port,
                                          pipe.web, pipe.gateway.pid, pipe.broker.pid, pipe.socat_pids)
        result["latency_serial_to_websocket"] = latency(args.rate, args.seconds, pipe.writers, pipe.clients)
        result["rss_kib"] = rss_kib(pipe.gateway.pid)
        print(json.dumps(result))
        if lost(result["throughput"]):
            raise SystemExit("LOSS: see mqtt_missing / ws_missing_per_client / ws_clients_dropped / spool_dropped")
        return result


if __name__ == "__main__":
    main()
