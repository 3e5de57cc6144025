"""The benchmarks behind ``python -m circuits.bench`` (see the package doc).

speed:   a handler fires the next event as soon as it gets one
         (``-c`` events in flight); result: events dispatched per second.
latency: each event carries the time it was fired; its handler measures
         how long it took to arrive, then fires the next; result: mean,
         min and max of that delay.

A run ends after ``-e`` events or ``-t`` seconds, whichever comes first
(default: 1 second).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from ..core import BaseComponent, Debugger, Event, Manager, handler

DEFAULT_SECONDS = 1.0
#: The clock is read once per this many events in speed mode (cheaper than every time).
CHECK_EVERY = 256


class hello(Event):
    """speed mode's event."""


class ping(Event):
    """latency mode's event: (sent_at,)."""


@dataclass
class BenchResult:
    mode: str
    events: int
    seconds: float
    latency_mean: float = 0.0
    latency_min: float = 0.0
    latency_max: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        if self.mode == "speed":
            return f"Total Events: {self.events} ({self.rate:.0f}/s after {self.seconds:.2f}s)"
        return (f"Latency: {self.latency_mean * 1e6:.2f} us (min {self.latency_min * 1e6:.2f} us, "
                f"max {self.latency_max * 1e6:.2f} us) over {self.events} events in {self.seconds:.2f}s")


class _Limits:
    def __init__(self, events: int | None, seconds: float | None) -> None:
        if events is None and seconds is None:
            seconds = DEFAULT_SECONDS
        self.events = events
        self.seconds = seconds


class _Bench(BaseComponent):
    """What both modes share: the limits, the clock, the count."""

    channel = "bench"

    def __init__(self, limits: _Limits) -> None:
        super().__init__(channel=self.channel)
        self.limits = limits
        self.count = 0
        self.started_at = 0.0
        self.deadline = float("inf")
        self.elapsed = 0.0
        self.done = False

    def _start(self) -> None:
        self.started_at = time.perf_counter()
        if self.limits.seconds is not None:
            self.deadline = self.started_at + self.limits.seconds

    def finish(self, now: float | None = None) -> None:
        self.done = True
        self.elapsed = (time.perf_counter() if now is None else now) - self.started_at
        self.stop()


class Speed(_Bench):
    def __init__(self, limits: _Limits, concurrency: int = 1) -> None:
        super().__init__(limits)
        self.concurrency = max(1, concurrency)

    @handler("started", channel="*")
    def _on_started(self, manager: Any) -> None:
        self._start()
        for _ in range(self.concurrency):
            self.fire(hello())

    @handler("hello")
    def _on_hello(self) -> None:
        if self.done:
            return
        self.count += 1
        count = self.count
        limit = self.limits.events
        if (limit is not None and count >= limit) or (
                count % CHECK_EVERY == 0 and time.perf_counter() >= self.deadline):
            self.finish()
            return
        self.fire(hello())


class Latency(_Bench):
    def __init__(self, limits: _Limits) -> None:
        super().__init__(limits)
        self.total = 0.0
        self.min = float("inf")
        self.max = 0.0

    @handler("started", channel="*")
    def _on_started(self, manager: Any) -> None:
        self._start()
        self.fire(ping(time.perf_counter()))

    @handler("ping")
    def _on_ping(self, sent_at: float) -> None:
        now = time.perf_counter()
        delay = now - sent_at
        self.count += 1
        self.total += delay
        self.min = min(self.min, delay)
        self.max = max(self.max, delay)
        limit = self.limits.events
        if (limit is not None and self.count >= limit) or now >= self.deadline:
            self.finish(now)
            return
        self.fire(ping(time.perf_counter()))


def _run(app: Manager, profile: bool, out: TextIO) -> None:
    if not profile:
        app.run()
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        app.run()
    finally:
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(20)
        out.write(text.getvalue())


def run_speed(events: int | None = None, seconds: float | None = None, concurrency: int = 1,
              profile: bool = False, debug: bool = False, out: TextIO = sys.stdout) -> BenchResult:
    app = Manager()
    bench = Speed(_Limits(events, seconds), concurrency).register(app)
    if debug:
        Debugger().register(app)
    _run(app, profile, out)
    return BenchResult("speed", bench.count, bench.elapsed)


def run_latency(events: int | None = None, seconds: float | None = None, profile: bool = False,
                debug: bool = False, out: TextIO = sys.stdout) -> BenchResult:
    app = Manager()
    bench = Latency(_Limits(events, seconds)).register(app)
    if debug:
        Debugger().register(app)
    _run(app, profile, out)
    mean = bench.total / bench.count if bench.count else 0.0
    return BenchResult("latency", bench.count, bench.elapsed, mean,
                       bench.min if bench.count else 0.0, bench.max)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m circuits.bench",
                                     description="Measure the circuits event loop.")
    parser.add_argument("-m", "--mode", choices=("speed", "latency"), default="speed",
                        help="speed: events per second; latency: time from fire to handler")
    parser.add_argument("-t", "--time", type=float, default=None, metavar="SECONDS",
                        help=f"run this long (default {DEFAULT_SECONDS:g}s unless -e is given)")
    parser.add_argument("-e", "--events", type=int, default=None, metavar="N", help="stop after N events")
    parser.add_argument("-c", "--concurrency", type=int, default=1, metavar="N",
                        help="speed mode: events in flight at once (default 1)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the result line")
    parser.add_argument("-p", "--profile", action="store_true", help="profile the run (cProfile, top 20)")
    parser.add_argument("-d", "--debug", action="store_true", help="print every event (slow!)")
    args = parser.parse_args(argv)
    if args.events is not None and args.events < 1:
        parser.error("-e must be at least 1")
    if args.time is not None and args.time <= 0:
        parser.error("-t must be positive")
    return args


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parse_args(argv)
    if not args.quiet:
        out.write(f"Setting up {args.mode.capitalize()} Test...\n")
        limits = []
        if args.events is not None:
            limits.append(f"{args.events} events")
        if args.time is not None or args.events is None:
            limits.append(f"{args.time if args.time is not None else DEFAULT_SECONDS:g}s")
        out.write(f"Running for {' or '.join(limits)}...\n")
        out.flush()
    if args.mode == "speed":
        result = run_speed(args.events, args.time, args.concurrency, args.profile, args.debug, out)
    else:
        result = run_latency(args.events, args.time, args.profile, args.debug, out)
    out.write(result.summary() + "\n")
    out.flush()
    return 0
