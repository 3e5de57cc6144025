"""HTTP header collections and header-value elements.

:class:`Headers` keeps every field in the order it was received or added
(duplicates included, as ``Set-Cookie`` needs) and answers lookups by name
case-insensitively (RFC 9110 section 5.1). It is a ``dict`` from lower-case
name to the *first* value, so ``headers.get("content-type")`` is one dict
lookup; the ordered field list is what gets serialized.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["AcceptElement", "HeaderElement", "Headers", "header_elements", "parse_headers", "split_unquoted"]

# A separator inside a quoted string does not separate (RFC 9110 sections
# 5.6.1, 5.6.4, 5.6.6). The scan below jumps from one quote or separator to
# the next, so it is linear in the value's length; a look-ahead regex that
# counts the quotes after every separator was quadratic (a 120 KB value
# froze the loop for seconds).
_NEXT = {",": re.compile(r'[",]'), ";": re.compile(r'[";]')}
_IN_QUOTES = re.compile(r'["\\]')


def split_unquoted(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` ("," or ";") wherever it is not inside a quoted-string.

    A quoted-pair (backslash and any character) never ends a quoted string;
    a quote that is never closed runs to the end of the text.
    """
    find_next = _NEXT[sep].search
    find_in_quotes = _IN_QUOTES.search
    parts: list[str] = []
    start = pos = 0
    while True:
        m = find_next(text, pos)
        if m is None:
            parts.append(text[start:])
            return parts
        i = m.start()
        if text[i] == sep:
            parts.append(text[start:i])
            start = pos = i + 1
            continue
        pos = i + 1
        while True:  # inside a quoted string
            q = find_in_quotes(text, pos)
            if q is None:
                parts.append(text[start:])
                return parts
            if text[q.start()] == '"':
                pos = q.start() + 1
                break
            pos = q.start() + 2  # skip the quoted-pair


class Headers(dict):  # type: ignore[type-arg]
    """An ordered, case-insensitive collection of header fields (see module doc)."""

    __slots__ = ("_fields",)

    def __init__(self, headers: Iterable[tuple[str, Any]] | dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__()
        self._fields: list[list[str]] = []
        if headers:
            items = headers.items() if isinstance(headers, dict) else headers
            for name, value in items:
                self.append(name, value)
        for name, value in kwargs.items():
            self.append(name.replace("_", "-"), value)

    @classmethod
    def from_raw(cls, raw: Iterable[tuple[bytes, bytes]]) -> Headers:
        """Headers from the codec's ``[(lower-case name, value)]`` byte pairs.

        Field values are octets; Latin-1 maps each one to one character, so
        nothing is lost and re-encoding gives the original bytes back.
        """
        self = cls()
        fields = self._fields
        first = dict.setdefault
        for bname, bvalue in raw:
            lname = bname.decode("latin-1")
            value = bvalue.decode("latin-1")
            fields.append([lname.title(), value])
            first(self, lname, value)
        return self

    # -- lookups -------------------------------------------------------------
    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        """The first value of ``name``, or ``default``."""
        return dict.get(self, name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, name.lower())

    def has_key(self, name: str) -> bool:
        return name in self

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name`` in order (an empty list if there is none)."""
        lname = name.lower()
        return [v for n, v in self._fields if n.lower() == lname]

    def keys(self) -> list[str]:  # type: ignore[override]
        """Field names in order, duplicates included."""
        return [n for n, _ in self._fields]

    def values(self) -> list[str]:  # type: ignore[override]
        return [v for _, v in self._fields]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        """(name, value) pairs in order, duplicates included."""
        return [(n, v) for n, v in self._fields]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def elements(self, key: str) -> list[HeaderElement]:
        """The parsed elements of header ``key`` (sorted by preference for Accept*)."""
        value = self.get(key)
        if value is None:
            return []
        return header_elements(key, ", ".join(self.get_all(key)))

    # -- changes -------------------------------------------------------------
    def __setitem__(self, name: str, value: Any) -> None:
        """Replace every field ``name`` with one field (appended at the end)."""
        value = str(value)
        lname = name.lower()
        if dict.__contains__(self, lname):
            self._fields = [f for f in self._fields if f[0].lower() != lname]
        self._fields.append([name, value])
        dict.__setitem__(self, lname, value)

    def __delitem__(self, name: str) -> None:
        lname = name.lower()
        dict.__delitem__(self, lname)  # KeyError like a dict
        self._fields = [f for f in self._fields if f[0].lower() != lname]

    def pop(self, name: str, *default: Any) -> Any:  # type: ignore[override]
        lname = name.lower()
        if not dict.__contains__(self, lname):
            if default:
                return default[0]
            raise KeyError(name)
        value = dict.__getitem__(self, lname)
        del self[name]
        return value

    def append(self, name: str, value: Any) -> None:
        """Add a field, keeping those of the same name (e.g. several Set-Cookie)."""
        value = str(value)
        self._fields.append([name, value])
        dict.setdefault(self, name.lower(), value)

    add = append

    def setdefault(self, name: str, value: Any = None) -> Any:  # type: ignore[override]
        """The first value of ``name``; if there is none, add ``value`` first."""
        current = dict.get(self, name.lower())
        if current is None:
            self.append(name, value)
            return str(value)
        return current

    def update(self, other: Any = (), **kwargs: Any) -> None:  # type: ignore[override]
        items = other.items() if hasattr(other, "items") else other
        for name, value in items:
            self[name] = value
        for name, value in kwargs.items():
            self[name.replace("_", "-")] = value

    def clear(self) -> None:
        dict.clear(self)
        self._fields = []

    def copy(self) -> Headers:
        return Headers(self.items())

    def add_header(self, _name: str, _value: str | None, **_params: str | None) -> None:
        """Add a field with parameters, e.g. ``add_header("Content-Disposition", "attachment", filename="a.gif")``.

        Underscores in parameter names become dashes; a parameter whose value
        is None is written as a bare key.
        """
        parts = [] if _value is None else [_value]
        for key, val in _params.items():
            key = key.replace("_", "-")
            parts.append(key if val is None else f'{key}="{_quote(val)}"')
        self.append(_name, "; ".join(parts))

    def __repr__(self) -> str:
        return f"Headers({self.items()!r})"

    def __str__(self) -> str:
        return "".join(f"{n}: {v}\r\n" for n, v in self._fields) + "\r\n"

    def __bytes__(self) -> bytes:
        return str(self).encode("latin-1")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self.items() == other.items()
        return dict.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> Any:
        return (Headers, (self.items(),))


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _parameter(piece: str) -> tuple[str, str]:
    """'name=value' or 'name="quoted value"' as (name, value)."""
    name, _, raw = piece.partition("=")
    return name.strip(), _unquote(raw.strip())


class HeaderElement:
    """One element (with parameters) of a header's comma-separated list."""

    def __init__(self, value: str, params: dict[str, str] | None = None) -> None:
        self.value = value
        self.params = params if params is not None else {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HeaderElement) and (self.value, self.params) == (other.value, other.params)

    def __lt__(self, other: HeaderElement) -> bool:
        return self.value < other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        params = "".join(f";{k}={v}" for k, v in self.params.items())
        return f"{self.value}{params}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r}, {self.params!r})"

    @staticmethod
    def parse(elementstr: str) -> tuple[str, dict[str, str]]:
        """Split 'token;key=val' into ('token', {'key': 'val'}).

        RFC 9110 section 5.6.6: parameters follow the value after ';', a
        quoted value may itself hold ';' and is unquoted here. Empty pieces
        (';;', a trailing ';') are skipped; a parameter without '=' gets ''.
        """
        pieces = (piece.strip() for piece in split_unquoted(elementstr, ";"))
        value, *parameters = [piece for piece in pieces if piece] or [""]
        return value, dict(_parameter(piece) for piece in parameters)

    @classmethod
    def from_str(cls, elementstr: str) -> HeaderElement:
        """An instance from 'token;key=val'."""
        ival, params = cls.parse(elementstr)
        return cls(ival, params)


class AcceptElement(HeaderElement):
    """An element of an Accept* header; sorting puts the most preferred first.

    "Less than" means "more preferred": a higher qvalue wins, and on a tie the
    more specific media range wins (RFC 9110 section 12.5.1).
    """

    @classmethod
    def from_str(cls, elementstr: str) -> AcceptElement:
        qvalue = None
        # The q parameter separates media-type parameters from accept-params.
        atoms = split_unquoted(elementstr, ";")
        media = []
        for atom in atoms:
            key, _, val = atom.strip().partition("=")
            if key.strip().lower() == "q" and qvalue is None:
                qvalue = val.strip()
                continue
            media.append(atom)
        media_type, params = cls.parse(";".join(media))
        if qvalue is not None:
            params["q"] = qvalue
        return cls(media_type, params)

    @property
    def qvalue(self) -> float:
        """The qvalue (priority) of this element; malformed values count as 0."""
        try:
            q = float(self.params.get("q", "1"))
        except ValueError:
            return 0.0
        return q if 0.0 <= q <= 1.0 else 0.0

    def _specificity(self) -> int:
        value = self.value
        if value == "*/*" or value == "*":
            return 0
        if value.endswith("/*"):
            return 1
        return 2 + len([k for k in self.params if k != "q"])

    def __lt__(self, other: HeaderElement) -> bool:
        if not isinstance(other, AcceptElement):
            return NotImplemented
        return (self.qvalue, self._specificity()) > (other.qvalue, other._specificity())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AcceptElement) and (self.value, self.qvalue) == (other.value, other.qvalue)

    __hash__ = HeaderElement.__hash__


def header_elements(fieldname: str, fieldvalue: str | None) -> list[Any]:
    """The elements of a comma-separated header value (Accept* sorted by preference)."""
    if not fieldvalue:
        return []
    accept = fieldname.lower().startswith("accept") or fieldname.lower() == "te"
    cls = AcceptElement if accept else HeaderElement
    result = [cls.from_str(part) for part in split_unquoted(fieldvalue, ",") if part.strip()]
    return sorted(result) if accept else result


def parse_headers(data: str | bytes) -> tuple[Headers, str | bytes]:
    """Parse a header block ("Name: value" lines up to an empty line).

    Returns the headers and whatever follows the empty line. Continuation
    lines (obs-fold, RFC 9112 section 5.2) are joined with a space.
    """
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    head, sep, rest = text.replace("\r\n", "\n").partition("\n\n")
    headers = Headers()
    for line in head.split("\n"):
        if not line:
            continue
        if line[0] in " \t" and headers._fields:
            headers._fields[-1][1] += " " + line.strip()
            continue
        name, _, value = line.partition(":")
        headers.append(name.strip(), value.strip())
    remaining: str | bytes = rest if sep else ""
    if isinstance(data, bytes):
        remaining = remaining.encode("latin-1")  # type: ignore[union-attr]
    return headers, remaining
