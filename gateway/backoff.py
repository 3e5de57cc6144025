"""Exponential backoff for reopening a device that is not there.

Retrying is the last resort (udev and inotify usually say when a port comes
back), so the delays grow quickly to ``maximum``: a missing device costs a
path lookup every half minute, never a busy loop.  Pure: no clock, no sleep.
"""

from __future__ import annotations


class Backoff:
    def __init__(self, initial: float = 0.5, maximum: float = 30.0, factor: float = 2.0) -> None:
        if not 0 < initial <= maximum or factor < 1:
            raise ValueError("need 0 < initial <= maximum and factor >= 1")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.attempts = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one attempt."""
        delay = min(self.maximum, self.initial * self.factor ** self.attempts)
        self.attempts += 1
        return delay

    def reset(self) -> None:
        """The device came back: the next outage starts with short delays again."""
        self.attempts = 0
