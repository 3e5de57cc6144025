"""Bytes from a device -> readings: framing, parsing, sequence numbers, and
the bookkeeping of what could not be parsed.

No I/O and no events here: :class:`gateway.device.DeviceLink` feeds what the
port delivers and fires the readings this returns.  A message that fails to
parse (or is dropped by the framer, like a 100 KB "line") is counted and
logged once per burst (:class:`devices.ParseStats`); it never stops the
readings that follow. The framer says what it dropped in the result of the
``feed`` that dropped it (:class:`devices.Dropped`: why and how big), so a
drop is logged with its own reason and size.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from devices import (
    Dropped,
    ParseError,
    ParseStats,
    Reading,
    get_profile,
    make_framer,
    make_reading,
    reading_text,
)

from .config import DeviceConfig

log = logging.getLogger(__name__)

#: How much of a bad message goes into the log line.
EXCERPT = 80
#: Parse failures kept for the device page, and bytes kept of each message.
ERROR_LOG = 20
ERROR_BYTES = 256


def check_profile(profile: str, options: Mapping[str, object]) -> None:
    """For :func:`gateway.config.load_config`: reject unknown profiles/options."""
    get_profile(profile).resolve_options(options)


class ReadingMaker:
    """Turns one device's byte stream into readings (see module doc)."""

    def __init__(self, device: DeviceConfig, next_seq: Callable[[str], int], *,
                 wall_clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic,
                 quiet_period: float = 10.0) -> None:
        self.name = device.name
        profile = get_profile(device.profile)
        #: raw devices are bridged byte for byte and make no readings.
        self.bridge_only = profile.bridge_only
        self._parse = profile.parser(device.profile_options)
        self._framing = device.framing
        self._max_line = device.max_line
        self._framer = make_framer(self._framing, self._max_line)
        self._next_seq = next_seq
        self._wall_clock = wall_clock
        self._monotonic = monotonic
        self.stats = ParseStats(quiet_period)
        self.dropped = 0  # messages the framer discarded (too long, malformed)
        #: The last failures, newest last: (wall time, why, the message's first bytes).
        self.errors: deque[tuple[float, str, bytes]] = deque(maxlen=ERROR_LOG)

    def feed(self, data: bytes) -> list[Reading]:
        """The readings completed by ``data`` (possibly none)."""
        if self.bridge_only:
            return []
        messages, dropped = self._framer.feed(data)
        if dropped:
            self._dropped(dropped)
        if not messages:
            return []
        # One timestamp per chunk: the messages arrived together.
        ts = self._wall_clock()
        readings = []
        for message in messages:
            try:
                fields = self._parse(message)
            except ParseError as exc:
                self.errors.append((ts, str(exc), bytes(message[:ERROR_BYTES])))
                self._failure(f"cannot parse {_excerpt(message)}: {exc}")
                continue
            self.stats.record_success()
            readings.append(make_reading(self.name, self._next_seq(self.name), ts, fields))
        return readings

    def reset(self) -> None:
        """The port was reopened: a message cut by the outage must not be
        glued to the first bytes after it."""
        self._framer = make_framer(self._framing, self._max_line)

    def _dropped(self, dropped: tuple[Dropped, ...]) -> None:
        ts = self._wall_clock()
        for drop in dropped:
            self.dropped += 1
            why = drop.describe(self._max_line)
            self.errors.append((ts, why, b""))
            self._failure(why)

    def _failure(self, what: str) -> None:
        if self.stats.record_failure(self._monotonic()):
            previous = self.stats.previous_burst_failures
            before = f" (previous burst: {previous} failures)" if previous else ""
            log.warning("%s: %s%s; further failures in this burst are only counted",
                        self.name, what, before)

    def statistics(self) -> dict[str, int]:
        return self.stats.statistics() | {"framer_dropped": self.dropped}


def _excerpt(message: bytes) -> str:
    if len(message) <= EXCERPT:
        return repr(message)
    return f"{message[:EXCERPT]!r}... ({len(message)} bytes)"


def reading_json(reading: Mapping[str, Any]) -> str:
    """A reading as compact JSON: the text it carries (see :mod:`devices.reading`)."""
    return reading_text(reading)
