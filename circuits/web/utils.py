"""Utility functions of circuits.web (ranges, compression, URLs, forms)."""

from __future__ import annotations

import os
import stat
import zlib
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urljoin

from .forms import parse_body, parse_qs

__all__ = ["compress", "dictform", "get_ranges", "is_unix_socket", "parse_body", "parse_qs", "url"]

#: More ranges than this in one Range header is abuse, not a client need.
MAX_RANGES = 32
#: Digits of a byte position: 18 is beyond any file, and int() stays cheap.
MAX_POS_DIGITS = 18


def get_ranges(headervalue: str | None, content_length: int) -> list[tuple[int, int]] | None:
    """(start, stop) slices for a Range header (RFC 9110 section 14.1.2), or None.

    ``bytes=3-6`` gives ``[(3, 7)]``. None means "no usable Range header":
    serve the whole representation (a malformed header is ignored, RFC 9110
    section 14.2). An empty list means no range can be satisfied: answer 416.
    Ranges that overlap are refused (an empty list: 416), as section 14.2
    allows -- they are the signature of an amplification attack
    (``bytes=0-`` 32 times was 32 copies) -- and adjacent ones are sent as
    one, in ascending order. So a response is never larger than the
    representation plus its part heads.
    """
    if not headervalue:
        return None
    unit, _, specs = headervalue.partition("=")
    if unit.strip().lower() != "bytes" or not specs.strip():
        return None
    result: list[tuple[int, int]] = []
    parts = [p.strip() for p in specs.split(",") if p.strip()]
    if len(parts) > MAX_RANGES:
        return None
    for part in parts:
        start_text, dash, stop_text = part.partition("-")
        start_text, stop_text = start_text.strip(), stop_text.strip()
        if not dash or not (_is_pos(start_text) or start_text == "") or not (_is_pos(stop_text) or stop_text == ""):
            return None  # a syntax error (or "²", or 4000 digits): ignore the whole header
        if start_text:
            start = int(start_text)
            if stop_text:
                stop = int(stop_text) + 1
                if stop <= start:
                    return None  # last-pos < first-pos is invalid
            else:
                stop = content_length
            if start >= content_length:
                continue  # unsatisfiable on its own
            result.append((start, min(stop, content_length)))
        else:
            if not stop_text:
                return None
            suffix = int(stop_text)
            if suffix == 0:
                continue
            result.append((max(0, content_length - suffix), content_length))
    return _coalesce(result)


def _is_pos(text: str) -> bool:
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    return 0 < len(text) <= MAX_POS_DIGITS and text.isascii() and text.isdigit()


def _coalesce(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, adjacent ranges merged; [] (unsatisfiable) if any two overlap."""
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(ranges):
        if merged and start < merged[-1][1]:
            return []
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], stop)
        else:
            merged.append((start, stop))
    return merged


def compress(body: Iterable[bytes | str], compress_level: int, encoding: str = "utf-8") -> Iterator[bytes]:
    """Gzip ``body`` (an iterable of chunks) at ``compress_level``, piece by piece."""
    compressor = zlib.compressobj(compress_level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for chunk in body:
        if isinstance(chunk, str):
            chunk = chunk.encode(encoding)
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


def dictform(form: Any) -> dict[str, Any]:
    """A plain dict from a mapping of form fields (lists kept as lists)."""
    return {key: form[key] for key in form}


def is_unix_socket(path: Any) -> bool:
    if not isinstance(path, str):
        return False
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def url(request: Any, path: str = "", qs: str = "", script_name: str | None = None,
        base: str | None = None, relative: Any = None) -> str:
    """An absolute URL for ``path`` (see the manual, ``circuits.web.utils.url``).

    A path starting with "/" is relative to the script name; other paths
    are relative to the current request's path. ``relative=True`` gives a
    URL relative to the current request path, ``relative="server"`` one
    relative to the server root.
    """
    if qs:
        qs = "?" + qs
    if script_name is None:
        script_name = getattr(request, "script_name", "")
    if base is None:
        base = request.base
    if path.startswith("/"):
        newurl = base + script_name + path + qs
    else:
        current = script_name + request.path
        if not current.endswith("/") and not path:
            newurl = base + current + qs
        else:
            newurl = urljoin(base + current, path) + qs
    # Resolve "." and ".." segments.
    head, sep, rest = newurl.partition("://")
    host, slash, rpath = rest.partition("/")
    atoms: list[str] = []
    for atom in rpath.split("/"):
        if atom == ".":
            continue
        if atom == "..":
            if atoms:
                atoms.pop()
            continue
        atoms.append(atom)
    newurl = f"{head}{sep}{host}{slash}{'/'.join(atoms)}"
    if relative == "server":
        return "/" + "/".join(atoms)
    if relative:
        old = (base + script_name + request.path).split("/")[3:]
        new = newurl.split("/")[3:]
        while old and new and old[0] == new[0]:
            old.pop(0)
            new.pop(0)
        return "/".join([".."] * (len(old) - 1) + new) or "."
    return newurl
