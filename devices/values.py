"""Shared text helpers for the text-based profiles: decoding and value typing.

The typing rules are the same for every profile that reads untyped text
(keyvalue, csv), so a value means the same thing whichever profile carried it:

* ``true`` / ``false`` (any case) become booleans;
* ASCII decimal integers (``-12``, ``+7``, ``007``) become ints;
* ASCII decimals with optional fraction and exponent (``21.5``, ``.5``,
  ``-1e-3``) become floats;
* ``nan``, ``inf``, ``-inf``, ``infinity`` and values that overflow a float
  become ``None``: readings must serialise as strict JSON, which has no
  non-finite numbers, and a sensor printing ``nan`` means "no value";
* an empty value becomes ``None``;
* anything else stays a string, unchanged apart from surrounding whitespace.

Decoding is strict: invalid bytes for the encoding, or control characters
other than TAB/CR/LF, make the message a ParseError (they are line noise).

Python's own ``int()``/``float()`` are not used to *decide* what is a number
because they accept ``1_000`` and non-ASCII digits, which no sensor means.
"""

from __future__ import annotations

import codecs
import math
import re

from .profile import FieldValue, Option, OptionValue, ParseError

_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# C0 controls other than TAB/LF/CR, and DEL: a sensor never prints them, line
# noise and a wrong baud rate produce them constantly.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NON_FINITE = frozenset({"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})


def _check_encoding(value: OptionValue) -> str | None:
    try:
        codecs.lookup(str(value))
    except LookupError:
        return f"unknown encoding {value!r}"
    return None


ENCODING_OPTION = Option("encoding", "utf-8", "text encoding of the device's messages", _check_encoding)


def decode_text(message: bytes, encoding: str = "utf-8") -> str:
    """Decode strictly: invalid bytes or control characters mean garbage, not text."""
    try:
        text = message.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ParseError(f"invalid {encoding} at byte {exc.start}") from None
    control = _CONTROL.search(text)
    if control is not None:
        raise ParseError(f"control character {ord(control.group()):#04x} at offset {control.start()}")
    return text


def finite(value: float) -> float | None:
    """Map NaN and infinities to None (see the module docstring)."""
    return value if math.isfinite(value) else None


#: What a number (or a signed nan/inf) starts with.
_NUMBER_START = frozenset("0123456789+-.")


def convert_value(text: str) -> FieldValue:
    """Type one untyped text value according to the module's rules."""
    text = text.strip()
    if not text:
        return None
    if text[0] in _NUMBER_START and text.isascii() and "_" not in text:
        # Most values are numbers: let int()/float() decide instead of two
        # regular expressions first (this runs for every field of every
        # reading). Restricted to ASCII without "_", what they accept is
        # exactly _INT and _FLOAT, plus signed nan/inf, which finite() maps
        # to None as the rules say.
        digits = text[1:] if text[0] in "+-" else text
        if digits.isdigit():
            try:
                return int(text)
            except ValueError:
                return finite(float(text))  # more digits than int() converts
        try:
            return finite(float(text))
        except ValueError:
            pass  # "1.2.3", "-", "12:30": text
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if _INT.fullmatch(text):
        try:
            return int(text)
        except ValueError:
            # More digits than int() will convert (sys.int_info limit): no
            # sensor means that, so degrade to float -> inf -> None.
            return finite(float(text))
    if _FLOAT.fullmatch(text):
        return finite(float(text))
    if lowered in _NON_FINITE:
        return None
    return text
