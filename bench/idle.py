#!/usr/bin/env python3
"""What an idle application and idle timers cost. Public circuits API only.

Measures, each in a fresh child process (so one run's threads, timers or
signal handlers can't disturb the next):

  idle         CPU used by a running application that has nothing to do,
               over --seconds (an App in the main thread; a Timer stops it).
  idle_timers  the same with --timers long-interval (1 hour) Timers
               registered: what merely *having* timers costs per second.
  pingpong     events/s of a two-component ping-pong (--events events, or
               as many as fit in --max-seconds),
  pingpong_timers  ... and the same with --timers idle Timers registered.

CPU is user+system time of the process (resource.getrusage), per second of
wall time. Prints one JSON object. Runs under any circuits implementation:

  .venv/bin/python bench/idle.py                          # ours
  cd /tmp && /tmp/upvenv/bin/python /work/main/bench/idle.py   # upstream

Usage: PY idle.py [--seconds S] [--timers N] [--events N] [--max-seconds S] [--only PART]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

PARTS = ("idle", "idle_timers", "pingpong", "pingpong_timers")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_idle(seconds: float, timers: int) -> dict[str, float]:
    from circuits import Component, Event, Timer

    class halt(Event):
        """Stop the application."""

    class tick(Event):
        """Fired by an idle timer (never, within the run)."""

    class App(Component):
        cpu0 = t0 = 0.0

        def started(self, *args):
            # Measure from here: start-up (e.g. 1,000 registered events) is not idling.
            App.cpu0, App.t0 = _cpu(), time.perf_counter()
            Timer(seconds, halt()).register(self)

        def halt(self):
            self.stop()

    app = App()
    for _ in range(timers):
        Timer(3600, tick(), persist=True).register(app)
    try:
        app.run()
    except SystemExit:
        pass
    cpu, wall = _cpu() - App.cpu0, time.perf_counter() - App.t0
    return {"timers": timers, "seconds": round(wall, 3), "cpu_seconds": round(cpu, 4),
            "cpu_percent": round(100 * cpu / wall, 3)}


def measure_pingpong(events: int, timers: int, max_seconds: float) -> dict[str, float]:
    from circuits import Component, Event, Timer

    rounds = events // 2

    class ping(Event):
        """ping"""

    class pong(Event):
        """pong"""

    class tick(Event):
        """Fired by an idle timer (never, within the run)."""

    class A(Component):
        def ping(self, n):
            self.fire(pong(n))

    class B(Component):
        def pong(self, n):
            if n >= rounds or (n % 500 == 0 and time.perf_counter() - App.t0 > max_seconds):
                App.done = 2 * n
                # Not self.stop(): in circuits 3.x that stops B, not the application.
                raise SystemExit(0)
            else:
                self.fire(ping(n + 1))

    class App(Component):
        t0 = 0.0
        done = 0

        def started(self, *args):
            App.t0 = time.perf_counter()
            self.fire(ping(0))

    app = App() + A() + B()
    for _ in range(timers):
        Timer(3600, tick(), persist=True).register(app)
    cpu0 = _cpu()
    try:
        app.run()
    except SystemExit:
        pass
    wall = time.perf_counter() - App.t0
    return {"timers": timers, "events": App.done, "seconds": round(wall, 3),
            "events_per_s": round(App.done / wall), "cpu_seconds": round(_cpu() - cpu0, 3)}


def run_part(part: str, args: argparse.Namespace) -> dict[str, float]:
    if part == "idle":
        return measure_idle(args.seconds, 0)
    if part == "idle_timers":
        return measure_idle(args.seconds, args.timers)
    if part == "pingpong":
        return measure_pingpong(args.events, 0, args.max_seconds)
    return measure_pingpong(args.events, args.timers, args.max_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="idle run length (default 5)")
    parser.add_argument("--timers", type=int, default=1000, help="idle timers (default 1000)")
    parser.add_argument("--events", type=int, default=200_000, help="ping-pong events (default 200000)")
    parser.add_argument("--max-seconds", type=float, default=10.0,
                        help="stop a ping-pong after this long, even if --events are not done (default 10)")
    parser.add_argument("--only", choices=PARTS, help="run one part in this process")
    args = parser.parse_args()
    if args.only:
        print(json.dumps(run_part(args.only, args)))
        return
    import circuits

    result: dict[str, object] = {"circuits": getattr(circuits, "__version__", "?"),
                                 "python": sys.version.split()[0]}
    for part in PARTS:
        cmd = [sys.executable, __file__, "--only", part, "--seconds", str(args.seconds),
               "--timers", str(args.timers), "--events", str(args.events),
               "--max-seconds", str(args.max_seconds)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        result[part] = json.loads(out.strip().splitlines()[-1])
    pp, ppt = result["pingpong"], result["pingpong_timers"]
    result["timers_slowdown"] = round(pp["events_per_s"] / ppt["events_per_s"], 2)  # type: ignore[index]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
