"""The ``csv`` profile: one delimited row per message, named by ``columns``.

(The module is not called ``csv.py`` so that it can never shadow the standard
library's :mod:`csv`, which it uses for RFC 4180 quoting rules.)

Decisions:

* ``columns`` names the fields in order.  An empty name (``""``) or ``"_"``
  skips that column, for devices that send counters or padding you don't want.
* With no ``columns`` configured, fields are named ``col0``, ``col1``, ...
* A row whose column count differs from ``columns`` is an error: a short or
  long row usually means a lost or merged line, and silently shifting values
  into the wrong names is worse than dropping the row.
* Cells are typed by :func:`devices.values.convert_value`; empty cells -> None.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .profile import Fields, Option, OptionValue, ParseError, Profile, ProfileOptions
from .values import ENCODING_OPTION, convert_value, decode_text

if TYPE_CHECKING:
    import random  # simulate() takes a Random: only simulators (demo, tests) make one

_SKIP = frozenset({"", "_"})


def _check_delimiter(value: OptionValue) -> str | None:
    # Characters that occur inside numbers are refused too: "1.5.2.5" with a
    # "." delimiter can only be read one way by luck.
    if not isinstance(value, str) or len(value) != 1 or value.isalnum() or value in '"\r\n.+-':
        return "must be one character that is not a letter, digit, quote, sign, '.' or line break"
    return None


def _check_columns(value: OptionValue) -> str | None:
    names = [name for name in value if name not in _SKIP] if isinstance(value, tuple) else []
    if len(names) != len(set(names)):
        return "column names must be unique"
    return None


OPTIONS = (
    ENCODING_OPTION,
    Option("columns", (), "field name for each column in order; '' or '_' skips a column", _check_columns),
    Option("delimiter", ",", "the single character between cells", _check_delimiter),
)


def _cells(text: str, delimiter: str) -> list[str]:
    try:
        rows = list(csv.reader([text], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise ParseError(f"bad csv: {exc}") from None
    if len(rows) != 1:
        raise ParseError("expected exactly one row")
    return rows[0]


def parse(message: bytes, options: ProfileOptions) -> Fields:
    # Strip only line terminators: with a tab or space delimiter, leading
    # whitespace is an empty first cell, not padding.
    text = decode_text(message, str(options["encoding"])).strip("\r\n")
    if not text.strip():
        raise ParseError("empty message")
    cells = _cells(text, str(options["delimiter"]))
    columns = options["columns"]
    assert isinstance(columns, tuple)  # guaranteed by Profile.resolve_options
    if not columns:
        return {f"col{index}": convert_value(cell) for index, cell in enumerate(cells)}
    if len(cells) != len(columns):
        raise ParseError(f"expected {len(columns)} columns, got {len(cells)}")
    return {name: convert_value(cell) for name, cell in zip(columns, cells, strict=True) if name not in _SKIP}


def simulate(rng: random.Random, options: ProfileOptions) -> Iterator[bytes]:
    """A data logger row: one drifting analogue value per configured column."""
    columns = options["columns"]
    assert isinstance(columns, tuple)
    width = len(columns) or 3
    delimiter = str(options["delimiter"])
    encoding = str(options["encoding"])
    levels = [rng.uniform(-50.0, 150.0) for _ in range(width)]
    steps = [rng.uniform(0.01, 1.0) for _ in range(width)]
    while True:
        for index in range(width):
            levels[index] += rng.gauss(0.0, steps[index])
        yield delimiter.join(f"{level:.3f}" for level in levels).encode(encoding)


PROFILE = Profile(
    name="csv",
    description="delimited rows (CSV) with configured column names, one row per line",
    parse=parse,
    simulate=simulate,
    framing="line",
    options=OPTIONS,
    interval=1.0,
)
