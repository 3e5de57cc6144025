"""circuits.web.httpdate: RFC 9110 section 5.6.7, checked against email.utils (the standard library's own)."""

from __future__ import annotations

import datetime
import email.utils

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circuits.web.httpdate import format_http_date, parse_http_date

UTC = datetime.UTC
SAMPLE = datetime.datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)  # the RFC's own example


def test_formats_the_rfcs_example():
    assert format_http_date(SAMPLE.timestamp()) == "Sun, 06 Nov 1994 08:49:37 GMT"


def test_formats_now_by_default():
    parsed = parse_http_date(format_http_date())
    assert parsed is not None
    assert abs((datetime.datetime.now(UTC) - parsed).total_seconds()) < 5


@pytest.mark.parametrize("text, expected", [
    ("Sun, 06 Nov 1994 08:49:37 GMT", SAMPLE),              # IMF-fixdate
    ("Sunday, 06-Nov-94 08:49:37 GMT", SAMPLE),             # obsolete RFC 850
    ("Sun Nov  6 08:49:37 1994", SAMPLE),                   # ANSI C asctime()
    ("  Sun, 06 Nov 1994 08:49:37 GMT ", SAMPLE),           # field value whitespace
    ("Thu, 29 Feb 2024 23:59:59 GMT", datetime.datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
    ("Sun, 06 Nov 1994 08:49:37 +0000", None),              # not an HTTP-date: ignored, not guessed
    ("Sun, 06 Nov 1994 08:49:37", None),
    ("Sun, 6 Nov 1994 08:49:37 GMT", None),                 # IMF-fixdate has two-digit days
    ("Sun, 06 nov 1994 08:49:37 GMT", None),                # month names are case-sensitive
    ("Sun, 31 Feb 1994 08:49:37 GMT", None),
    ("Sun, 06 Nov 1994 25:49:37 GMT", None),
    ("", None),
    ("yesterday", None),
])
def test_parses_the_three_forms_and_nothing_else(text, expected):
    assert parse_http_date(text) == expected


def test_a_two_digit_year_far_ahead_is_the_past_century():
    this_year = datetime.datetime.now(UTC).year
    ahead = (this_year + 60) % 100
    parsed = parse_http_date(f"Sunday, 06-Nov-{ahead:02d} 08:49:37 GMT")
    assert parsed is not None and this_year - 100 < parsed.year <= this_year


@given(st.integers(min_value=0, max_value=253402300799))  # 1970 .. 9999-12-31T23:59:59
def test_round_trip_and_agreement_with_email_utils(seconds):
    text = format_http_date(seconds)
    assert text == email.utils.formatdate(seconds, usegmt=True)
    assert parse_http_date(text) == datetime.datetime.fromtimestamp(seconds, UTC)
