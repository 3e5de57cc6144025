"""The ``json`` profile: one JSON object per message (JSON Lines).

Decisions:

* The top level must be an object; anything else is an error.
* Nested objects are flattened with dotted keys (``{"env": {"t": 1}}`` ->
  ``env.t``); arrays by index (``{"v": [1, 2]}`` -> ``v.0``, ``v.1``), so
  every field is a scalar the dashboard and MQTT topics can address.
* A duplicate key, or a flattened key colliding with a literal dotted key
  (``{"a.b": 1, "a": {"b": 2}}``), is an error, as in the keyvalue profile.
* JSON types are kept: ``"21.5"`` stays a string.  ``NaN``/``Infinity``
  (which Python's json accepts) and overflowing numbers become None.
* An empty key is an error.
* Nesting deeper than ``max_depth`` is an error rather than a RecursionError.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .profile import Fields, FieldValue, Option, OptionValue, ParseError, Profile, ProfileOptions
from .values import ENCODING_OPTION, decode_text, finite

if TYPE_CHECKING:
    import random  # simulate() takes a Random: only simulators (demo, tests) make one


def _check_separator(value: OptionValue) -> str | None:
    return None if isinstance(value, str) and value else "must be a non-empty string"


def _check_depth(value: OptionValue) -> str | None:
    return None if isinstance(value, int) and 1 <= value <= 100 else "must be between 1 and 100"


OPTIONS = (
    ENCODING_OPTION,
    Option("key_separator", ".", "joins nested keys when flattening", _check_separator),
    Option("max_depth", 16, "deepest nesting accepted", _check_depth),
)


class _Pairs(list[tuple[str, object]]):
    """Object members in document order, duplicates kept so we can refuse them."""


def _scalar(value: object) -> FieldValue:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return finite(value)
    raise AssertionError(f"unexpected JSON value {type(value).__name__}")  # json yields nothing else


def _flatten(value: object, prefix: str, sep: str, depth: int, limit: int, out: Fields) -> None:
    if isinstance(value, _Pairs | list):
        if depth > limit:
            raise ParseError(f"nesting deeper than {limit}")
        items = value if isinstance(value, _Pairs) else [(str(i), v) for i, v in enumerate(value)]
        for key, child in items:
            if not key:
                raise ParseError("empty key")
            _flatten(child, f"{prefix}{sep}{key}" if prefix else key, sep, depth + 1, limit, out)
        return
    if prefix in out:
        raise ParseError(f"duplicate key {prefix!r}")
    out[prefix] = _scalar(value)


def parse(message: bytes, options: ProfileOptions) -> Fields:
    text = decode_text(message, str(options["encoding"]))
    if not text.strip():
        raise ParseError("empty message")
    try:
        document = json.loads(text, object_pairs_hook=_Pairs)
    except RecursionError:
        raise ParseError("JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and int() digit-limit errors
        raise ParseError(f"invalid JSON: {exc}") from None
    if not isinstance(document, _Pairs):
        raise ParseError(f"expected a JSON object, got {type(document).__name__}")
    fields: Fields = {}
    max_depth = options["max_depth"]
    assert isinstance(max_depth, int)
    _flatten(document, "", str(options["key_separator"]), 1, max_depth, fields)
    return fields


def simulate(rng: random.Random, options: ProfileOptions) -> Iterator[bytes]:
    """A smart plug / environment node reporting nested JSON."""
    encoding = str(options["encoding"])
    temp = rng.uniform(15.0, 30.0)
    power = rng.uniform(0.0, 2000.0)
    energy = rng.uniform(0.0, 500.0)
    uptime = rng.randint(0, 100_000)
    relay = rng.random() < 0.5
    while True:
        temp += rng.gauss(0.0, 0.1)
        power = max(0.0, power + rng.gauss(0.0, 25.0))
        energy += power / 3_600_000.0  # one-second interval: W -> kWh
        uptime += 1
        if rng.random() < 0.02:
            relay = not relay
        document = {
            "temp": round(temp, 2),
            "power": {"watts": round(power if relay else 0.0, 1), "kwh": round(energy, 4)},
            "relay": relay,
            "uptime": uptime,
            "state": "on" if relay else "off",
        }
        yield json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode(encoding)


PROFILE = Profile(
    name="json",
    description="one JSON object per line; nested objects flattened to dotted keys",
    parse=parse,
    simulate=simulate,
    framing="line",
    options=OPTIONS,
    interval=1.0,
)
