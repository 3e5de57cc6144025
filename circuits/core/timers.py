"""Timer: fire an event after a delay, or periodically, from the loop's heap."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .components import BaseComponent
from .events import Event
from .loop import TimerHandle
from .manager import Manager


class Timer(BaseComponent):
    """Fire ``event`` on ``channels`` after ``interval`` seconds (or at a datetime).

    With ``persist=True`` the event fires every ``interval`` seconds; each
    deadline is the previous deadline plus the interval, so it never drifts.
    Otherwise the timer unregisters itself after firing. A Timer is only a
    handle on its root loop's timer heap: an idle timer costs nothing per pass.
    """

    def __init__(self, interval: float | datetime, event: Event, *channels: Any, **kwargs: Any) -> None:
        super().__init__(**({"channel": kwargs["channel"]} if "channel" in kwargs else {}))
        self.event = event
        self.channels = channels
        self.persist = bool(kwargs.get("persist", False))
        self.interval = 0.0
        self._handle: TimerHandle | None = None
        self._deadline: float | None = None
        self.reset(interval)

    def _seconds(self, interval: float | datetime) -> float:
        if isinstance(interval, datetime):
            now = datetime.now(interval.tzinfo)
            return max(0.0, (interval - now).total_seconds())
        return float(interval)

    def reset(self, interval: float | datetime | None = None) -> None:
        """Start waiting again from now (with a new interval if given)."""
        if interval is not None:
            self.interval = self._seconds(interval)
        self._schedule(self.loop.clock.now() + self.interval)

    def _schedule(self, deadline: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._deadline = deadline
        self._handle = self.loop.call_at(deadline, self._expire)

    def _expire(self) -> None:
        self._handle = None
        self.fire(self.event, *self.channels)
        if self.persist and self.interval > 0:
            deadline = (self._deadline or 0.0) + self.interval
            now = self.loop.clock.now()
            if deadline <= now:  # we were late by whole intervals: skip them, keep the phase
                missed = int((now - deadline) / self.interval) + 1
                deadline += missed * self.interval
            self._schedule(deadline)
        elif self.persist:
            self._schedule(self.loop.clock.now())
        else:
            self._deadline = None
            self.unregister()

    def cancel(self) -> None:
        """Stop the timer without unregistering it."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._deadline = None

    @property
    def expiry(self) -> float | None:
        """The loop-clock time of the next firing, or None."""
        return self._deadline

    def _root_changed(self, old: Manager, new: Manager) -> None:
        # The deadline keeps its meaning on the new root's clock.
        if self._handle is not None and self._deadline is not None:
            self._handle.cancel()
            old_clock = old._circuits_loop.clock if old._circuits_loop is not None else new.loop.clock
            remaining = self._deadline - old_clock.now()
            self._deadline = new.loop.clock.now() + remaining
            self._handle = new.loop.call_at(self._deadline, self._expire)

    def unregister(self) -> BaseComponent:
        self.cancel()
        return super().unregister()
