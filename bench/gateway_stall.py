#!/usr/bin/env python3
"""Issue 15's stall test: a slow disk must never reach the raw bridge.

The pipeline of ``gateway_pipeline.py`` (``gateway run`` with 4 keyvalue
devices -> parse -> spool -> MQTT QoS 1 -> PUBACK to a mosquitto of its
own, 10 WebSocket clients on /ws) plus a fifth device, ``raw``, bridged to
TCP. Readings go in at a steady ``--rate`` for ``--seconds`` while another
process measures the bridge's 64-byte echo round trip: TCP client ->
gateway -> pty -> an echo on the device side -> gateway -> client.

It runs once per ``--delays`` value with the benchmark-only hook
``GATEWAY_SPOOL_SLOW_COMMIT_MS`` set to it (unset for 0): every spool
commit is then held that long inside its transaction on the disk writer
thread, like an fsync on a Raspberry Pi's SD card (10-100 ms). The loop
never waits for a commit, so the echo should not notice; the readings
wait for their commit and group into fewer, larger ones.

Per run: echo RTT p50/p99/max, serial -> WebSocket latency p50/p99/max,
zero loss (every seq of every device at the MQTT subscriber and at every
WebSocket client, nothing dropped by the spool), spool commits. The bar
(issue 15): echo p99 <= 2 ms with 50 ms commits, zero loss.

The echo and its client run in their own process, one thread and one
select(): in this process the WebSocket reader would hold the GIL at times
and that wait would be counted as the gateway's.

Usage: PY bench/gateway_stall.py [--delays 0,50] [--rate 1000] [--seconds 10] [--interval-ms 2]
Prints one JSON line per run and a summary line. Run it under
``flock /work/wt/.bench.lock``.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchutil import start_subscriber  # noqa: E402
from gateway_pipeline import PREFIX, Pipeline, WsClients, metrics, paced_readings  # noqa: E402

from gateway.socat import make_raw  # noqa: E402
from gateway.spool import SLOW_COMMIT_ENV  # noqa: E402

ECHO_SIZE = 64
BAR_P99_US = 2000


# -- the echo process ------------------------------------------------------------


def echo(peer: str, port: int, seconds: float, interval: float) -> None:
    """Echo on the device side and time 64-byte round trips through the bridge;
    prints ``ready`` once connected, then one JSON line of RTTs (us)."""
    fd = os.open(peer, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    make_raw(fd)
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    print("ready", flush=True)
    message = b"e" * (ECHO_SIZE - 1) + b"\n"
    rtts: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        sock.send(message)
        got = 0
        while got < ECHO_SIZE:
            ready = select.select([fd, sock], [], [], 5.0)[0]
            if not ready:
                raise SystemExit(f"no echo for 5 s ({got} of {ECHO_SIZE} bytes back)")
            if fd in ready:
                data = os.read(fd, 4096)
                while data:
                    data = data[os.write(fd, data):]
            if sock in ready:
                chunk = sock.recv(4096)
                if not chunk:
                    raise SystemExit("the bridge closed the connection")
                got += len(chunk)
        rtts.append((time.perf_counter() - t0) * 1e6)
        time.sleep(interval)  # pacing the probe, not waiting for a result
    print(json.dumps({"rtt_us": [round(r, 1) for r in rtts]}), flush=True)


# -- one run ----------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"samples": 0}

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))])

    return {"samples": len(ordered), "p50_us": pct(0.50), "p99_us": pct(0.99), "max_us": round(ordered[-1])}


def losses(received: Path, clients: WsClients, total: int) -> dict[str, Any]:
    got: dict[str, set[int]] = {}
    rows = 0
    for line in received.read_bytes().splitlines():
        if line.startswith(b"{"):
            reading = json.loads(line)
            got.setdefault(reading["device"], set()).add(reading["seq"])
            rows += 1
    # seq numbers are per device and contiguous within a run.
    mqtt_missing = sum((max(s) - min(s) + 1) - len(s) for s in got.values()) + (total - sum(map(len, got.values())))
    return {"mqtt_missing": mqtt_missing, "mqtt_duplicates": rows - sum(map(len, got.values())),
            "ws_missing_per_client": [total - sum(map(len, c.values())) for c in clients.seqs],
            "ws_clients_dropped": sum(clients.closed)}


def run(delay_ms: float, rate: float, seconds: float, clients: int, interval: float) -> dict[str, Any]:
    env = {SLOW_COMMIT_ENV: f"{delay_ms:g}"} if delay_ms else {}
    with Pipeline(clients, env=env, bridge=True, prefix="gateway-stall-") as pipe:
        assert pipe.clients is not None and pipe.writers is not None and pipe.bridge_pair is not None
        hooked = SLOW_COMMIT_ENV.encode() in pipe.startup_log
        if hooked != bool(delay_ms):
            raise SystemExit(f"the gateway did not say whether {SLOW_COMMIT_ENV} is on (expected {bool(delay_ms)})")
        total = int(rate * seconds)
        received = pipe.work / "stall.jsonl"
        sub = start_subscriber(pipe.broker_port, f"{PREFIX}/+/reading", total, received)
        ws = pipe.clients
        ws.settle()  # parse as frames come: the latency of each reading is wanted
        ws.keep_seqs = ws.measure_latency = True
        ws.latencies.clear()
        before = metrics(pipe.web)
        prober = subprocess.Popen([sys.executable, __file__, "echo", str(pipe.bridge_pair.peer), str(pipe.bridge_port),
                                   str(seconds), str(interval)], stdout=subprocess.PIPE)
        assert prober.stdout is not None
        if prober.stdout.readline().strip() != b"ready":
            raise SystemExit("the echo process did not start")
        t0 = time.monotonic()
        paced_readings(rate, seconds, pipe.writers)
        out, _ = prober.communicate(timeout=seconds + 30)
        if prober.returncode:
            raise SystemExit(f"the echo process failed ({prober.returncode})")
        rtts = json.loads(out.splitlines()[-1])["rtt_us"]
        sub.wait(60)
        deadline = time.monotonic() + 30
        while min(ws.readings) < total and not any(ws.closed) and time.monotonic() < deadline:
            select.select([], [], [], 0.01)
        while True:
            after = metrics(pipe.web)
            if after["gateway_spool_depth"] == 0 or time.monotonic() > deadline:
                break
            select.select([], [], [], 0.01)
        elapsed = time.monotonic() - t0
        # (An older gateway has no such metric: then commits are not reported.)
        commits = after.get("gateway_spool_commits_total", 0) - before.get("gateway_spool_commits_total", 0)
        result: dict[str, Any] = {
            "benchmark": "gateway_stall", "spool_commit_delay_ms": delay_ms, "rate_per_s": rate,
            "seconds": seconds, "readings": total, "websocket_clients": clients,
            "echo_rtt": percentiles(rtts),
            "latency_serial_to_websocket": percentiles([v * 1e6 for v in ws.latencies]),
            **losses(received, ws, total),
            "spool_dropped": after["gateway_spool_dropped_total"],
            "spool_commits": commits, "readings_per_commit": round(total / commits, 1) if commits else None,
            "spool_commits_per_s": round(commits / elapsed, 1) if commits else None,
        }
        return result


def zero_loss(result: dict[str, Any]) -> bool:
    return not (result["mqtt_missing"] or any(result["ws_missing_per_client"]) or result["ws_clients_dropped"]
                or result["spool_dropped"])


def main() -> dict[str, Any]:
    if len(sys.argv) > 1 and sys.argv[1] == "echo":
        echo(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
        return {}
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delays", default="0,50", help="spool commit delays to run with, ms (0: hook off)")
    parser.add_argument("--rate", type=float, default=1000.0, help="readings/s into the 4 devices")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--clients", type=int, default=10, help="WebSocket clients")
    parser.add_argument("--interval-ms", type=float, default=2.0, help="pause between two echoes")
    args = parser.parse_args()
    runs = []
    for delay in (float(d) for d in args.delays.split(",")):
        result = run(delay, args.rate, args.seconds, args.clients, args.interval_ms / 1000)
        print(json.dumps(result), flush=True)
        runs.append(result)
    slowed = [r for r in runs if r["spool_commit_delay_ms"] >= 50]
    summary = {"benchmark": "gateway_stall_summary",
               "echo_p99_us": {f'{r["spool_commit_delay_ms"]:g}ms': r["echo_rtt"]["p99_us"] for r in runs},
               "zero_loss": all(zero_loss(r) for r in runs),
               "pass": bool(slowed) and all(zero_loss(r) and r["echo_rtt"]["p99_us"] <= BAR_P99_US for r in slowed)}
    print(json.dumps(summary), flush=True)
    return summary


if __name__ == "__main__":
    main()
