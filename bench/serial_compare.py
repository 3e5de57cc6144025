#!/usr/bin/env python3
"""The serial<->TCP bridge of the public API, three ways, alternating rounds.

Runs ../shared/bench/serial_bridge.py (the shared harness) for: our
circuits running ../shared/bench/bridge_app.py, upstream circuits 3.2.5
running the same file, and ser2net. Rounds alternate so load on a shared
machine hits all three alike; prints the per-round results and the medians.

Usage: serial_compare.py [ROUNDS] [--mb N] [--upstream PYTHON] [--shared DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchutil import SER2NET_SCRIPT

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("rounds", nargs="?", type=int, default=5)
    parser.add_argument("--mb", default="16")
    parser.add_argument("--upstream", default="/tmp/upvenv/bin/python")
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = parser.parse_args()
    harness = Path(args.shared) / "bench" / "serial_bridge.py"
    app = Path(args.shared) / "bench" / "bridge_app.py"
    s2n = Path(tempfile.mkdtemp()) / "s2n.sh"
    s2n.write_text(SER2NET_SCRIPT)
    s2n.chmod(0o755)
    peers = {
        "ours": (f"exec {ROOT / '.venv/bin/python'} {app} {{dev}} {{port}}", ROOT),
        # From /tmp so upstream imports its own circuits, not this checkout.
        "upstream": (f"exec {args.upstream} {app} {{dev}} {{port}}", Path("/tmp")),
        "ser2net": (f"exec {s2n} {{dev}} {{port}}", ROOT),
    }
    results: dict[str, list[dict]] = {name: [] for name in peers}
    for _ in range(args.rounds):
        for name, (command, cwd) in peers.items():
            out = subprocess.run([sys.executable, str(harness), name, command, "--mb", args.mb],
                                 cwd=cwd, capture_output=True, text=True, timeout=300)
            line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "{}"
            result = json.loads(line)
            results[name].append(result)
            print(json.dumps(result), flush=True)
    summary = {}
    for name, rows in results.items():
        good = [r for r in rows if r.get("intact")]
        summary[name] = {
            "rounds": len(rows), "intact": len(good) == len(rows),
            "mib_per_s": round(statistics.median(r["mib_per_s"] for r in good), 2) if good else None,
            "rtt_p50_us": statistics.median(r["rtt_p50_us"] for r in good) if good else None,
            "rtt_p99_us": statistics.median(r["rtt_p99_us"] for r in good) if good else None,
            "rss_kib": statistics.median(r.get("bridge_rss_kib", 0) for r in good) if good else None,
        }
    ours, up, s2 = summary["ours"], summary["upstream"], summary["ser2net"]
    if ours["mib_per_s"] and up["mib_per_s"] and s2["rtt_p50_us"]:
        summary["ratios"] = {
            "throughput_vs_upstream": round(ours["mib_per_s"] / up["mib_per_s"], 2),
            "throughput_vs_ser2net": round(ours["mib_per_s"] / s2["mib_per_s"], 2),
            "rtt_p50_vs_ser2net": round(ours["rtt_p50_us"] / s2["rtt_p50_us"], 2),
        }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
