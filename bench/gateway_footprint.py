#!/usr/bin/env python3
"""The gateway's memory footprint for the two configurations of issue 15.

``gateway run -c FILE`` (a real subprocess, as systemd starts it) on socat
pty pairs, in turn for:

* ``small``: one raw-profile device bridged to TCP; no [web], no [mqtt]
  (goal: <= 20 MB RSS);
* ``full``: 4 devices (keyvalue, csv, json, nmea), each with a TCP bridge,
  plus [web] and [mqtt] to a mosquitto of its own (goal: <= 30 MB RSS).

Each gateway is started with a NOTIFY_SOCKET, so READY=1 says it is up; then
each device gets a few hundred simulated readings (through the dashboard
and the spool/uplink in ``full``), a dashboard page with its static files
(and a favicon's 404, as a browser asks) and a WebSocket client are served once, and after a settle the gateway's VmRSS and VmHWM (peak)
are read from /proc/PID/status. For scale, the JSON also gives the RSS of
a bare interpreter (``python -S``), the floor under any gateway.

Usage: PY bench/gateway_footprint.py [--rounds 3] [--settle 1.0]
Prints one JSON object per configuration (the median of the rounds) and a
summary with pass/fail against the goals. Run it under
``flock /work/wt/.bench.lock``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchutil import start_broker  # noqa: E402

from devices import get_profile, make_simulator  # noqa: E402
from gateway.demo import free_port  # noqa: E402
from gateway.socat import SocatPair  # noqa: E402

PROFILES = ("keyvalue", "csv", "json", "nmea")
#: Goals from issue 15, in KiB (1 MB taken as 1 MiB, the unit of VmRSS).
GOALS_KIB = {"small": 20 * 1024, "full": 30 * 1024}


def write_config(work: Path, pairs: list[SocatPair], *, web: int | None, broker: int | None) -> Path:
    lines = ["[gateway]", 'name = "footprint"', f"state_dir = {json.dumps(str(work / 'state'))}",
             'log_level = "warning"', ""]
    if web is not None:
        lines += ["[web]", f'listen = "127.0.0.1:{web}"', ""]
    if broker is not None:
        lines += ["[mqtt]", 'host = "127.0.0.1"', f"port = {broker}", 'topic_prefix = "footprint"',
                  'client_id = "footprint-gateway"', ""]
    small = web is None and broker is None
    for i, pair in enumerate(pairs):
        profile = "raw" if small else PROFILES[i]
        lines += ["[[device]]", f'name = "dev{i}"', f"port = {json.dumps(str(pair.dev))}",
                  f'profile = "{profile}"', f'tcp = "127.0.0.1:{free_port(0)}"']
        if profile == "csv":
            lines.append('columns = ["a", "b", "c"]')
        lines.append("")
    path = work / "gateway.toml"
    path.write_text("\n".join(lines))
    return path


def status_kib(pid: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            found[key] = int(value.split()[0])
    return found


def touch_web(port: int) -> None:
    """One page with what a browser then fetches for it (its static files, a favicon
    that is not there) and one WebSocket upgrade, so the dashboard's serving paths
    are loaded too."""
    for path in ("/", "/static/dashboard.css", "/static/chart.js", "/static/dashboard.js", "/favicon.ico"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            if exc.code != 404 or path != "/favicon.ico":
                raise
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"WebSocket upgrade refused: {head[:200]!r}")


def one_run(kind: str, settle: float) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"gw-footprint-{kind}-"))
    full = kind == "full"
    pairs = [SocatPair(work, f"dev{i}").start() for i in range(4 if full else 1)]
    broker = None
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(work / "notify"))
    notify.settimeout(30)
    gateway = None
    try:
        broker_port = web_port = None
        if full:
            broker_port = free_port(0)
            broker = start_broker(work, broker_port)
            web_port = free_port(0)
        config = write_config(work, pairs, web=web_port, broker=broker_port)
        env = dict(os.environ, PYTHONPATH=str(ROOT), NOTIFY_SOCKET=str(work / "notify"))
        start = time.perf_counter()
        gateway = subprocess.Popen([sys.executable, "-m", "gateway", "run", "-c", str(config)],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
        while "READY=1" not in notify.recv(4096).decode():
            pass
        ready_ms = round((time.perf_counter() - start) * 1000)
        at_ready = status_kib(gateway.pid)
        feeders = [pair.open_peer() for pair in pairs]
        try:
            for i, fd in enumerate(feeders):
                profile = PROFILES[i] if full else "keyvalue"  # a raw device takes any bytes
                options = {"columns": ("a", "b", "c")} if profile == "csv" else None
                os.write(fd, make_simulator(get_profile(profile), options).take(200))
            if web_port is not None:
                touch_web(web_port)
            time.sleep(settle)  # the steady state after the readings, not a wait for an event
            steady = status_kib(gateway.pid)
        finally:
            for fd in feeders:
                os.close(fd)
        if gateway.poll() is not None:
            raise RuntimeError(f"the {kind} gateway exited with {gateway.returncode}")
        return {"ready_ms": ready_ms, "rss_kib_at_ready": at_ready["VmRSS"], "rss_kib": steady["VmRSS"],
                "hwm_kib": steady["VmHWM"], "anon_kib": steady["RssAnon"], "file_kib": steady["RssFile"]}
    finally:
        if gateway is not None and gateway.poll() is None:
            gateway.terminate()
            gateway.wait(15)
        if broker is not None and broker.poll() is None:
            broker.terminate()
            broker.wait(10)
        for pair in pairs:
            pair.unplug()
        notify.close()
        shutil.rmtree(work, ignore_errors=True)


def bare_python_kib() -> int:
    """RSS of this interpreter doing nothing: the floor under any gateway."""
    out = subprocess.run([sys.executable, "-S", "-c",
                          "print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])"],
                         capture_output=True, text=True, check=True)
    return int(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="gateway starts per configuration")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds between the readings and the reading of RSS")
    parser.add_argument("--only", choices=sorted(GOALS_KIB), help="one configuration")
    args = parser.parse_args()
    summary: dict[str, Any] = {"benchmark": "gateway_footprint", "python": sys.version.split()[0],
                               "bare_python_rss_kib": bare_python_kib()}
    ok = True
    for kind in ([args.only] if args.only else ["small", "full"]):
        runs = [one_run(kind, args.settle) for _ in range(args.rounds)]
        result = {key: round(statistics.median(r[key] for r in runs)) for key in runs[0]}
        result["goal_kib"] = GOALS_KIB[kind]
        result["pass"] = result["rss_kib"] <= GOALS_KIB[kind]
        ok = ok and result["pass"]
        summary[kind] = result
        print(json.dumps({kind: result, "runs": runs}), flush=True)
    summary["pass"] = ok
    print(json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
