#!/usr/bin/env python3
"""Core dispatch benchmark, public circuits API only: runs on any implementation.

Two components ping-pong events; a third has a handler on every event on the
'*' channel (like circuits.bench's Monitor). Prints events/s as JSON.
Same program as /work/shared/bench/core_events.py (only reformatted).

Usage: PY core_events.py [N]   (N round trips, default 300000; see bench/README.md)
"""

import json
import sys
import time

from circuits import Component, Event, handler

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300000


class ping(Event):
    pass


class pong(Event):
    pass


class Monitor(Component):
    count = 0

    @handler(channel="*", priority=100)
    def _on_any(self, event, *args, **kwargs):
        Monitor.count += 1


class A(Component):
    def ping(self, n):
        self.fire(pong(n))


class B(Component):
    def pong(self, n):
        if n >= N:
            raise SystemExit(0)
        self.fire(ping(n + 1))


class App(Component):
    def started(self, *args):
        App.t0 = time.perf_counter()
        self.fire(ping(0))


app = App() + A() + B() + Monitor()
try:
    app.run()
except SystemExit:
    pass
dt = time.perf_counter() - App.t0
events = 2 * N
print(json.dumps({"events": events, "seconds": round(dt, 3), "events_per_s": round(events / dt),
                  "monitor_seen": Monitor.count}))
