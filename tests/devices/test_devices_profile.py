"""Profile data, option validation, the registry and the reading record."""

from __future__ import annotations

import json

import pytest

import devices
from devices import (
    PROFILES,
    ParseError,
    UnknownProfileError,
    get_profile,
    make_reading,
    reading_bytes,
    reading_text,
)
from devices.raw import PROFILE as RAW


def test_registry_has_every_kind() -> None:
    assert sorted(PROFILES) == ["csv", "json", "keyvalue", "modbus", "nmea", "raw"]
    for name, profile in PROFILES.items():
        assert profile.name == name
        assert profile.description
        assert profile.framing in devices.FRAMING_KINDS
        assert profile.interval > 0


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        PROFILES["x"] = RAW  # type: ignore[index]


def test_unknown_profile_lists_valid_names() -> None:
    with pytest.raises(UnknownProfileError, match="unknown device profile 'gps'; valid profiles: csv, json"):
        get_profile("gps")
    with pytest.raises(ValueError):  # configuration loaders catch ValueError
        get_profile("gps")


def test_get_profile() -> None:
    assert get_profile("nmea").baudrate == 4800


def test_unknown_option_lists_valid_options() -> None:
    with pytest.raises(
        ValueError, match="has no option 'column'; valid options: columns, delimiter, encoding"
    ):
        get_profile("csv").resolve_options({"column": ["a"]})
    with pytest.raises(ValueError, match=r"valid options: \(none\)"):
        RAW.resolve_options({"x": 1})


@pytest.mark.parametrize(
    ("profile", "options", "message"),
    [
        ("nmea", {"require_checksum": 1}, "true or false"),
        ("json", {"max_depth": True}, "integer"),
        ("json", {"max_depth": "3"}, "integer"),
        ("json", {"max_depth": 0}, "between"),
        ("json", {"key_separator": 1}, "string"),
        ("csv", {"columns": ("a", 2)}, "list of strings"),
    ],
)
def test_option_types_are_checked(profile: str, options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        get_profile(profile).resolve_options(options)


def test_resolved_options_are_defaults_plus_overrides() -> None:
    options = get_profile("csv").resolve_options({"columns": ["a", "b"]})
    assert options == {"encoding": "utf-8", "columns": ("a", "b"), "delimiter": ","}


def test_raw_never_fails() -> None:
    parse = RAW.parser()
    assert RAW.bridge_only
    assert parse(b"") == {"length": 0, "hex": ""}
    assert parse(b"\x00\xff\n") == {"length": 3, "hex": "00ff0a"}


def test_make_reading_is_json_safe_and_copies() -> None:
    fields = {"temp": 21.5, "ok": True, "none": None}
    reading = make_reading("sensor1", 7, 1700000000.25, fields)
    fields["temp"] = 0.0
    assert reading == {
        "device": "sensor1",
        "seq": 7,
        "ts": 1700000000.25,
        "fields": {"temp": 21.5, "ok": True, "none": None},
    }
    json.dumps(reading, allow_nan=False)


def test_parse_error_is_a_value_error() -> None:
    assert issubclass(ParseError, ValueError)


def test_a_reading_carries_its_json_made_once_for_every_sink() -> None:
    reading = make_reading("salle", 3, 1.5, {"name": "salle à manger", "raw": b"\x01", "t": 20.5})
    text = reading_text(reading)
    assert json.loads(text) == {"device": "salle", "seq": 3, "ts": 1.5,
                                "fields": {"name": "salle à manger", "raw": "\x01", "t": 20.5}}
    assert "à" in text and " " not in text.replace("salle à manger", "")  # compact UTF-8, no escapes
    # The same objects every time: UDP, MQTT, WebSocket and history share them.
    assert reading_text(reading) is text
    assert reading_bytes(reading) is reading_bytes(reading)
    assert reading_bytes(reading) == text.encode()
    # A plain dict (fired by anyone else) gets the same JSON, made on the spot.
    assert reading_text(dict(reading)) == text
