"""Parse-failure accounting: "counted and logged once per burst, never fatal".

A flaky serial line can produce thousands of bad messages a minute; logging
each would bury everything else, logging none would hide the fault.  So every
failure is counted, and :meth:`ParseStats.record_failure` answers True only
for the first failure of a *burst*.  A burst ends once ``quiet_period``
seconds pass without a failure; the next failure starts a new one (and is
logged again).

Time is passed in (a monotonic clock reading), never read here, so tests can
drive it and the class stays pure.
"""

from __future__ import annotations


class ParseStats:
    def __init__(self, quiet_period: float = 10.0) -> None:
        if quiet_period < 0:
            raise ValueError("quiet_period must be >= 0")
        self.quiet_period = quiet_period
        self.successes = 0
        self.failures = 0
        self.bursts = 0
        #: failures in the current (or most recent) burst, the logged one included
        self.burst_failures = 0
        #: failures of the burst before the current one; handy for a log
        #: line such as "bad line (previous burst: 12 failures)"
        self.previous_burst_failures = 0
        self._last_failure: float | None = None

    def record_success(self) -> None:
        self.successes += 1

    def record_failure(self, now: float) -> bool:
        """Count a failure at monotonic time ``now``; True when it should be logged."""
        self.failures += 1
        last = self._last_failure
        self._last_failure = now
        if last is not None and now - last < self.quiet_period:
            self.burst_failures += 1
            return False
        self.bursts += 1
        self.previous_burst_failures = self.burst_failures
        self.burst_failures = 1
        return True

    def in_burst(self, now: float) -> bool:
        last = self._last_failure
        return last is not None and now - last < self.quiet_period

    def statistics(self) -> dict[str, int]:
        return {
            "successes": self.successes,
            "failures": self.failures,
            "bursts": self.bursts,
            "burst_failures": self.burst_failures,
        }
