"""Modbus TCP -> RTU through the gateway: requests per second and round trips.

    python bench/modbus_tcp_rtu.py [--requests N] [--clients 1,5] [--rounds R] [--frame-gap t3.5|MS]

A pymodbus RTU server (tests/gateway/modbus_slave.py) on one end of a socat
pty pair at 115200 baud, the gateway (``gateway run``, its own process) as
the master on the other end with ``modbus_tcp``, and 1 or 5 pymodbus TCP
clients (threads of this process) each reading 10 holding registers N times.
Then the same load against pymodbus's own TCP -> RTU forwarder
(bench/modbus_pymodbus_forwarder.py, its own process) on the same pty pair
and slave.  Both servers are separate processes (neither shares the GIL
with the clients) measured the same way: CPU from /proc (the scheduler's
on-CPU time; user and system from the ticks).  The CPU per request of the
slave, socat and the clients is reported too: on a 2-core machine they
share the cores with the server being measured.
``--frame-gap`` sets ``[device.modbus] frame_gap`` (default: not given, the
spec's t3.5).  Each round runs both servers (the gateway first) with every
client count; one JSON line per (round, server, clients), then one line per
client count with the figures of every round (min-max) and the issue's bars
judged per round (ours >= 2x its requests/s, our p99 <= its p50).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pymodbus.client import ModbusTcpClient

from gateway.demo import free_port
from gateway.socat import SocatPair

ROOT = Path(__file__).resolve().parents[1]
SLAVE = ROOT / "tests" / "gateway" / "modbus_slave.py"
FORWARDER = ROOT / "bench" / "modbus_pymodbus_forwarder.py"
TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> tuple[float, float, float]:
    """(on-CPU, user, system) seconds of a process, all its threads (from /proc, Linux).

    The on-CPU time is the scheduler's (schedstat, nanoseconds); the user
    and system split is the tick-sampled one of /proc/PID/stat, which at
    100 Hz is too coarse for a few hundred microseconds per request.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ran = sum(int(Path(task, "schedstat").read_text().split()[0]) for task in Path(f"/proc/{pid}/task").iterdir())
    return ran / 1e9, int(fields[11]) / TICK, int(fields[12]) / TICK


def wait_listening(port: int, process: subprocess.Popen[bytes], journal: Path | None = None) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = journal.read_bytes()[-800:] if journal is not None else b""
                raise RuntimeError(f"the server did not listen: {tail!r}") from None
            time.sleep(0.02)


def start_gateway(work: Path, dev: Path, port: int, frame_gap: str | None) -> subprocess.Popen[bytes]:
    lines = ["[gateway]", 'name = "bench"', f'state_dir = "{work}/state"', "[[device]]", 'name = "bus"',
             f'port = "{dev}"', "baudrate = 115200", 'profile = "modbus"', f'modbus_tcp = "127.0.0.1:{port}"']
    if frame_gap is not None:
        value = f'"{frame_gap}"' if frame_gap == "t3.5" else frame_gap
        lines += ["[device.modbus]", f"frame_gap = {value}"]
    config = work / "gateway.toml"
    config.write_text("\n".join(lines) + "\n")
    # The journal goes to a file: a thread here draining a pipe would take
    # the GIL from the clients being timed (bench/rfc2217_compare.py).
    journal = work / "gateway.log"
    with journal.open("wb") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "gateway", "run", "-c", str(config)],
                                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log_file)
    wait_listening(port, process, journal)
    return process


def start_forwarder(dev: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, str(FORWARDER), str(dev), str(port)], stdout=subprocess.PIPE)
    assert process.stdout is not None and b"ready" in process.stdout.readline()
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(clients: int, requests: int, port: int) -> dict[str, Any]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0]
    ready = threading.Barrier(clients + 1)

    def one(index: int) -> None:
        c = ModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0)
        c.connect()
        own = latencies[index]
        ready.wait()
        for i in range(requests):
            started = time.perf_counter()
            answer = c.read_holding_registers((i * 7) % 150, count=10, device_id=1 + i % 2)
            own.append(time.perf_counter() - started)
            if answer.isError() or answer.registers[0] != (i * 7) % 150:
                errors[0] += 1
        c.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    ready.wait()  # connected: the clock starts with the first request
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    flat = sorted(x for xs in latencies for x in xs)
    return {"clients": clients, "requests": len(flat), "errors": errors[0],
            "requests_per_s": round(len(flat) / elapsed, 1),
            "p50_ms": round(statistics.median(flat) * 1000, 3),
            "p99_ms": round(flat[int(len(flat) * 0.99) - 1] * 1000, 3)}


def measure(server: str, process: subprocess.Popen[bytes], port: int, counts: list[int], requests: int,
            round_no: int, others: dict[str, int]) -> list[dict[str, Any]]:
    """Run every client count against ``process``; ``others`` (name -> pid):
    the processes on the path whose CPU per request is reported too (the
    slave, socat), the floor both servers share on these 2 cores."""
    results = []
    for clients in counts:
        ran, user, system = process_cpu(process.pid)
        before = {name: process_cpu(pid)[0] for name, pid in others.items()}
        # The clients are threads of this process that end within run():
        # process_time() still counts them (schedstat would not).
        clients_cpu = time.process_time()
        result = run(clients, requests, port)
        clients_cpu = time.process_time() - clients_cpu
        ran2, user2, system2 = process_cpu(process.pid)
        n = result["requests"]
        result.update(server=server, round=round_no,
                      cpu_us_per_request=round((ran2 - ran) / n * 1e6, 1),
                      user_us_per_request=round((user2 - user) / n * 1e6, 1),
                      sys_us_per_request=round((system2 - system) / n * 1e6, 1))
        for name, pid in others.items():
            result[f"{name}_cpu_us_per_request"] = round((process_cpu(pid)[0] - before[name]) / n * 1e6, 1)
        result["clients_cpu_us_per_request"] = round(clients_cpu / n * 1e6, 1)
        print(json.dumps(result), flush=True)
        results.append(result)
    return results


def span(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def summary(ours: list[dict[str, Any]], theirs: list[dict[str, Any]], counts: list[int],
            frame_gap: str | None) -> None:
    for clients in counts:
        mine = [r for r in ours if r["clients"] == clients]
        peer = [r for r in theirs if r["clients"] == clients]
        ratios = [m["requests_per_s"] / p["requests_per_s"] for m, p in zip(mine, peer, strict=True)]
        line: dict[str, Any] = {"clients": clients, "frame_gap": frame_gap or "t3.5 (default)",
                                "rounds": len(mine)}
        for name, rows in (("gateway", mine), ("pymodbus", peer)):
            for key in ("requests_per_s", "p50_ms", "p99_ms", "cpu_us_per_request"):
                line[f"{name}_{key}"] = span([r[key] for r in rows])
        line["throughput_ratio"] = span([round(r, 2) for r in ratios])
        line["bar_2x_rounds_met"] = sum(r >= 2 for r in ratios)
        line["bar_p99_le_their_p50_rounds_met"] = sum(
            m["p99_ms"] <= p["p50_ms"] for m, p in zip(mine, peer, strict=True))
        print(json.dumps(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500, help="requests per client (default 500)")
    parser.add_argument("--clients", default="1,5", help="client counts (default 1,5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both servers (default 3)")
    parser.add_argument("--frame-gap", default=None,
                        help='[device.modbus] frame_gap: "t3.5" or milliseconds (default: not given)')
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pair = SocatPair(tmp, "bus").start()
        slave = subprocess.Popen([sys.executable, str(SLAVE), str(pair.peer)], stdout=subprocess.PIPE)
        assert slave.stdout is not None and b"ready" in slave.stdout.readline()
        assert pair.process is not None
        others = {"slave": slave.pid, "socat": pair.process.pid}
        try:
            for round_no in range(1, args.rounds + 1):
                port = free_port(0)
                gateway = start_gateway(work, pair.dev, port, args.frame_gap)
                try:
                    ours += measure("gateway", gateway, port, counts, args.requests, round_no, others)
                finally:
                    stop(gateway)
                port = free_port(0)
                forwarder = start_forwarder(pair.dev, port)
                try:
                    theirs += measure("pymodbus", forwarder, port, counts, args.requests, round_no, others)
                finally:
                    stop(forwarder)
        finally:
            slave.kill()
            slave.wait()
            pair.unplug()
    summary(ours, theirs, counts, args.frame_gap)


if __name__ == "__main__":
    main()
