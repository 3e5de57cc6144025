"""Typed access to one TOML table that records problems instead of raising.

Each getter returns the value, the default, or ``None`` after recording what
is wrong, so validation continues and every problem in a file is reported in
one go.  Keys a table reads are remembered; whatever is left over at the end
is an unknown key, reported with the closest known spelling.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from .errors import Problem
from .locate import KeyPath, LineMap
from .model import Address

_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
_PORT_DIGITS = re.compile(r"[0-9]{1,5}", re.ASCII)
_ADDRESS_HINT = 'must be "host:port", "[ipv6]:port", ":port" or a port number'


def show(value: object) -> str:
    """A value the way it was written in TOML, for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


class Context:
    """Shared by every table of one file: where problems go, where lines are."""

    def __init__(self, filename: str, lines: LineMap) -> None:
        self.filename = filename
        self.lines = lines
        self.problems: list[Problem] = []

    def report(self, path: KeyPath, section: str | None, key: str | None, message: str) -> None:
        self.problems.append(Problem(self.filename, self.lines.line(path), section, key, message))


class Table:
    """One TOML table, read key by key."""

    def __init__(self, ctx: Context, data: dict[str, Any], path: KeyPath, section: str | None,
                 prefix: str = "") -> None:
        self.ctx = ctx
        self.data = data
        self.path = path
        self.section = section
        # Keys of an inline/sub table are shown dotted ("match.vid").
        self.prefix = prefix
        self.known: list[str] = []

    # -- reporting -------------------------------------------------------

    def label(self, key: str) -> str:
        return self.prefix + key

    def line(self, key: str) -> int:
        return self.ctx.lines.line(self.path + (key,))

    def error(self, key: str, message: str) -> None:
        self.ctx.report(self.path + (key,), self.section, self.label(key), message)

    def has(self, key: str) -> bool:
        return key in self.data

    def finish(self, known: Iterable[str] = ()) -> None:
        """Report keys nobody asked for: usually a typo of a known one."""
        names = list(dict.fromkeys([*self.known, *known]))
        for key in self.data:
            if key in names:
                continue
            # Here, not at the top: only a file with a mistake needs difflib,
            # and a valid one is read by a service that runs for months.
            import difflib

            close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
            hint = f', did you mean "{close[0]}"?' if close else ""
            self.error(key, f"unknown key{hint}")

    # -- typed getters ---------------------------------------------------

    def raw(self, key: str, required: bool = False) -> object | None:
        self.known.append(key)
        if key not in self.data:
            if required:
                self.error(key, "required key is missing")
            return None
        return self.data[key]

    def _typed(self, key: str, types: tuple[type, ...], what: str, required: bool) -> Any:
        value = self.raw(key, required)
        if value is None:
            return None
        # bool is an int subclass and TOML dates are distinct types: check
        # exactly so `baudrate = true` is not read as 1.
        if type(value) not in types:
            self.error(key, f"must be {what}, got {self.show_type(value)}")
            return None
        return value

    @staticmethod
    def show_type(value: object) -> str:
        if isinstance(value, datetime.date | datetime.time):
            return "a date/time"
        return show(value)

    def string(self, key: str, default: str | None = None, *, required: bool = False,
               pattern: re.Pattern[str] | None = None, pattern_hint: str = "") -> str | None:
        value = self._typed(key, (str,), "a string", required)
        if value is None:
            return default
        if value == "":
            self.error(key, "must not be empty")
            return None
        if "\0" in value:
            # A NUL cannot be part of a path, a host name or a topic, and
            # os/socket calls raise ValueError on it at run time.
            self.error(key, "must not contain a NUL character")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.error(key, f"{pattern_hint}, got {show(value)}")
            return None
        return str(value)

    def integer(self, key: str, default: int | None = None, *, required: bool = False,
                minimum: int | None = None, maximum: int | None = None) -> int | None:
        value = self._typed(key, (int,), "an integer", required)
        if value is None:
            return default
        if not self.in_range(key, value, minimum, maximum):
            return None
        return int(value)

    def positive(self, key: str, default: float, maximum: float | None = None) -> float | None:
        """A number of seconds and the like: int or float, greater than 0 (and at most ``maximum``)."""
        value = self._typed(key, (int, float), "a number", False)
        if value is None:
            return default
        if not value > 0:  # also rejects nan
            self.error(key, f"must be greater than 0, got {value}")
            return None
        if not math.isfinite(value):
            self.error(key, f"must be finite, got {value}")
            return None
        if maximum is not None and value > maximum:
            self.error(key, f"must be at most {maximum:g}, got {value:g}")
            return None
        return float(value)

    def duration(self, key: str, maximum: float = 86_400.0) -> float | None:
        """Seconds from "250ms", "30s", "5m", "1h" or a plain number of seconds; None when absent."""
        value = self._typed(key, (int, float, str), 'a duration like "30s"', False)
        if value is None:
            return None
        seconds = parse_duration(value)
        if seconds is None:
            self.error(key, f'must be a duration like "500ms", "30s", "5m" or "1h", got {show(value)}')
            return None
        if not 0 < seconds <= maximum:
            self.error(key, f"must be more than 0 and at most {maximum:g} seconds, got {show(value)}")
            return None
        return seconds

    def in_range(self, key: str, value: float, minimum: float | None, maximum: float | None) -> bool:
        if minimum is not None and value < minimum:
            self.error(key, f"must be at least {minimum}, got {value}")
            return False
        if maximum is not None and value > maximum:
            self.error(key, f"must be at most {maximum}, got {value}")
            return False
        return True

    def boolean(self, key: str, default: bool) -> bool:
        value = self._typed(key, (bool,), "a boolean (true or false)", False)
        return default if value is None else bool(value)

    def choice(self, key: str, choices: tuple[Any, ...], default: Any = None, *,
               required: bool = False, fold: Callable[[str], str] | None = None) -> Any:
        value = self.raw(key, required)
        if value is None:
            return default
        candidate = fold(value) if fold is not None and isinstance(value, str) else value
        # bool guard: `true == 1`, so true must not select the choice 1.
        if isinstance(value, bool) or candidate not in choices:
            listed = ", ".join(str(c) for c in choices)
            self.error(key, f"must be one of {listed}; got {show(value)}")
            return None
        return candidate

    def table(self, key: str, section: str | None = None) -> Table | None:
        """A sub-table: a new ``[section]`` of its own, or keys shown dotted."""
        value = self._typed(key, (dict,), "a table", False)
        if value is None:
            return None
        if section is not None:
            return Table(self.ctx, value, self.path + (key,), section)
        return Table(self.ctx, value, self.path + (key,), self.section, self.prefix + key + ".")

    def string_list(self, key: str) -> tuple[str, ...] | None:
        value = self._typed(key, (list,), "an array of strings", False)
        if value is None:
            return None
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.ctx.report(self.path + (key, i), self.section, self.label(key),
                                f"item {i + 1} must be a string, got {self.show_type(item)}")
                return None
        return tuple(value)

    def address(self, key: str, *, need_host: bool = False) -> Address | None:
        """Parse "host:port", "[v6]:port", ":port" or a bare port number."""
        value = self.raw(key)
        if value is None:
            return None
        address = parse_address(value)
        if isinstance(address, str):
            self.error(key, address)
            return None
        if need_host and not address.host:
            self.error(key, 'needs a destination host, e.g. "192.168.1.255:5001"')
            return None
        return address


_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)", re.ASCII)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: object) -> float | None:
    """Seconds, or None when ``value`` is not a duration (see :meth:`Table.duration`)."""
    if type(value) in (int, float):
        return float(value) if math.isfinite(value) else None  # type: ignore[arg-type]
    if not isinstance(value, str):
        return None
    match = _DURATION.fullmatch(value.strip())
    if match is None:
        return None
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_address(value: object) -> Address | str:
    """An :class:`Address`, or a message saying what is wrong with ``value``."""
    if type(value) is int:
        return _checked_port("", value)
    if not isinstance(value, str):
        return f"{_ADDRESS_HINT}, got {Table.show_type(value)}"
    text = value.strip()
    if _is_port(text):
        return _checked_port("", int(text))
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        if not sep or not _is_port(port):
            return f"{_ADDRESS_HINT}, got {show(value)}"
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"{show(host)} is not an IPv6 address"
        return _checked_port(host, int(port))
    host, sep, port = text.rpartition(":")
    if not sep or not _is_port(port):
        return f"{_ADDRESS_HINT}, got {show(value)}"
    if ":" in host:
        return f'IPv6 addresses need brackets, e.g. "[::1]:{port}"'
    if host and not _HOSTNAME.match(host):
        return f"{show(host)} is not a valid host name or address"
    return _checked_port(host, int(port))


def _is_port(text: str) -> bool:
    # str.isdigit() accepts "²³" and other Unicode digits, which int() then
    # refuses or reads differently: only 1-5 ASCII digits are a port.
    return _PORT_DIGITS.fullmatch(text) is not None


def _checked_port(host: str, port: int) -> Address | str:
    if not 1 <= port <= 65535:
        return f"port must be between 1 and 65535, got {port}"
    return Address(host, port)
