"""json profile: one object per line, flattened."""

from __future__ import annotations

import pytest

from devices import jsonl
from devices.profile import ParseError

parse = jsonl.PROFILE.parser()

VALID = [
    (b'{"temp": 21.5, "hum": 40}', {"temp": 21.5, "hum": 40}),
    (b' {"temp":-1e-2}\r', {"temp": -0.01}),
    (b'{"ok": true, "err": null, "id": "42"}', {"ok": True, "err": None, "id": "42"}),
    (b'{"env": {"t": 1, "h": {"rel": 2}}}', {"env.t": 1, "env.h.rel": 2}),
    (b'{"v": [1, 2.5, "x"]}', {"v.0": 1, "v.1": 2.5, "v.2": "x"}),
    (b'{"v": [{"a": 1}]}', {"v.0.a": 1}),
    (b'{"v": [], "o": {}}', {}),
    (b"{}", {}),
    (b'{"a": NaN, "b": Infinity, "c": -Infinity, "d": 1e999}', {"a": None, "b": None, "c": None, "d": None}),
    ('{"lieu": "café", "\u00e9": 1}'.encode(), {"lieu": "café", "é": 1}),
    (b'{"s": "\\u00e9\\n"}', {"s": "é\n"}),
]

INVALID = [
    (b"", "empty"),
    (b"  \r", "empty"),
    (b"[1, 2]", "expected a JSON object, got list"),
    (b'"text"', "expected a JSON object, got str"),
    (b"42", "expected a JSON object"),
    (b"null", "expected a JSON object"),
    (b'{"a": 1', "invalid JSON"),
    (b'{"a": 1} {"b": 2}', "invalid JSON"),
    (b"{'a': 1}", "invalid JSON"),
    (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
    (b'{"a.b": 1, "a": {"b": 2}}', "duplicate key 'a.b'"),
    (b'{"": 1}', "empty key"),
    (b'{"a": "\xff"}', "invalid utf-8"),
    (b'{"deep": ' + b'{"x": ' * 20 + b"1" + b"}" * 21, "nesting deeper than 16"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|expected a JSON object"),
    (b'{"n": ' + b"1" * 5000 + b"}", "invalid JSON"),
]


@pytest.mark.parametrize(("line", "expected"), VALID)
def test_valid(line: bytes, expected: dict[str, object]) -> None:
    fields = parse(line)
    assert fields == expected
    assert [type(v) for v in fields.values()] == [type(v) for v in expected.values()]


@pytest.mark.parametrize(("line", "message"), INVALID, ids=lambda v: repr(v)[:40])
def test_invalid(line: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(line)


def test_custom_key_separator_and_depth() -> None:
    parse_slash = jsonl.PROFILE.parser({"key_separator": "/", "max_depth": 2})
    assert parse_slash(b'{"a": {"b": 1}}') == {"a/b": 1}
    with pytest.raises(ParseError, match="nesting"):
        parse_slash(b'{"a": {"b": {"c": 1}}}')
