"""Modbus TCP -> RTU through the gateway: requests per second and round trips.

    python bench/modbus_tcp_rtu.py [--requests N] [--clients 1,5]

A pymodbus RTU server (tests/gateway/modbus_slave.py) on one end of a socat
pty pair at 115200 baud, the gateway (in this process, on its own thread) as
the master on the other end with ``modbus_tcp``, and 1 or 5 pymodbus TCP
clients (threads) each reading 10 holding registers N times. Prints one JSON
line per client count: requests/s, round trip p50/p99 in ms, the gateway
thread's CPU per request in microseconds.

Then the same load against pymodbus's own TCP -> RTU forwarder
(bench/modbus_pymodbus_forwarder.py, its own process, CPU from /proc) on the
same pty pair and slave, and the issue's bars: ours >= 2x its requests/s and
our p99 <= its p50.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from pymodbus.client import ModbusTcpClient

from gateway.app import Gateway
from gateway.config import parse_config
from gateway.demo import free_port
from gateway.readings import check_profile
from gateway.sdnotify import SystemdNotifier
from gateway.socat import SocatPair

ROOT = Path(__file__).resolve().parents[1]
SLAVE = ROOT / "tests" / "gateway" / "modbus_slave.py"
FORWARDER = ROOT / "bench" / "modbus_pymodbus_forwarder.py"


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (from /proc, Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pymodbus_forwarder(pair: SocatPair, counts: list[int], requests: int) -> list[dict[str, float]]:
    port = free_port(0)
    forwarder = subprocess.Popen([sys.executable, str(FORWARDER), str(pair.dev), str(port)],
                                 stdout=subprocess.PIPE)
    results = []
    try:
        assert forwarder.stdout is not None and b"ready" in forwarder.stdout.readline()
        for clients in counts:
            cpu = process_cpu(forwarder.pid)
            result = run(clients, requests, port)
            result["cpu_us_per_request"] = round(
                (process_cpu(forwarder.pid) - cpu) / result["requests"] * 1e6, 1)
            result["server"] = "pymodbus"
            print(json.dumps(result), flush=True)
            results.append(result)
    finally:
        forwarder.kill()
        forwarder.wait()
    return results


def run(clients: int, requests: int, port: int) -> dict[str, float]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0]

    def one(index: int) -> None:
        c = ModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0)
        c.connect()
        own = latencies[index]
        for i in range(requests):
            started = time.perf_counter()
            answer = c.read_holding_registers((i * 7) % 150, count=10, device_id=1 + i % 2)
            own.append(time.perf_counter() - started)
            if answer.isError() or answer.registers[0] != (i * 7) % 150:
                errors[0] += 1
        c.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    flat = sorted(x for xs in latencies for x in xs)
    return {"clients": clients, "requests": len(flat), "errors": errors[0],
            "requests_per_s": round(len(flat) / elapsed, 1),
            "p50_ms": round(statistics.median(flat) * 1000, 3),
            "p99_ms": round(flat[int(len(flat) * 0.99) - 1] * 1000, 3)}


def gateway_runs(tmp: str, pair: SocatPair, counts: list[int], requests: int) -> list[dict[str, float]]:
    ours = []
    port = free_port(0)
    config = parse_config("\n".join([
        "[gateway]", 'name = "bench"', f'state_dir = "{tmp}/state"', "[[device]]", 'name = "bus"',
        f'port = "{pair.dev}"', "baudrate = 115200", 'profile = "modbus"', f'modbus_tcp = "127.0.0.1:{port}"',
    ]), "<bench>", check_profile=check_profile)
    gateway = Gateway(config, notifier=SystemdNotifier({}), hotplug=False)
    gateway.start()
    try:
        deadline = time.monotonic() + 10
        while not gateway.readiness.ready:
            assert time.monotonic() < deadline, "the gateway did not get ready"
            time.sleep(0.05)
        thread = gateway._circuits_thread
        assert thread is not None and thread.ident is not None
        clock = time.pthread_getcpuclockid(thread.ident)
        for clients in counts:
            cpu = time.clock_gettime(clock)
            result = run(clients, requests, port)
            result["cpu_us_per_request"] = round(
                (time.clock_gettime(clock) - cpu) / result["requests"] * 1e6, 1)
            result["server"] = "gateway"
            print(json.dumps(result), flush=True)
            ours.append(result)
    finally:
        gateway.stop()
        gateway.join(10)
        gateway.close()
    return ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", default="1,5")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        pair = SocatPair(tmp, "bus").start()
        slave = subprocess.Popen([sys.executable, str(SLAVE), str(pair.peer)], stdout=subprocess.PIPE)
        assert slave.stdout is not None and b"ready" in slave.stdout.readline()
        try:
            ours = gateway_runs(tmp, pair, counts, args.requests)
            theirs = pymodbus_forwarder(pair, counts, args.requests)
        finally:
            slave.kill()
            slave.wait()
            pair.unplug()
    for mine, peer in zip(ours, theirs, strict=True):
        print(json.dumps({"clients": mine["clients"],
                          "throughput_ratio": round(mine["requests_per_s"] / peer["requests_per_s"], 2),
                          "bar_2x": mine["requests_per_s"] >= 2 * peer["requests_per_s"],
                          "bar_p99_le_their_p50": mine["p99_ms"] <= peer["p50_ms"]}), flush=True)


if __name__ == "__main__":
    main()
