"""Find the source line of every key in a TOML document.

``tomllib`` returns plain dicts with no positions, but a configuration error
is only useful if it says where to look.  This is a small scanner that walks
the text the way TOML does -- headers, ``[[array]]`` elements, dotted keys,
inline tables, multi-line arrays and strings -- and records the line on which
each key path first appears.  It runs only on text ``tomllib`` has already
accepted, so it can be lenient: it never raises and never decides validity.

Paths are tuples of keys with array indexes as ints, e.g. the third
``[[device]]`` table's ``match.vid`` is ``("device", 2, "match", "vid")``.
"""

from __future__ import annotations

import tomllib

KeyPath = tuple[str | int, ...]

_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
# A scalar (number, bool, date) ends at one of these; dates may hold a space.
_SCALAR_END = frozenset(",]}#\n")


class LineMap:
    """Key path -> 1-based line, with fallbacks for keys that are absent."""

    def __init__(self, lines: dict[KeyPath, int]) -> None:
        self._lines = lines

    def __contains__(self, path: KeyPath) -> bool:
        return path in self._lines

    def exact(self, path: KeyPath) -> int | None:
        return self._lines.get(path)

    def line(self, path: KeyPath) -> int:
        """The line of ``path``, else of its table, else 1.

        A missing key is reported on the line of the table that should hold
        it; a table that only exists implicitly (``[web.users]`` without
        ``[web]``) is found through its first child.
        """
        while path:
            found = self._lines.get(path)
            if found is not None:
                return found
            n = len(path)
            children = [line for p, line in self._lines.items() if p[:n] == path]
            if children:
                return min(children)
            path = path[:-1]
        return 1


def locate(text: str) -> LineMap:
    """Scan ``text`` (already valid TOML) and map key paths to lines."""
    scanner = _Scanner(text)
    try:
        scanner.document()
    except (IndexError, ValueError, tomllib.TOMLDecodeError):
        # Only line numbers are lost; validation itself still works.
        pass
    return LineMap(scanner.lines)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text.replace("\r\n", "\n")
        self.pos = 0
        self.lineno = 1
        self.lines: dict[KeyPath, int] = {}
        self.table: KeyPath = ()
        # Current element index of every array of tables seen, keyed by its
        # concrete path, so a nested [[a.b]] attaches to the latest [[a]].
        self.array_index: dict[KeyPath, int] = {}

    # -- low level -------------------------------------------------------

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def advance(self, n: int = 1) -> None:
        self.lineno += self.text.count("\n", self.pos, self.pos + n)
        self.pos += n

    def skip_blank(self, newlines: bool) -> None:
        """Skip spaces and tabs, and comments and newlines when allowed."""
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c in " \t":
                self.advance()
            elif c == "#":
                end = self.text.find("\n", self.pos)
                self.advance((len(self.text) if end < 0 else end) - self.pos)
            elif c == "\n" and newlines:
                self.advance()
            else:
                return

    def record(self, path: KeyPath, line: int) -> None:
        # First occurrence wins: that is where a reader expects the definition.
        self.lines.setdefault(path, line)

    # -- grammar ---------------------------------------------------------

    def document(self) -> None:
        while True:
            self.skip_blank(newlines=True)
            if self.pos >= len(self.text):
                return
            start = self.pos
            if self.peek(2) == "[[":
                self.header(array=True)
            elif self.peek() == "[":
                self.header(array=False)
            else:
                self.keyval(self.table)
            if self.pos == start:
                self.advance()  # unknown construct: never loop forever

    def header(self, array: bool) -> None:
        line = self.lineno
        self.advance(2 if array else 1)
        self.skip_blank(newlines=False)
        keys = self.key()
        self.skip_blank(newlines=False)
        self.advance(2 if array else 1)
        concrete: KeyPath = ()
        for k in keys[:-1]:
            concrete += (k,)
            if concrete in self.array_index:
                concrete += (self.array_index[concrete],)
        last = concrete + (keys[-1],)
        self.record(last, line)
        if array:
            index = self.array_index.get(last, -1) + 1
            self.array_index[last] = index
            self.table = last + (index,)
            self.record(self.table, line)
        else:
            self.table = last

    def key(self) -> list[str]:
        parts = [self.simple_key()]
        while True:
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                return parts
            self.advance()
            self.skip_blank(newlines=False)
            parts.append(self.simple_key())

    def simple_key(self) -> str:
        c = self.peek()
        if c in ('"', "'"):
            start = self.pos
            self.string()
            raw = self.text[start : self.pos]
            # Let tomllib decode escapes rather than re-implementing them.
            return str(tomllib.loads(f"k = {raw}")["k"])
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _BARE_KEY:
            self.pos += 1
        if self.pos == start:
            raise ValueError("expected a key")
        return self.text[start : self.pos]

    def keyval(self, table: KeyPath) -> None:
        line = self.lineno
        keys = self.key()
        path = table
        for k in keys:
            path += (k,)
            self.record(path, line)
        self.skip_blank(newlines=False)
        if self.peek() != "=":
            raise ValueError("expected '='")
        self.advance()
        self.skip_blank(newlines=False)
        self.value(path)

    def value(self, path: KeyPath) -> None:
        c = self.peek()
        if c in ('"', "'"):
            self.string()
        elif c == "[":
            self.array(path)
        elif c == "{":
            self.inline_table(path)
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in _SCALAR_END:
                self.pos += 1

    def string(self) -> None:
        quote = self.peek()
        if self.peek(3) == quote * 3:
            self.advance(3)
            while self.peek(3) != quote * 3:
                if self.pos >= len(self.text):
                    raise ValueError("unterminated string")
                self.advance(2 if quote == '"' and self.peek() == "\\" else 1)
            self.advance(3)
            # Up to two quotes may directly precede the closing delimiter
            # (TOML 1.0 "Strings"); they belong to the content.
            for _ in range(2):
                if self.peek() == quote:
                    self.advance()
            return
        self.advance()
        while self.peek() != quote:
            if self.pos >= len(self.text) or self.peek() == "\n":
                raise ValueError("unterminated string")
            self.advance(2 if quote == '"' and self.peek() == "\\" else 1)
        self.advance()

    def array(self, path: KeyPath) -> None:
        self.advance()
        index = 0
        while True:
            self.skip_blank(newlines=True)
            if self.pos >= len(self.text):
                raise ValueError("unterminated array")
            if self.peek() == "]":
                self.advance()
                return
            item = path + (index,)
            self.record(item, self.lineno)
            self.value(item)
            index += 1
            self.skip_blank(newlines=True)
            if self.peek() == ",":
                self.advance()

    def inline_table(self, path: KeyPath) -> None:
        self.advance()
        while True:
            self.skip_blank(newlines=True)
            if self.pos >= len(self.text):
                raise ValueError("unterminated inline table")
            if self.peek() == "}":
                self.advance()
                return
            self.keyval(path)
            self.skip_blank(newlines=True)
            if self.peek() == ",":
                self.advance()
