"""Simulated devices for the demo and the tests.

A :class:`Simulator` is a pure, deterministic message source: it never reads
a clock or sleeps.  Given the same profile, options, framing and seed it
produces the same bytes, so a failing test names a seed that reproduces it.
``interval`` is only a suggestion for whoever drives it on a timer.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from .framing import frame_encoder
from .profile import FramingKind, Profile


class Simulator:
    def __init__(
        self,
        profile: Profile,
        options: Mapping[str, object] | None = None,
        *,
        seed: int = 0,
        framing: FramingKind | None = None,
    ) -> None:
        self.profile = profile
        self.options = profile.resolve_options(options)
        self.framing: FramingKind = framing or profile.framing
        self.interval = profile.interval
        self._encode = frame_encoder(self.framing)
        self._payloads = profile.simulate(random.Random(seed), self.options)
        self.sent = 0

    def next_payload(self) -> bytes:
        """The next message without framing (what the parser receives)."""
        self.sent += 1
        return next(self._payloads)

    def next_message(self) -> bytes:
        """The next message as it appears on the wire (framed)."""
        return self._encode(self.next_payload())

    def take(self, count: int) -> bytes:
        """``count`` framed messages back to back, e.g. one serial read."""
        return b"".join(self.next_message() for _ in range(count))


def make_simulator(
    profile: Profile,
    options: Mapping[str, object] | None = None,
    *,
    seed: int = 0,
    framing: FramingKind | None = None,
) -> Simulator:
    return Simulator(profile, options, seed=seed, framing=framing)
