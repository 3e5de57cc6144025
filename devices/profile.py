"""What a device profile is: data plus a pure parser.

A profile describes one *kind* of device (not one port): how its byte stream
is framed by default, how one framed message becomes a ``fields`` dict, which
options a configuration may set, and how to simulate it.  Adding a device kind
means adding one module that builds a :class:`Profile` and listing it in
:mod:`devices.registry`; nothing here changes.

Parsers are pure functions ``(message, options) -> fields``.  The only
exception they may raise is :class:`ParseError` — the gateway counts those and
carries on, so any other exception escaping a parser is a bug (the tests fuzz
every parser with arbitrary bytes to hold that line).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import random  # only in the type of a simulator function; random costs ~0.3 MB at run time

#: A single reading value.  Floats are always finite: NaN and infinities are
#: mapped to ``None`` so every reading can be serialised as strict JSON.
FieldValue = float | int | str | bool | None
Fields = dict[str, FieldValue]

#: An option value as it may come from a TOML/JSON configuration.  Lists are
#: normalised to tuples so resolved options are immutable and hashable.
OptionValue = str | int | float | bool | tuple[str, ...]
ProfileOptions = Mapping[str, OptionValue]

FramingKind = Literal["line", "raw", "slip"]
FRAMING_KINDS: tuple[FramingKind, ...] = ("line", "raw", "slip")

ParseFn = Callable[[bytes, ProfileOptions], Fields]
#: Yields unframed payloads forever; all randomness comes from the given Random
#: so a seed reproduces the exact stream.
SimulateFn = Callable[["random.Random", ProfileOptions], Iterator[bytes]]
#: Returns an error message for a bad value, or None when the value is fine.
CheckFn = Callable[[OptionValue], str | None]


class ParseError(ValueError):
    """A framed message is not a valid message for this profile."""


@dataclass(frozen=True, slots=True)
class Option:
    """One configurable profile option; its default also fixes its type."""

    name: str
    default: OptionValue
    help: str
    check: CheckFn | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """A device kind.  Instances are immutable module-level constants."""

    name: str
    description: str
    parse: ParseFn
    simulate: SimulateFn
    framing: FramingKind = "line"
    options: tuple[Option, ...] = ()
    #: Seconds between simulated messages; the demo and the gateway's
    #: simulated ports use it, tests ignore it.
    interval: float = 1.0
    #: A typical serial speed for this kind of device (NMEA 0183 is 4800).
    baudrate: int = 9600
    #: True when the gateway should forward bytes without making readings.
    bridge_only: bool = False
    _by_name: dict[str, Option] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.framing not in FRAMING_KINDS:
            raise ValueError(f"profile {self.name!r}: unknown framing {self.framing!r}")
        # frozen dataclass: object.__setattr__ is the documented way to fill a
        # derived field once at construction.
        object.__setattr__(self, "_by_name", {o.name: o for o in self.options})

    def defaults(self) -> dict[str, OptionValue]:
        return {o.name: o.default for o in self.options}

    def resolve_options(self, overrides: Mapping[str, object] | None = None) -> dict[str, OptionValue]:
        """Merge configuration ``overrides`` into the defaults, validating them.

        Raises ValueError naming the profile and option, so a bad configuration
        fails at start-up rather than on the first message.
        """
        resolved = self.defaults()
        for key, value in (overrides or {}).items():
            option = self._by_name.get(key)
            if option is None:
                valid = ", ".join(sorted(self._by_name)) or "(none)"
                raise ValueError(f"profile {self.name!r} has no option {key!r}; valid options: {valid}")
            resolved[key] = _coerce(self.name, option, value)
        return resolved

    def parser(self, overrides: Mapping[str, object] | None = None) -> Callable[[bytes], Fields]:
        """Validate options once and return ``message -> fields``."""
        options = self.resolve_options(overrides)
        parse = self.parse

        def parse_message(message: bytes) -> Fields:
            return parse(message, options)

        return parse_message


def _coerce(profile: str, option: Option, value: object) -> OptionValue:
    where = f"profile {profile!r} option {option.name!r}"
    default = option.default
    coerced: OptionValue
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{where} must be a list of strings, not {value!r}")
        coerced = tuple(value)
    elif isinstance(default, bool):
        # bool first: bool is an int subclass, and 1 must not pass as True.
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false, not {value!r}")
        coerced = value
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where} must be an integer, not {value!r}")
        coerced = value
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where} must be a number, not {value!r}")
        coerced = float(value)
    else:
        if not isinstance(value, str):
            raise ValueError(f"{where} must be a string, not {value!r}")
        coerced = value
    if option.check is not None:
        problem = option.check(coerced)
        if problem:
            raise ValueError(f"{where}: {problem}")
    return coerced
