"""keyvalue profile: table-driven valid and invalid lines."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import keyvalue
from devices.profile import ParseError

parse = keyvalue.PROFILE.parser()

VALID = [
    (b"temp=21.5 hum=40", {"temp": 21.5, "hum": 40}),
    (b"temp=21.5,hum=40", {"temp": 21.5, "hum": 40}),
    (b"temp=21.5, hum=40", {"temp": 21.5, "hum": 40}),
    (b"temp=21.5;hum=40\t ok=true", {"temp": 21.5, "hum": 40, "ok": True}),
    (b"  temp=21.5   hum=40  \r", {"temp": 21.5, "hum": 40}),
    (b"temp:21.5 hum:40", {"temp": 21.5, "hum": 40}),
    (b"t=12:30:00", {"t": "12:30:00"}),  # key ends at the first assignment char
    (b"temp=-3.5 alt=-12", {"temp": -3.5, "alt": -12}),
    (b"x=1e-3 y=2E+2", {"x": 0.001, "y": 200.0}),
    (b"v=nan w=inf", {"v": None, "w": None}),
    (b"state=open", {"state": "open"}),
    (b"empty=", {"empty": None}),
    (b'name="living room" t=20', {"name": "living room", "t": 20}),
    (b'id="42"', {"id": "42"}),  # quoted: always a string
    (b'msg="say \\"hi\\", ok"', {"msg": 'say "hi", ok'}),
    (b'q=""', {"q": ""}),
    ("temp=21 lieu=café".encode(), {"temp": 21, "lieu": "café"}),
    ("température=21".encode(), {"température": 21}),
    (b"a==b", {"a": "=b"}),
]

INVALID = [
    (b"", "empty"),
    (b"   \r", "empty"),
    (b", ,", "empty"),
    (b"temp", "expected key"),
    (b"temp=21 junk", "expected key"),
    (b"=21", "empty key"),
    (b"temp=21 temp=22", "duplicate key"),
    (b"temp=21 \xff=1", "invalid utf-8"),
    (b'name="open', "unterminated"),
    (b'name="a"b', "malformed quoted"),
    (b'name=a"b"', "stray quote"),
    (b'"k"=1', "expected key"),
]


@pytest.mark.parametrize(("line", "expected"), VALID)
def test_valid(line: bytes, expected: dict[str, object]) -> None:
    fields = parse(line)
    assert fields == expected
    assert [type(v) for v in fields.values()] == [type(v) for v in expected.values()]


@pytest.mark.parametrize(("line", "message"), INVALID)
def test_invalid(line: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(line)


def test_custom_separators() -> None:
    parse_pipe = keyvalue.PROFILE.parser({"separators": "|", "assignment": "="})
    assert parse_pipe(b"a=1|b=two words|c=") == {"a": 1, "b": "two words", "c": None}
    with pytest.raises(ParseError):
        parse_pipe(b"a:1")


@pytest.mark.parametrize("bad", [{"separators": ""}, {"assignment": '"'}, {"encoding": "nope"}, {"sep": " "}])
def test_bad_options_fail_at_configuration(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="keyvalue"):
        keyvalue.PROFILE.resolve_options(bad)


# -- the unquoted fast path gives what the general tokenizer gives ------------

UNQUOTED = st.lists(st.sampled_from(list("=:,; \tab1.-+e9xé")), max_size=40).map("".join)


def _outcome(parse_with: Any, text: str, separators: str, assignment: str) -> object:
    try:
        return parse_with(text, separators, assignment)
    except ParseError as exc:
        return ("error", str(exc))


@settings(max_examples=500, deadline=None)
@given(text=UNQUOTED, separators=st.sampled_from([" ,;\t", ",", "; "]), assignment=st.sampled_from(["=:", ":", "="]))
def test_unquoted_fast_path_matches_general(text: str, separators: str, assignment: str) -> None:
    text = text.strip()
    fast = _outcome(keyvalue._parse_unquoted, text, separators, assignment)
    general = _outcome(keyvalue._parse_general, text, separators, assignment)
    assert fast == general
    if isinstance(fast, dict):
        assert [type(v) for v in fast.values()] == [type(v) for v in general.values()]  # type: ignore[union-attr]
