#!/usr/bin/env python3
"""How late a short timer fires: the loop's fine waits (select() on the epoll
descriptor for waits under ``circuits.core.loop.FINE_WAIT``) against epoll's
whole-millisecond timeout alone.

A root Manager with one persistent idle socket schedules, one after the
other, N one-shot callbacks at random delays between 0.2 and 5 ms (what
Modbus RTU's 1.75 ms inter-frame gap asks) and records how late each ran
(clock.now() in the callback minus its deadline). Prints a JSON line per
mode: p50/p99/max lateness in microseconds.

Usage: PY bench/timer_precision.py [-n 2000]   (under flock /work/wt/.bench.lock)
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from circuits import Manager  # noqa: E402
from circuits.core import loop as loop_module  # noqa: E402


def lateness(n: int, fine_wait: float) -> dict[str, float]:
    loop_module.FINE_WAIT = fine_wait
    app = Manager()
    loop = app.loop
    a, b = socket.socketpair()  # a descriptor to watch, as any real application has
    loop.add_reader(a, lambda: a.recv(100))
    late: list[float] = []
    rng = random.Random(1)
    try:
        for _ in range(n):
            deadline = loop.clock.now() + rng.uniform(0.0002, 0.005)
            done: list[float] = []
            loop.call_at(deadline, lambda d=deadline, out=done: out.append(loop.clock.now() - d))
            while not done:
                app.tick()
            late.append(done[0] * 1e6)
    finally:
        loop.close()
        a.close()
        b.close()
    late.sort()
    return {"fine_wait_s": fine_wait, "timers": n, "late_p50_us": round(statistics.median(late), 1),
            "late_p99_us": round(late[int(len(late) * 0.99) - 1], 1), "late_max_us": round(late[-1], 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=2000)
    args = parser.parse_args()
    default = loop_module.FINE_WAIT
    for fine_wait in (0.0, default):
        print(json.dumps(lateness(args.n, fine_wait)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
