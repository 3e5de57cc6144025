"""Read a configuration file safely and parse its TOML with bounded cost.

A configuration path comes from the command line or a unit file, so it may
name anything: ``/dev/zero`` (endless), a FIFO (blocks until a writer
appears), a directory.  Only a regular file of at most ``MAX_CONFIG_BYTES``
is read.  ``tomllib`` itself recurses once per nesting level and converts
integers with ``int()``, so before it runs the text is scanned for nesting
deeper than ``MAX_NESTING`` and for digit runs ``int()`` refuses; both are
reported on their line instead of surfacing as RecursionError or ValueError.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib

from .errors import ConfigError, Problem

__all__ = ["MAX_CONFIG_BYTES", "MAX_NESTING", "read_config_bytes", "parse_toml"]

#: A gateway's configuration is a few KiB; a megabyte is far beyond any real one.
MAX_CONFIG_BYTES = 1024 * 1024
#: Arrays and inline tables nested deeper than this are refused.
MAX_NESTING = 32
#: Integer literals with more digits than this are refused (no setting needs
#: more than ten; ``int()`` itself stops at 4300 by default).
MAX_INT_DIGITS = 30

_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")
# Outside strings: a run of digits (with TOML's "_" separators) too long to be a value.
_LONG_NUMBER = re.compile(rf"[0-9_]{{{MAX_INT_DIGITS + 1},}}")


def _problem(filename: str, line: int | None, message: str) -> ConfigError:
    return ConfigError([Problem(filename, line, None, None, message)])


def read_config_bytes(filename: str) -> bytes:
    """The file's bytes; ConfigError unless it is a regular file of bounded size."""
    try:
        # O_NONBLOCK: opening a FIFO with no writer must not hang; the
        # fstat below then refuses it.
        fd = os.open(filename, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _problem(filename, None, f"cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _problem(filename, None, "not a regular file")
        if info.st_size > MAX_CONFIG_BYTES:
            raise _problem(filename, None, f"larger than {MAX_CONFIG_BYTES} bytes")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_CONFIG_BYTES:  # the file may grow while we read
            chunk = os.read(fd, MAX_CONFIG_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_CONFIG_BYTES:
            raise _problem(filename, None, f"larger than {MAX_CONFIG_BYTES} bytes")
        return b"".join(chunks)
    except OSError as exc:
        raise _problem(filename, None, f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)


def _scan_limits(text: str) -> tuple[int, str] | None:
    """``(line, message)`` for the first over-deep nesting or over-long number.

    A lenient walk that skips strings and comments; it only has to be right
    on text tomllib would accept, and anything it lets through tomllib still
    checks.
    """
    depth = 0
    line = 1
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif c in "\"'":
            triple = text.startswith(c * 3, i)
            quote = c * 3 if triple else c
            j = i + len(quote)
            while True:
                k = text.find(quote, j)
                if k < 0:
                    return None  # unterminated: tomllib reports it
                if c == '"' and _escaped(text, k):
                    j = k + 1
                    continue
                break
            end = k + len(quote)
            if triple:
                while text.startswith(c, end) and end - k < 5:  # up to two quotes may close it
                    end += 1
            line += text.count("\n", i, end)
            i = end
            continue
        elif c in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return line, f"arrays or tables nested more than {MAX_NESTING} deep"
        elif c in "]}":
            depth = max(0, depth - 1)
        elif c.isdigit():
            m = _LONG_NUMBER.match(text, i)
            if m is not None:
                return line, f"number with more than {MAX_INT_DIGITS} digits"
            while i < n and (text[i].isalnum() or text[i] in "_.:+-"):
                i += 1
            continue
        i += 1
    return None


def _escaped(text: str, k: int) -> bool:
    """True when the quote at ``k`` is preceded by an odd number of backslashes."""
    count = 0
    k -= 1
    while k >= 0 and text[k] == "\\":
        count += 1
        k -= 1
    return count % 2 == 1


def parse_toml(text: str, filename: str) -> dict[str, object]:
    """``tomllib.loads`` whose every failure is a ConfigError with a line."""
    found = _scan_limits(text)
    if found is not None:
        raise _problem(filename, found[0], found[1])
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = _TOML_POSITION.search(str(exc))
        # "at end of document" carries no line: point at the last one.
        line = int(where.group(1)) if where else max(1, text.count("\n") + (not text.endswith("\n")))
        raise _problem(filename, line, f"TOML syntax error: {exc}") from None
    except (ValueError, RecursionError) as exc:  # belt and braces behind _scan_limits
        raise _problem(filename, None, f"cannot parse: {exc}") from None
