"""csv profile: table-driven rows, with and without configured columns."""

from __future__ import annotations

import pytest

from devices import csvline
from devices.profile import ParseError

parse = csvline.PROFILE.parser({"columns": ["temp", "hum", "status"]})

VALID = [
    (b"21.5,40,ok", {"temp": 21.5, "hum": 40, "status": "ok"}),
    (b"21.5,40,ok\r", {"temp": 21.5, "hum": 40, "status": "ok"}),
    (b"-3.5,1e2,true", {"temp": -3.5, "hum": 100.0, "status": True}),
    (b" 21.5 , 40 , ok ", {"temp": 21.5, "hum": 40, "status": "ok"}),
    (b",,", {"temp": None, "hum": None, "status": None}),
    (b'21,40,"door, open"', {"temp": 21, "hum": 40, "status": "door, open"}),
    (b'21,40,"say ""hi"""', {"temp": 21, "hum": 40, "status": 'say "hi"'}),
    ("21,40,ça va".encode(), {"temp": 21, "hum": 40, "status": "ça va"}),
    (b"nan,inf,x", {"temp": None, "hum": None, "status": "x"}),
]

INVALID = [
    (b"", "empty"),
    (b"\r", "empty"),
    (b"   ", "empty"),
    (b"21.5,40", "expected 3 columns, got 2"),
    (b"21.5,40,ok,extra", "expected 3 columns, got 4"),
    (b"21.5,\xc3\x28,ok", "invalid utf-8"),
    (b'21,40,"open', "bad csv"),
    (b"21,4\n0,ok", "bad csv"),
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


def test_positional_names_without_columns() -> None:
    assert csvline.PROFILE.parser()(b"1,2.5,x") == {"col0": 1, "col1": 2.5, "col2": "x"}


def test_skipped_columns() -> None:
    parse_skip = csvline.PROFILE.parser({"columns": ["_", "temp", ""]})
    assert parse_skip(b"17,21.5,pad") == {"temp": 21.5}


def test_tab_delimiter_keeps_leading_empty_cell() -> None:
    parse_tab = csvline.PROFILE.parser({"columns": ["a", "b"], "delimiter": "\t"})
    assert parse_tab(b"\t5\r") == {"a": None, "b": 5}


@pytest.mark.parametrize(
    "bad",
    [
        {"columns": "temp,hum"},
        {"columns": [1, 2]},
        {"columns": ["a", "a"]},
        {"delimiter": ";;"},
        {"delimiter": "."},
        {"delimiter": "1"},
    ],
)
def test_bad_options(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="csv"):
        csvline.PROFILE.resolve_options(bad)
