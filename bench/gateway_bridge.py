"""Gateway vs ser2net on socat pairs, plus RSS and time to READY=1.

    python bench/gateway_bridge.py [--rounds N] [--mb N] [--rtt N] [--cpu-echoes N]
        Runs /work/shared/bench/serial_bridge.py for ser2net (a raw
        ``accepter: tcp`` on the pty, 115200n81) and for the gateway,
        alternating, N rounds each (default 5); prints every result and a
        JSON summary (medians, the median of the per-round gateway/ser2net
        ratios, pass/fail against issue 15's bars: round-trip p50 <= ser2net's,
        p99 <= 1.5 x ser2net's, throughput >= 5 x ser2net's), then each
        bridge's CPU time per 64-byte echo (user + system, from
        /proc/PID/stat over --cpu-echoes echoes, alternating, median of the
        rounds), the gateway's RSS with 4 devices and its time from exec to READY=1.

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
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchutil import SER2NET_SCRIPT  # noqa: E402

from devices import get_profile, make_simulator  # noqa: E402
from gateway.cli import main as gateway_main  # noqa: E402
from gateway.demo import free_port  # noqa: E402
from gateway.socat import SocatPair  # noqa: E402

HARNESS = Path("/work/shared/bench/serial_bridge.py")
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


def commands(work: Path) -> dict[str, str]:
    """The harness command of each bridge ({dev} and {port} filled in by it)."""
    script = work / "s2n.sh"
    script.write_text(SER2NET_SCRIPT)
    script.chmod(0o755)
    return {"ser2net": f"exec {script} {{dev}} {{port}}",
            "gateway": f"exec {sys.executable} {Path(__file__).resolve()} serve {{dev}} {{port}}"}


def compare(rounds: int, mb: float, rtt: int, peers: dict[str, str]) -> dict[str, object]:
    results: dict[str, list[dict[str, object]]] = {"ser2net": [], "gateway": []}
    for _ in range(rounds):
        for name, command in peers.items():
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
    summary["rtt_p99_ratio"] = paired("rtt_p99_us")
    summary["pass"] = (summary["intact"] and summary["throughput_ratio"] >= 5.0  # type: ignore[operator]
                       and summary["rtt_p50_ratio"] <= 1.0  # type: ignore[operator]
                       and summary["rtt_p99_ratio"] <= 1.5)  # type: ignore[operator]
    return summary


def cpu_per_echo(command: str, echoes: int) -> float:
    """Microseconds of CPU (user + system) the bridge spends per 64-byte echo.

    The same loop as the harness (TCP client -> bridge -> pty -> an echo on
    the far end -> back), timed by the bridge's own /proc/PID/stat, so the
    client, the echo thread and socat are not counted.
    """
    work = Path(tempfile.mkdtemp(prefix="gwcpu-"))
    pair = SocatPair(work, "dev").start()
    port = free_port(0)
    bridge = subprocess.Popen(command.format(dev=pair.dev, port=port), shell=True, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peer = pair.open_peer()
    stop = threading.Event()

    def echo() -> None:
        while not stop.is_set():
            if select.select([peer], [], [], 0.1)[0]:
                try:
                    os.write(peer, os.read(peer, 4096))
                except BlockingIOError:
                    pass

    thread = threading.Thread(target=echo, daemon=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        thread.start()
        line = b"x" * 63 + b"\n"

        def rounds(n: int) -> None:
            for _ in range(n):
                client.sendall(line)
                got = 0
                while got < len(line):
                    got += len(client.recv(4096))

        rounds(200)  # warm up: connected, caches and the echo thread awake
        before = _cpu_seconds(bridge.pid)
        rounds(echoes)
        used = _cpu_seconds(bridge.pid) - before
        client.close()
        return round(used / echoes * 1e6, 1)
    finally:
        stop.set()
        if thread.is_alive():
            thread.join()
        os.killpg(bridge.pid, signal.SIGTERM)
        bridge.wait(10)
        os.close(peer)
        pair.unplug()
        shutil.rmtree(work, ignore_errors=True)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_compare(rounds: int, echoes: int, peers: dict[str, str]) -> dict[str, float]:
    taken: dict[str, list[float]] = {name: [] for name in peers}
    for _ in range(rounds):
        for name, command in peers.items():
            taken[name].append(cpu_per_echo(command, echoes))
    print(json.dumps({"cpu_us_per_echo_rounds": taken}), flush=True)
    return {name: statistics.median(values) for name, values in taken.items()}


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
    parser.add_argument("--cpu-echoes", type=int, default=5000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gwbench-"))
    try:
        peers = commands(work)
        summary = compare(args.rounds, args.mb, args.rtt, peers)
        summary["cpu_us_per_echo"] = cpu_compare(args.rounds, args.cpu_echoes, peers)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary["four_devices"] = four_devices()
    print(json.dumps(summary))
    return 0 if summary["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
