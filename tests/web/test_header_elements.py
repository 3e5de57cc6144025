"""Header parameters split in one pass (issue 12, item 3): tables and a property against a reference."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.web.headers import HeaderElement, header_elements, split_unquoted


def reference_split(text: str, sep: str) -> list[str]:
    """One character at a time: obviously linear, obviously right (RFC 9110 section 5.6.4)."""
    parts, current, quoted, escaped = [], [], False, False
    for c in text:
        if escaped:
            escaped = False
        elif quoted and c == "\\":
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif c == sep and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(c)
    parts.append("".join(current))
    return parts


@pytest.mark.parametrize(("text", "sep", "parts"), [
    ("", ",", [""]),
    ("a,b", ",", ["a", "b"]),
    ('a,"b,c",d', ",", ["a", '"b,c"', "d"]),
    ('x;"q\\";y";z', ";", ["x", '"q\\";y"', "z"]),  # a quoted-pair does not end the string
    ('"abc,d', ",", ['"abc,d']),  # never closed: to the end
    ('a;b="1;2";c=3', ";", ["a", 'b="1;2"', "c=3"]),
    ('a\\,b', ",", ["a\\", "b"]),  # a backslash outside quotes is an ordinary character
])
def test_split_unquoted(text, sep, parts):
    assert split_unquoted(text, sep) == parts == reference_split(text, sep)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='ab;,"\\ =', max_size=60), st.sampled_from([",", ";"]))
def test_split_unquoted_matches_the_reference(text, sep):
    assert split_unquoted(text, sep) == reference_split(text, sep)


def test_parameters_with_separators_inside_quotes():
    assert HeaderElement.parse('form-data; name="a;b"; filename="x,y.txt"') == (
        "form-data", {"name": "a;b", "filename": "x,y.txt"})
    assert [str(e) for e in header_elements("Accept", 'text/html;q=0.5, text/plain;x="1,2"')] == [
        'text/plain;x=1,2', "text/html;q=0.5"]


def test_a_value_of_many_quotes_and_separators_parses_to_the_reference():
    # The shape that made the old look-ahead regex quadratic; here only the
    # result is checked (its cost is linear by construction: one scan).
    value = "a;" + '";' * 20000 + "b=1"
    assert split_unquoted(value, ";") == reference_split(value, ";")
