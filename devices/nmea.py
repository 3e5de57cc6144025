"""The ``nmea`` profile: NMEA 0183 GGA and RMC sentences from a GPS receiver.

Sentence layout (NMEA 0183): ``$`` + address (2-letter talker such as GP, GN,
GL + 3-letter type) + comma-separated fields + ``*hh`` + CR LF, where ``hh``
is the XOR of every character between ``$`` and ``*`` in hex.

Decisions:

* The checksum is verified.  A wrong checksum is an error.  Hex digits are
  accepted in either case (the standard says upper case; accepting lower case
  costs nothing).  A *missing* checksum is an error by default because a
  serial line without one cannot tell noise from data; set
  ``require_checksum = false`` for receivers that omit it.
* Only GGA and RMC are understood; any other sentence (GSV, VTG, proprietary
  ``$P...``) is a ParseError("unsupported sentence ...") - counted, not fatal.
* Coordinates are signed decimal degrees (south and west negative), rounded
  to 7 places (about 1 cm).  Empty position fields (no fix) give None.
* Extra trailing fields (added by later NMEA versions) are ignored; missing
  optional trailing fields give None.

Fields produced:

* GGA: sentence, talker, time, lat, lon, fix (quality > 0), fix_quality,
  satellites, hdop, alt (metres above mean sea level), geoid_separation.
* RMC: sentence, talker, time, date (ISO 8601), fix (status ``A``), lat, lon,
  speed (km/h), speed_knots, course (degrees true), magvar (east positive),
  mode.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Iterator
from functools import reduce
from typing import TYPE_CHECKING

from .profile import Fields, Option, ParseError, Profile, ProfileOptions
from .values import finite

if TYPE_CHECKING:
    import random  # simulate() takes a Random: only simulators (demo, tests) make one

KNOT_KMH = 1.852  # 1 international knot = 1852 m/h, exactly

_ADDRESS = re.compile(r"[A-Z]{2}[A-Z]{3}")
_CHECKSUM = re.compile(r"[0-9A-Fa-f]{2}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_INTEGER = re.compile(r"[0-9]{1,9}")  # bounded: int() refuses huge digit strings
_TIME = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2}(?:\.[0-9]+)?)")
_DATE = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})")
_LAT = re.compile(r"([0-9]{2})([0-9]{2}(?:\.[0-9]*)?)")
_LON = re.compile(r"([0-9]{3})([0-9]{2}(?:\.[0-9]*)?)")

OPTIONS = (Option("require_checksum", True, "reject sentences without a *hh checksum"),)


def checksum(body: str) -> str:
    """The two-digit upper-case hex checksum of the text between $ and *."""
    return f"{reduce(lambda acc, char: acc ^ ord(char), body, 0):02X}"


def format_sentence(body: str) -> bytes:
    """``GPGGA,...`` -> ``$GPGGA,...*hh`` (unframed: no CR LF)."""
    return f"${body}*{checksum(body)}".encode("ascii")


# -- field readers: each returns None for an empty field, raises ParseError on junk


def _number(text: str, what: str) -> float | None:
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        raise ParseError(f"bad {what} {text!r}")
    value = finite(float(text))
    if value is None:
        raise ParseError(f"{what} out of range {text!r}")
    return value


def _integer(text: str, what: str) -> int | None:
    if not text:
        return None
    if not _INTEGER.fullmatch(text):
        raise ParseError(f"bad {what} {text!r}")
    return int(text)


def _time(text: str) -> str | None:
    if not text:
        return None
    match = _TIME.fullmatch(text)
    if match is None:
        raise ParseError(f"bad time {text!r}")
    hours, minutes, seconds = match.groups()
    # 60 seconds is legal: a leap second.
    if int(hours) > 23 or int(minutes) > 59 or float(seconds) >= 61:
        raise ParseError(f"bad time {text!r}")
    return f"{hours}:{minutes}:{seconds}"


def _date(text: str) -> str | None:
    if not text:
        return None
    match = _DATE.fullmatch(text)
    if match is None:
        raise ParseError(f"bad date {text!r}")
    day, month, year = (int(part) for part in match.groups())
    # Two-digit years: GPS did not exist before 1980, so 80-99 are 19xx.
    year += 1900 if year >= 80 else 2000
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        raise ParseError(f"bad date {text!r}") from None


def _coordinate(
    value: str, hemisphere: str, pattern: re.Pattern[str], hemispheres: str, limit: int
) -> float | None:
    """``ddmm.mmmm`` / ``dddmm.mmmm`` plus N/S or E/W -> signed degrees."""
    if not value and not hemisphere:
        return None
    match = pattern.fullmatch(value)
    if match is None or hemisphere not in hemispheres or len(hemisphere) != 1:
        raise ParseError(f"bad coordinate {value!r},{hemisphere!r}")
    degrees, minutes = int(match.group(1)), float(match.group(2))
    result = degrees + minutes / 60.0
    if minutes >= 60.0 or result > limit:
        raise ParseError(f"coordinate out of range {value!r}")
    return round(-result if hemisphere == hemispheres[1] else result, 7)


def _lat(value: str, hemisphere: str) -> float | None:
    return _coordinate(value, hemisphere, _LAT, "NS", 90)


def _lon(value: str, hemisphere: str) -> float | None:
    return _coordinate(value, hemisphere, _LON, "EW", 180)


def _field(fields: list[str], index: int) -> str:
    return fields[index] if index < len(fields) else ""


def _parse_gga(talker: str, f: list[str]) -> Fields:
    if len(f) < 11:
        raise ParseError(f"GGA needs at least 10 fields, got {len(f) - 1}")
    quality = _integer(f[6], "fix quality")
    if f[10] not in ("", "M"):
        raise ParseError(f"altitude unit {f[10]!r} is not metres")
    return {
        "sentence": "GGA",
        "talker": talker,
        "time": _time(f[1]),
        "lat": _lat(f[2], f[3]),
        "lon": _lon(f[4], f[5]),
        "fix": bool(quality),
        "fix_quality": quality,
        "satellites": _integer(f[7], "satellite count"),
        "hdop": _number(f[8], "hdop"),
        "alt": _number(f[9], "altitude"),
        "geoid_separation": _number(_field(f, 11), "geoid separation"),
    }


def _parse_rmc(talker: str, f: list[str]) -> Fields:
    if len(f) < 10:
        raise ParseError(f"RMC needs at least 9 fields, got {len(f) - 1}")
    if f[2] not in ("A", "V", ""):
        raise ParseError(f"bad RMC status {f[2]!r}")
    knots = _number(f[7], "speed")
    if knots is not None and knots < 0:
        raise ParseError(f"negative speed {f[7]!r}")
    variation = _number(_field(f, 10), "magnetic variation")
    direction = _field(f, 11)
    if variation is not None and direction not in ("E", "W"):
        raise ParseError(f"bad magnetic variation direction {direction!r}")
    return {
        "sentence": "RMC",
        "talker": talker,
        "time": _time(f[1]),
        "date": _date(f[9]),
        "fix": f[2] == "A",
        "lat": _lat(f[3], f[4]),
        "lon": _lon(f[5], f[6]),
        "speed": None if knots is None else round(knots * KNOT_KMH, 3),
        "speed_knots": knots,
        "course": _number(f[8], "course"),
        "magvar": None if variation is None else (-variation if direction == "W" else variation),
        "mode": _field(f, 12) or None,
    }


_SENTENCES: dict[str, Callable[[str, list[str]], Fields]] = {"GGA": _parse_gga, "RMC": _parse_rmc}


def parse(message: bytes, options: ProfileOptions) -> Fields:
    try:
        text = message.decode("ascii").strip()  # NMEA 0183 is printable ASCII
    except UnicodeDecodeError:
        raise ParseError("non-ASCII bytes in NMEA sentence") from None
    if not text:
        raise ParseError("empty message")
    if not text.startswith("$"):
        raise ParseError("NMEA sentence must start with '$'")
    body, star, given = text[1:].partition("*")
    if star:
        if not _CHECKSUM.fullmatch(given):
            raise ParseError(f"malformed checksum {given!r}")
        if given.upper() != checksum(body):
            raise ParseError(f"checksum mismatch: got {given}, computed {checksum(body)}")
    elif options["require_checksum"]:
        raise ParseError("missing checksum")
    fields = body.split(",")
    address = fields[0]
    if address.startswith("P"):
        raise ParseError(f"unsupported sentence {address} (proprietary)")
    if not _ADDRESS.fullmatch(address):
        raise ParseError(f"bad sentence address {address!r}")
    handler = _SENTENCES.get(address[2:])
    if handler is None:
        raise ParseError(f"unsupported sentence {address[2:]}")
    return handler(address[:2], fields)


# -- simulator ---------------------------------------------------------------

_METRES_PER_DEGREE = 111_320.0  # of latitude; of longitude at the equator
_EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def _ddmm(value: float, degree_digits: int, hemispheres: str) -> tuple[str, str]:
    # Integer ten-thousandths of a minute so rounding can never print "60.0000".
    total = round(abs(value) * 60 * 10_000)
    degrees, rest = divmod(total, 60 * 10_000)
    text = f"{degrees:0{degree_digits}d}{rest // 10_000:02d}.{rest % 10_000:04d}"
    return text, hemispheres[1] if value < 0 else hemispheres[0]


def simulate(rng: random.Random, options: ProfileOptions) -> Iterator[bytes]:
    """A vehicle GPS: one GGA and one RMC per second along a wandering track.

    Now and then the receiver loses its fix for a few seconds (GGA quality 0,
    RMC status V, empty position fields), as real ones do under bridges.
    """
    lat = rng.uniform(-70.0, 70.0)
    lon = rng.uniform(-180.0, 180.0)
    alt = rng.uniform(-20.0, 2500.0)
    heading = rng.uniform(0.0, 360.0)
    knots = rng.uniform(0.0, 60.0)
    when = _EPOCH + datetime.timedelta(seconds=rng.randrange(366 * 86_400))
    outage = 0
    while True:
        heading = (heading + rng.gauss(0.0, 5.0)) % 360.0
        knots = min(150.0, max(0.0, knots + rng.gauss(0.0, 1.0)))
        metres = knots * KNOT_KMH / 3.6  # one second of travel
        lat += metres * math.cos(math.radians(heading)) / _METRES_PER_DEGREE
        lon += metres * math.sin(math.radians(heading)) / (_METRES_PER_DEGREE * math.cos(math.radians(lat)))
        lon = (lon + 180.0) % 360.0 - 180.0
        if abs(lat) > 80.0:  # turn back rather than cross a pole
            heading = (180.0 - heading) % 360.0
        alt += rng.gauss(0.0, 0.5)
        when += datetime.timedelta(seconds=1)
        if outage == 0 and rng.random() < 0.02:
            outage = rng.randint(1, 5)
        hhmmss = when.strftime("%H%M%S") + ".00"
        ddmmyy = when.strftime("%d%m%y")
        if outage:
            outage -= 1
            yield format_sentence(f"GPGGA,{hhmmss},,,,,0,00,99.99,,M,,M,,")
            yield format_sentence(f"GPRMC,{hhmmss},V,,,,,,,{ddmmyy},,,N")
            continue
        lat_text, ns = _ddmm(lat, 2, "NS")
        lon_text, ew = _ddmm(lon, 3, "EW")
        satellites = rng.randint(4, 12)
        hdop = rng.uniform(0.6, 2.5)
        yield format_sentence(
            f"GPGGA,{hhmmss},{lat_text},{ns},{lon_text},{ew},1,{satellites:02d},{hdop:.1f},"
            f"{alt:.1f},M,{rng.uniform(-40, 60):.1f},M,,"
        )
        yield format_sentence(
            f"GPRMC,{hhmmss},A,{lat_text},{ns},{lon_text},{ew},{knots:.1f},{heading:.1f},{ddmmyy},,,A"
        )


PROFILE = Profile(
    name="nmea",
    description="NMEA 0183 GPS receiver (GGA and RMC sentences, checksums verified)",
    parse=parse,
    simulate=simulate,
    framing="line",
    options=OPTIONS,
    interval=0.5,  # GGA + RMC every second
    baudrate=4800,  # NMEA 0183's standard speed
)
