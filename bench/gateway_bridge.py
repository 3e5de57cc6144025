"""Gateway vs ser2net on socat pairs, plus RSS and time to READY=1.

    python bench/gateway_bridge.py [--rounds N] [--mb N] [--rtt N]
        Runs /work/shared/bench/serial_bridge.py for ser2net (/tmp/s2n.sh) and
        for the gateway, alternating, N rounds each (default 5); prints every
        result and a JSON summary (medians, the median of the per-round
        gateway/ser2net ratios, pass/fail against the targets:
        throughput >= ser2net, round-trip p50 <= 1.5 x ser2net), then the
        gateway's RSS with 4 devices and its time from exec to READY=1.

    python bench/gateway_bridge.py serve DEV PORT
        The harness command: one raw-profile device on DEV bridged to
        127.0.0.1:PORT, run in this process (so the harness measures the
        gateway's own RSS).  Use it directly with
        serial_bridge.py gateway 'exec python bench/gateway_bridge.py serve {dev} {port}'
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devices import get_profile, make_simulator  # noqa: E402
from gateway.cli import main as gateway_main  # noqa: E402
from gateway.demo import free_port  # noqa: E402
from gateway.socat import SocatPair  # noqa: E402

HARNESS = Path("/work/shared/bench/serial_bridge.py")
SER2NET = "exec /tmp/s2n.sh {dev} {port}"
PROFILES = ("keyvalue", "csv", "json", "nmea")


def serve(dev: str, port: int) -> int:
    state = tempfile.mkdtemp(prefix="gwbench-")
    config = Path(state) / "gateway.toml"
    config.write_text(
        f'[gateway]\nname = "bench"\nstate_dir = "{state}"\nlog_level = "warning"\n\n'
        f'[[device]]\nname = "dev"\nport = "{dev}"\nprofile = "raw"\ntcp = "127.0.0.1:{port}"\n'
    )
    try:
        return gateway_main(["run", "-c", str(config)])
    finally:
        shutil.rmtree(state, ignore_errors=True)


def harness(name: str, command: str, mb: float, rtt: int) -> dict[str, object]:
    out = subprocess.run([sys.executable, str(HARNESS), name, command, "--mb", str(mb), "--rtt", str(rtt)],
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(rounds: int, mb: float, rtt: int) -> dict[str, object]:
    gateway_cmd = f"exec {sys.executable} {Path(__file__).resolve()} serve {{dev}} {{port}}"
    results: dict[str, list[dict[str, object]]] = {"ser2net": [], "gateway": []}
    for _ in range(rounds):
        for name, command in (("ser2net", SER2NET), ("gateway", gateway_cmd)):
            result = harness(name, command, mb, rtt)
            print(json.dumps(result), flush=True)
            results[name].append(result)

    def median(name: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in results[name])  # type: ignore[arg-type]

    summary: dict[str, object] = {
        name: {key: median(name, key) for key in ("mib_per_s", "rtt_p50_us", "rtt_p99_us", "bridge_rss_kib")}
        for name in results
    }
    summary["intact"] = all(r["intact"] for rs in results.values() for r in rs)

    def paired(key: str) -> float:
        # Each round's two runs are back to back, so their ratio cancels most
        # of the load other processes put on the machine; the median of the
        # per-round ratios is steadier than a ratio of medians.
        ratios = [float(g[key]) / float(s[key])  # type: ignore[arg-type]
                  for g, s in zip(results["gateway"], results["ser2net"], strict=True)]
        return round(statistics.median(ratios), 2)

    summary["throughput_ratio"] = paired("mib_per_s")
    summary["rtt_p50_ratio"] = paired("rtt_p50_us")
    summary["pass"] = (summary["intact"] and summary["throughput_ratio"] >= 1.0  # type: ignore[operator]
                       and summary["rtt_p50_ratio"] <= 1.5)  # type: ignore[operator]
    return summary


def four_devices() -> dict[str, object]:
    """RSS with 4 socat-backed devices, and the time from exec to READY=1."""
    tmp = Path(tempfile.mkdtemp(prefix="gwbench4-"))
    pairs = [SocatPair(tmp, f"dev{i}").start() for i in range(4)]
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp / "notify"))
    notify.settimeout(20)
    lines = [f'[gateway]\nname = "bench4"\nstate_dir = "{tmp}"\nlog_level = "warning"\n']
    for i, (pair, profile) in enumerate(zip(pairs, PROFILES, strict=True)):
        lines.append(f'[[device]]\nname = "dev{i}"\nport = "{pair.dev}"\nprofile = "{profile}"\n'
                     + ('columns = ["a", "b", "c"]\n' if profile == "csv" else "")
                     + f'tcp = "127.0.0.1:{free_port(0)}"\n'
                     + 'udp = "127.0.0.1:9"\n')
    (tmp / "gateway.toml").write_text("\n".join(lines))
    env = dict(os.environ, NOTIFY_SOCKET=str(tmp / "notify"))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "run", "-c", str(tmp / "gateway.toml")],
                            cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        while True:
            message = notify.recv(4096).decode()
            if "READY=1" in message:
                ready_ms = (time.perf_counter() - start) * 1000
                break
        # Let readings flow a moment: the steady state, not the start-up peak.
        feeders = [pair.open_peer() for pair in pairs]
        for fd, profile in zip(feeders, PROFILES, strict=True):
            options = {"columns": ("a", "b", "c")} if profile == "csv" else None
            os.write(fd, make_simulator(get_profile(profile), options).take(100))
        time.sleep(1.0)
        rss = _rss_kib(proc.pid)
        for fd in feeders:
            os.close(fd)
    finally:
        proc.terminate()
        proc.wait(10)
        for pair in pairs:
            pair.unplug()
        notify.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return {"devices": 4, "rss_kib": rss, "exec_to_ready_ms": round(ready_ms)}


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        return serve(sys.argv[2], int(sys.argv[3]))
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mb", type=float, default=4)
    parser.add_argument("--rtt", type=int, default=1000)
    args = parser.parse_args()
    summary = compare(args.rounds, args.mb, args.rtt)
    summary["four_devices"] = four_devices()
    print(json.dumps(summary))
    return 0 if summary["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
