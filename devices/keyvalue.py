"""The ``keyvalue`` profile: ``temp=21.5 hum=40`` style sensor lines.

Pairs are separated by runs of any of the ``separators`` characters (space,
comma, semicolon, tab by default), so ``temp=21.5 hum=40``, ``temp=21.5,hum=40``
and ``temp=21.5, hum=40`` all read the same.  A key ends at the first
``assignment`` character (``=`` or ``:`` by default), so ``t=12:30`` is key
``t`` with value ``12:30``.  A value may be double-quoted to carry separators
(``name="living room"``); a quoted value is always a string.  Unquoted values
are typed by :func:`devices.values.convert_value`.

Decisions: a token without an assignment is an error (the line is not what we
think it is); a duplicate key is an error (which one would be the reading?).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .profile import Fields, FieldValue, Option, OptionValue, ParseError, Profile, ProfileOptions
from .values import ENCODING_OPTION, convert_value, decode_text

if TYPE_CHECKING:
    import random  # simulate() takes a Random: only simulators (demo, tests) make one

_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_QUOTED_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _check_charset(value: OptionValue) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be a non-empty string of characters"
    if '"' in value or "\\" in value:
        return "may not contain quote or backslash"
    return None


OPTIONS = (
    ENCODING_OPTION,
    Option("separators", " ,;\t", "characters that separate pairs (runs count as one)", _check_charset),
    Option("assignment", "=:", "characters that separate a key from its value", _check_charset),
)


def _split_tokens(text: str, separators: str) -> list[str]:
    """Split on separator runs, keeping double-quoted stretches intact."""
    tokens: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in text:
        if quoted:
            current.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char in separators:
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(char)
            quoted = char == '"'  # opening quote: separators inside are data
    if quoted:
        raise ParseError("unterminated quoted value")
    if current:
        tokens.append("".join(current))
    return tokens


def _split_pair(token: str, assignment: str) -> tuple[str, str]:
    for index, char in enumerate(token):
        if char in assignment:
            key, value = token[:index].strip(), token[index + 1 :]
            if not key:
                raise ParseError(f"empty key in {token!r}")
            return key, value
        if char == '"':
            break  # a quote before any assignment: keys are never quoted
    raise ParseError(f"expected key{assignment[0]}value, got {token!r}")


def _value(raw: str) -> FieldValue:
    if raw.startswith('"'):
        match = _QUOTED.fullmatch(raw)
        if match is None:
            raise ParseError(f"malformed quoted value {raw!r}")
        return _QUOTED_ESCAPE.sub(r"\1", match.group(1))
    if '"' in raw:
        raise ParseError(f"stray quote in value {raw!r}")
    return convert_value(raw)


def parse(message: bytes, options: ProfileOptions) -> Fields:
    text = decode_text(message, str(options["encoding"])).strip()
    separators, assignment = str(options["separators"]), str(options["assignment"])
    if '"' not in text:
        return _parse_unquoted(text, separators, assignment)
    return _parse_general(text, separators, assignment)


def _parse_general(text: str, separators: str, assignment: str) -> Fields:
    tokens = _split_tokens(text, separators)
    if not tokens:
        raise ParseError("empty message")
    fields: Fields = {}
    for token in tokens:
        key, raw = _split_pair(token, assignment)
        if key in fields:
            raise ParseError(f"duplicate key {key!r}")
        fields[key] = _value(raw)
    return fields


def _parse_unquoted(text: str, separators: str, assignment: str) -> Fields:
    """:func:`parse` for a line without quotes (nearly every line a sensor
    sends), the same result with str methods instead of a loop per
    character: it runs for every reading."""
    first = separators[0]
    for other in separators[1:]:
        if other in text:  # usually not: a sensor uses one separator
            text = text.replace(other, first)
    tokens = [token for token in text.split(first) if token]
    if not tokens:
        raise ParseError("empty message")
    fields: Fields = {}
    for token in tokens:
        index = -1
        for char in assignment:  # the first assignment character ends the key
            found = token.find(char)
            if found >= 0 and (index < 0 or found < index):
                index = found
        if index < 0:
            raise ParseError(f"expected key{assignment[0]}value, got {token!r}")
        key = token[:index].strip()
        if not key:
            raise ParseError(f"empty key in {token!r}")
        if key in fields:
            raise ParseError(f"duplicate key {key!r}")
        fields[key] = convert_value(token[index + 1:])
    return fields


def simulate(rng: random.Random, options: ProfileOptions) -> Iterator[bytes]:
    """An indoor climate sensor: temperature and humidity drifting slowly."""
    sep = str(options["separators"])[0]
    eq = str(options["assignment"])[0]
    encoding = str(options["encoding"])
    temp = rng.uniform(18.0, 24.0)
    hum = rng.uniform(35.0, 55.0)
    pressure = rng.uniform(1000.0, 1025.0)
    battery = rng.randint(60, 100)
    while True:
        # Mean-reverting random walk: drifts like a room, never runs away.
        temp += rng.gauss(0.0, 0.05) + (21.0 - temp) * 0.01
        hum = min(100.0, max(0.0, hum + rng.gauss(0.0, 0.2) + (45.0 - hum) * 0.01))
        pressure += rng.gauss(0.0, 0.05)
        if rng.random() < 0.01:
            battery = max(0, battery - 1)
        pairs = [
            ("temp", f"{temp:.2f}"),
            ("hum", f"{hum:.1f}"),
            ("pressure", f"{pressure:.1f}"),
            ("battery", str(battery)),
            ("ok", "true" if battery > 10 else "false"),
        ]
        yield sep.join(f"{k}{eq}{v}" for k, v in pairs).encode(encoding)


PROFILE = Profile(
    name="keyvalue",
    description="key=value pairs separated by spaces or commas, one message per line",
    parse=parse,
    simulate=simulate,
    framing="line",
    options=OPTIONS,
    interval=1.0,
)
