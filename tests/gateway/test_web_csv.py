"""The CSV export behind ``/api/readings.csv`` on stored readings (the endpoint
itself is tested on a real gateway in test_web_api.py)."""

from __future__ import annotations

import csv
import io

import pytest

from gateway.readings import reading_json
from gateway.web.csvexport import ROWS_PER_CHUNK, parse_since, readings_csv

pytestmark = pytest.mark.timeout(60)


def stored(seq: int, ts: float, **fields: object) -> str:
    return reading_json({"device": "d", "seq": seq, "ts": ts, "fields": fields})


def rows(chunks: object) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(chunks))))  # type: ignore[arg-type]


def test_columns_follow_the_fields_in_the_order_they_first_appear() -> None:
    text = "".join(readings_csv([stored(1, 0.0, temp=20.5), stored(2, 1.25, temp=21, hum=40),
                                 stored(3, 2.5, hum=41, ok=True, note="fine, thanks")]))
    assert text.endswith("\r\n")  # RFC 4180 line ends
    assert rows([text]) == [
        ["time", "seq", "temp", "hum", "ok", "note"],
        ["1970-01-01T00:00:00.000Z", "1", "20.5", "", "", ""],
        ["1970-01-01T00:00:01.250Z", "2", "21", "40", "", ""],
        ["1970-01-01T00:00:02.500Z", "3", "", "41", "true", "fine, thanks"],
    ]


def test_text_a_spreadsheet_would_run_is_defused_and_numbers_stay_numbers() -> None:
    table = rows(readings_csv([stored(1, 0.0, cmd="=HYPERLINK(\"x\")", at="@SUM(A1)", dash="-x", v=-3.5)]))
    assert table[1][2:] == ["'=HYPERLINK(\"x\")", "'@SUM(A1)", "'-x", "-3.5"]


def test_since_keeps_the_readings_at_or_after_it() -> None:
    bodies = [stored(i, 1000.0 + i) for i in range(1, 6)]
    assert [r[1] for r in rows(readings_csv(bodies, since=1003.0))[1:]] == ["3", "4", "5"]
    assert rows(readings_csv(bodies, since=2000.0)) == [["time", "seq"]]


def test_many_rows_come_in_chunks() -> None:
    chunks = list(readings_csv([stored(i, float(i), n=i) for i in range(ROWS_PER_CHUNK * 2 + 5)]))
    assert len(chunks) == 3
    assert len(rows(chunks)) == ROWS_PER_CHUNK * 2 + 6


@pytest.mark.parametrize(("text", "seconds"), [
    ("1700000000", 1700000000.0), ("1700000000.5", 1700000000.5),
    ("2023-11-14T22:13:20Z", 1700000000.0), ("2023-11-14T22:13:20", 1700000000.0),
    ("2023-11-14T23:13:20+01:00", 1700000000.0),
])
def test_since_takes_iso_8601_or_unix_seconds(text: str, seconds: float) -> None:
    assert parse_since(text) == seconds


@pytest.mark.parametrize("text", ["", "yesterday", "nan", "inf", "1" * 50, "２０２３-11-14", "2023-13-01"])
def test_a_bad_since_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="since"):
        parse_since(text)
