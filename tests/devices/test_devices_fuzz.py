"""Every parser, on any bytes, returns JSON-safe fields or raises ParseError."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import PROFILES, ParseError, get_profile
from devices.nmea import format_sentence

# Bytes biased towards each format's syntax so the fuzzer gets past the first check.
ALPHABET = st.sampled_from(list(b'=:,; \t"\\{}[]$*.-+e0123456789ANSEWGPRMC\r\n\xff\xc3') + [b"\xe9"[0]])
INPUTS = st.one_of(st.binary(max_size=200), st.lists(ALPHABET, max_size=120).map(bytes))


@pytest.mark.parametrize("name", sorted(PROFILES))
@settings(max_examples=300, deadline=None)
@given(data=INPUTS)
def test_only_parse_error_escapes(name: str, data: bytes) -> None:
    parse = get_profile(name).parser()
    try:
        fields = parse(data)
    except ParseError:
        return
    assert isinstance(fields, dict)
    json.dumps(fields, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(fields=st.lists(st.text(alphabet="0123456789.-+NSEWAVM", max_size=12), min_size=0, max_size=16))
def test_nmea_structured_fuzz(fields: list[str]) -> None:
    parse = get_profile("nmea").parser()
    for kind in ("GPGGA", "GPRMC"):
        try:
            result = parse(format_sentence(",".join([kind, *fields])))
        except ParseError:
            continue
        json.dumps(result, allow_nan=False)
