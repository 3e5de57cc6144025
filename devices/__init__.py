"""Device profiles: how a kind of serial device is framed and parsed.

Everything here is pure (bytes in, fields out) and imports only
``circuits.protocols``; the gateway owns ports, clocks and logging.

Typical use by the gateway::

    profile = get_profile(cfg.profile)
    parse = profile.parser(cfg.options)          # validates options now
    framer = make_framer(cfg.framing or profile.framing, cfg.max_length)
    stats = ParseStats(quiet_period=10.0)
    messages, dropped = framer.feed(chunk)      # what was dropped comes back too
    for message in messages:
        try:
            fields = parse(message)
        except ParseError as exc:
            if stats.record_failure(time.monotonic()):
                log.warning("%s: unparsable message: %s", name, exc)
            continue
        stats.record_success()
        publish(make_reading(name, seq, time.time(), fields))

``Simulator`` and ``make_simulator`` are imported from devices.simulator
when first used (PEP 562): a gateway never simulates, and the simulators'
random module costs it ~0.3 MB of memory (issue 15).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .framing import Dropped, Framed, Framer, FramingStats, frame_encoder, make_framer
from .parse_stats import ParseStats
from .profile import (
    FRAMING_KINDS,
    Fields,
    FieldValue,
    FramingKind,
    Option,
    OptionValue,
    ParseError,
    Profile,
    ProfileOptions,
)
from .reading import Reading, make_reading, reading_bytes, reading_text
from .registry import PROFILES, UnknownProfileError, get_profile

if TYPE_CHECKING:
    from .simulator import Simulator, make_simulator

__all__ = [
    "FRAMING_KINDS",
    "Dropped",
    "FieldValue",
    "Fields",
    "Framed",
    "Framer",
    "FramingKind",
    "FramingStats",
    "Option",
    "OptionValue",
    "PROFILES",
    "ParseError",
    "ParseStats",
    "Profile",
    "ProfileOptions",
    "Reading",
    "Simulator",
    "UnknownProfileError",
    "frame_encoder",
    "get_profile",
    "make_framer",
    "make_reading",
    "reading_bytes",
    "reading_text",
    "make_simulator",
]


def __getattr__(name: str) -> Any:
    if name in ("Simulator", "make_simulator"):
        value = getattr(import_module(".simulator", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
