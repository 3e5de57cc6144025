"""History as CSV for spreadsheets and scripts (``/api/readings.csv``).

One row per reading, oldest first: ``time`` (ISO 8601, UTC, milliseconds),
``seq``, then one column per field in the order fields first appear. A
reading without some field leaves that cell empty. Text values that a
spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR at
the start) get a leading ``'`` (OWASP's CSV-injection advice); numbers are
written as they are, so ``-3.5`` stays a number.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

__all__ = ["parse_since", "readings_csv"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 200


def parse_since(text: str) -> float:
    """``since`` as Unix seconds: ISO 8601 (no zone: UTC) or a number of seconds; ValueError otherwise."""
    text = text.strip()
    if not text or len(text) > 40 or not text.isascii():
        raise ValueError("since must be an ISO 8601 time or Unix seconds")
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("since must be an ISO 8601 time or Unix seconds") from None
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    if not math.isfinite(seconds):
        raise ValueError("since must be a finite number of seconds")
    return seconds


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return "'" + text if text.startswith(_FORMULA_START) else text


def _time(ts: Any) -> str:
    if not isinstance(ts, int | float) or not math.isfinite(ts):
        return ""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def readings_csv(bodies: Iterable[str], since: float | None = None) -> Iterator[str]:
    """The CSV text of stored readings (JSON texts), in chunks of a few hundred rows."""
    readings = []
    for body in bodies:
        reading = json.loads(body)
        ts = reading.get("ts")
        if since is not None and not (isinstance(ts, int | float) and ts >= since):
            continue
        readings.append(reading)
    columns: dict[str, None] = {}  # an ordered set: fields in the order they first appear
    for reading in readings:
        columns.update(dict.fromkeys(reading.get("fields") or {}))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 line ends
    writer.writerow(["time", "seq", *columns])
    for i, reading in enumerate(readings, 1):
        fields = reading.get("fields") or {}
        writer.writerow([_time(reading.get("ts")), _cell(reading.get("seq")),
                         *(_cell(fields.get(name)) for name in columns)])
        if i % ROWS_PER_CHUNK == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
