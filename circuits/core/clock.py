"""Clocks for the loop. Monotonic by default; tests inject a FakeClock."""

from __future__ import annotations

import time


class MonotonicClock:
    """Real time, from time.monotonic() (never jumps with the wall clock)."""

    now = staticmethod(time.monotonic)
    #: The loop may block in the poller for real time with this clock.
    real = True


class FakeClock:
    """A clock that only moves when told to, so timer tests never sleep."""

    real = False

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
