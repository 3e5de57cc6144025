"""The ``raw`` profile: bytes are bridged, not parsed.

The gateway forwards each chunk from the port unchanged (``bridge_only``), so
any byte protocol can be carried to TCP/UDP/WebSocket clients.  ``parse`` still
exists so a raw device can be treated like every other one (a dashboard row, a
counter): it never fails and reports the chunk's size and its bytes in hex,
which is lossless and JSON-safe.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .profile import Fields, Profile, ProfileOptions

if TYPE_CHECKING:
    import random  # simulate() takes a Random: only simulators (demo, tests) make one


def parse(message: bytes, options: ProfileOptions) -> Fields:
    return {"length": len(message), "hex": message.hex()}


def simulate(rng: random.Random, options: ProfileOptions) -> Iterator[bytes]:
    """A binary telemetry device: a type byte, a counter and a payload."""
    counter = rng.randrange(256)
    while True:
        counter = (counter + 1) % 256
        payload = rng.randbytes(rng.randint(1, 32))
        yield bytes([0xA5, counter, len(payload)]) + payload


PROFILE = Profile(
    name="raw",
    description="no parsing: chunks are bridged to clients as they arrive",
    parse=parse,
    simulate=simulate,
    framing="raw",
    interval=1.0,
    bridge_only=True,
)
