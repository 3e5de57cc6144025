"""The value typing rules shared by the text profiles."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.profile import ParseError
from devices.values import convert_value, decode_text

CASES = [
    ("21", 21),
    ("-12", -12),
    ("+7", 7),
    ("007", 7),
    ("-0", 0),
    ("21.5", 21.5),
    ("-0.25", -0.25),
    (".5", 0.5),
    ("5.", 5.0),
    ("1e3", 1000.0),
    ("-1.5E-3", -0.0015),
    ("  42  ", 42),
    ("true", True),
    ("FALSE", False),
    ("True", True),
    ("", None),
    ("   ", None),
    ("nan", None),
    ("NaN", None),
    ("inf", None),
    ("-Infinity", None),
    ("1e999", None),  # overflows to inf: not JSON-safe
    ("1" * 5000, None),  # beyond int()'s digit limit: degrades to float inf
    ("1_000", "1_000"),  # Python syntax, not a sensor number
    ("١٢", "١٢"),  # non-ASCII digits stay text
    ("0x1F", "0x1F"),
    ("21.5C", "21.5C"),
    ("1.2.3", "1.2.3"),
    ("e5", "e5"),
    ("-", "-"),
    ("yes", "yes"),
    ("héllo wörld", "héllo wörld"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_convert_value(text: str, expected: object) -> None:
    value = convert_value(text)
    assert value == expected
    assert type(value) is type(expected)


def test_decode_text_invalid_utf8_is_parse_error() -> None:
    with pytest.raises(ParseError, match="invalid utf-8 at byte 2"):
        decode_text(b"ab\xff")


def test_decode_text_other_encoding() -> None:
    assert decode_text(b"\xe9", "latin-1") == "é"


@pytest.mark.parametrize("data", [b"a\x00b", b"k=\x1b[0m", b"\x7f", b"a\x0cb"])
def test_decode_text_rejects_control_characters(data: bytes) -> None:
    with pytest.raises(ParseError, match="control character"):
        decode_text(data)


def test_decode_text_allows_tab_and_line_ends() -> None:
    assert decode_text(b"a\tb\r\n") == "a\tb\r\n"


def _by_the_rules(text: str) -> object:
    """The module doc's rules, spelled out with regular expressions (the
    reference the int()/float() shortcut in convert_value must agree with)."""
    text = text.strip()
    if not text:
        return None
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if re.fullmatch(r"[+-]?[0-9]+", text):
        try:
            return int(text)
        except ValueError:
            return None  # beyond int()'s digit limit: inf
    if re.fullmatch(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", text):
        value = float(text)
        return value if math.isfinite(value) else None
    if lowered in ("nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"):
        return None
    return text


@settings(max_examples=2000, deadline=None)
@given(text=st.one_of(st.text(alphabet="0123456789+-.eE_ xinfatyINFATY\u0663", max_size=12), st.text(max_size=8)))
def test_convert_value_follows_the_rules(text: str) -> None:
    value, expected = convert_value(text), _by_the_rules(text)
    assert value == expected and type(value) is type(expected)
