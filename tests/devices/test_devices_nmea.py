"""nmea profile: GGA/RMC parsing and checksum rules."""

from __future__ import annotations

import pytest

from devices import nmea
from devices.nmea import checksum, format_sentence
from devices.profile import ParseError

parse = nmea.PROFILE.parser()

# The classic examples from NMEA 0183 references (checksums as published).
GGA = b"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"
RMC = b"$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A"


def test_published_gga() -> None:
    assert parse(GGA + b"\r\n") == {
        "sentence": "GGA",
        "talker": "GP",
        "time": "12:35:19",
        "lat": 48.1173,
        "lon": 11.5166667,
        "fix": True,
        "fix_quality": 1,
        "satellites": 8,
        "hdop": 0.9,
        "alt": 545.4,
        "geoid_separation": 46.9,
    }


def test_published_rmc() -> None:
    assert parse(RMC) == {
        "sentence": "RMC",
        "talker": "GP",
        "time": "12:35:19",
        "date": "1994-03-23",
        "fix": True,
        "lat": 48.1173,
        "lon": 11.5166667,
        "speed": 41.485,
        "speed_knots": 22.4,
        "course": 84.4,
        "magvar": -3.1,
        "mode": None,
    }


def s(body: str) -> bytes:
    """A sentence with a correct checksum."""
    return format_sentence(body)


VALID = [
    # southern and western hemispheres are negative
    (
        s("GNGGA,000000.00,3351.000,S,15112.600,W,2,12,0.6,-5.0,M,,M,,"),
        {"lat": -33.85, "lon": -151.21, "alt": -5.0},
    ),
    (
        s("GPRMC,235959.50,A,0000.000,N,00000.000,E,0.0,,010100,,,D"),
        {"lat": 0.0, "lon": 0.0, "date": "2000-01-01"},
    ),
    (
        s("GPRMC,120000,A,9000.000,S,18000.000,W,1.0,,311299,,,A"),
        {"lat": -90.0, "lon": -180.0, "date": "1999-12-31"},
    ),
    # no fix: empty fields are None, fix is False
    (
        s("GPGGA,101010,,,,,0,00,99.99,,M,,M,,"),
        {"lat": None, "lon": None, "alt": None, "fix": False, "fix_quality": 0, "satellites": 0},
    ),
    (
        s("GPGGA,,,,,,,,,,"),
        {"time": None, "lat": None, "fix": False, "fix_quality": None, "satellites": None},
    ),
    (s("GPRMC,101010,V,,,,,,,,,,N"), {"fix": False, "lat": None, "speed": None, "date": None, "mode": "N"}),
    # leap second, lower-case checksum, missing optional trailing fields, extra fields (NMEA 4.1)
    (s("GPRMC,235960,A,4807.038,N,01131.000,E,,,230394"), {"time": "23:59:60", "magvar": None, "mode": None}),
    (GGA[:-2] + b"47".lower(), {"fix": True}),
    (RMC[:-2] + b"6a", {"fix": True}),
    (s("GPRMC,010203,A,4807.038,N,01131.000,E,1.0,2.0,230394,1.5,E,A,V"), {"magvar": 1.5, "mode": "A"}),
]


@pytest.mark.parametrize(("line", "expected"), VALID)
def test_valid(line: bytes, expected: dict[str, object]) -> None:
    fields = parse(line)
    assert {key: fields[key] for key in expected} == expected


INVALID = [
    (b"", "empty"),
    (b"GPGGA,123519*00", "must start with"),
    (GGA[:-2] + b"48", "checksum mismatch"),
    (GGA.replace(b"4807.038", b"4807.039"), "checksum mismatch"),
    (GGA[:-3], "missing checksum"),
    (GGA + b"0", "malformed checksum"),
    (GGA[:-2] + b"G7", "malformed checksum"),
    (GGA[:-2], "malformed checksum"),
    (s("GPGSV,3,1,11,03,03,111,00,04,15,270,00"), "unsupported sentence GSV"),
    (s("GPVTG,054.7,T,034.4,M,005.5,N,010.2,K"), "unsupported sentence VTG"),
    (s("PGRME,15.0,M,45.0,M,25.0,M"), "proprietary"),
    (s("gpgga,1"), "bad sentence address"),
    (s("GPGGA123"), "bad sentence address"),
    (s("GPGGA,123519,4807.038,N"), "at least 10 fields"),
    (s("GPRMC,123519,A,4807.038,N"), "at least 9 fields"),
    (s("GPGGA,123519,4807.038,X,01131.000,E,1,08,0.9,545.4,M,,M,,"), "bad coordinate"),
    (s("GPGGA,123519,4807.038,,01131.000,E,1,08,0.9,545.4,M,,M,,"), "bad coordinate"),
    (s("GPGGA,123519,,N,01131.000,E,1,08,0.9,545.4,M,,M,,"), "bad coordinate"),
    (s("GPGGA,123519,4867.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,"), "out of range"),
    (s("GPGGA,123519,9100.000,N,01131.000,E,1,08,0.9,545.4,M,,M,,"), "out of range"),
    (s("GPGGA,123519,48O7.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,"), "bad coordinate"),
    (s("GPGGA,123519,4807.038,N,1131.000,E,1,08,0.9,545.4,M,,M,,"), "bad coordinate"),
    (s("GPGGA,123519,4807.038,N,01131.000,E,x,08,0.9,545.4,M,,M,,"), "bad fix quality"),
    (s("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,F,,M,,"), "not metres"),
    (s("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,5e4,M,,M,,"), "bad altitude"),
    (s("GPGGA,126519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,"), "bad time"),
    (s("GPGGA,12:35,4807.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,"), "bad time"),
    (s("GPRMC,123519,X,4807.038,N,01131.000,E,022.4,084.4,230394,,"), "bad RMC status"),
    (s("GPRMC,123519,A,4807.038,N,01131.000,E,-1,084.4,230394,,"), "negative speed"),
    (s("GPRMC,123519,A,4807.038,N,01131.000,E,1,084.4,310294,,"), "bad date"),
    (s("GPRMC,123519,A,4807.038,N,01131.000,E,1,084.4,230394,3.1,Q"), "magnetic variation direction"),
    ("$GPGGA,é*00".encode(), "non-ASCII"),
    (b"$GPGGA,\xff*00", "non-ASCII"),
]


@pytest.mark.parametrize(("line", "message"), INVALID, ids=lambda v: repr(v)[:50])
def test_invalid(line: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(line)


def test_missing_checksum_allowed_when_configured() -> None:
    lenient = nmea.PROFILE.parser({"require_checksum": False})
    assert lenient(GGA[:-3])["lat"] == 48.1173
    with pytest.raises(ParseError, match="checksum mismatch"):
        lenient(GGA[:-2] + b"00")  # a present checksum is still verified


def test_checksum_is_xor_of_body() -> None:
    assert checksum("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,") == "47"
    assert format_sentence("A") == b"$A*41"
