"""Form data: query strings, urlencoded bodies and multipart/form-data.

Multipart bodies are parsed as a stream from the request's body file:
file parts go straight into anonymous temporary files on disk, in pieces,
so an upload is never held in memory as a whole. The number of fields, the
size of plain (non-file) fields and of each part's header block are
bounded, and so is an urlencoded body: forms are parsed on the loop, so
the work one request can cause in one pass must stay small.
"""

from __future__ import annotations

import io
import re
from typing import IO, Any
from urllib.parse import parse_qsl, unquote

from .exceptions import BadRequest, RequestEntityTooLarge
from .headers import HeaderElement, parse_headers

__all__ = ["MAX_FIELDS", "UploadedFile", "parse_body", "parse_multipart", "parse_qs"]

#: Most fields one query string or form may carry (hash-flooding / CPU bound).
MAX_FIELDS = 1000
#: Largest non-file field of a multipart form, in bytes.
MAX_FIELD_SIZE = 1024 * 1024
#: Largest header block of one multipart part, in bytes.
MAX_PART_HEADERS = 16 * 1024
#: Largest urlencoded body parsed (it is decoded whole, on the loop).
MAX_URLENCODED = 1024 * 1024
_CHUNK = 64 * 1024
#: RFC 2046 section 5.1.1: 1 to 70 characters, last not a space.
_BOUNDARY = re.compile(r"^[ -~]{0,69}[!-~]$")


def parse_qs(query_string: str, keep_blank_values: bool = True, encoding: str = "utf-8") -> dict[str, Any]:
    """A params dict from a query string: one value -> str, repeated -> list."""
    result: dict[str, Any] = {}
    if not query_string:
        return result
    try:
        pairs = parse_qsl(query_string, keep_blank_values=keep_blank_values, encoding=encoding,
                          max_num_fields=MAX_FIELDS)
    except ValueError as e:
        raise BadRequest(f"Too many fields: {e}") from None
    for key, value in pairs:
        _add(result, key, value)
    return result


def _add(params: dict[str, Any], key: str, value: Any) -> None:
    current = params.get(key)
    if current is None:
        params[key] = value
    elif isinstance(current, list):
        current.append(value)
    else:
        params[key] = [current, value]


class UploadedFile:
    """One uploaded file: ``name`` (the form field), ``filename``, ``type``, ``file``.

    ``file`` is a binary temporary file positioned at the start. ``value``
    reads it all (only do that for small files).
    """

    def __init__(self, name: str, filename: str, content_type: str, headers: Any, file: IO[bytes]) -> None:
        self.name = name
        self.filename = filename
        self.type = content_type
        self.content_type = content_type
        self.headers = headers
        self.file = file

    @property
    def value(self) -> bytes:
        self.file.seek(0)
        data = self.file.read()
        self.file.seek(0)
        return data

    @property
    def size(self) -> int:
        pos = self.file.tell()
        self.file.seek(0, io.SEEK_END)
        size = self.file.tell()
        self.file.seek(pos)
        return size

    def save(self, path: str) -> None:
        """Copy the upload to ``path`` in pieces."""
        self.file.seek(0)
        with open(path, "wb") as out:
            while chunk := self.file.read(_CHUNK):
                out.write(chunk)
        self.file.seek(0)

    def __repr__(self) -> str:
        return f"<UploadedFile {self.name!r} {self.filename!r} {self.type!r}>"


def parse_multipart(fp: IO[bytes], boundary: str, encoding: str = "utf-8") -> dict[str, Any]:
    """Parse a multipart/form-data body from ``fp`` (RFC 7578)."""
    if not _BOUNDARY.match(boundary):
        raise BadRequest("Invalid multipart boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    reader = _Reader(fp)
    params: dict[str, Any] = {}
    # Skip the preamble up to the first delimiter.
    if not reader.skip_to(delimiter):
        raise BadRequest("Multipart body without a boundary")
    count = 0
    part_end = b"\r\n" + delimiter
    while True:
        tail = reader.read_exact(2)
        if tail == b"--":
            return params  # close-delimiter: the epilogue is ignored
        if tail != b"\r\n":
            raise BadRequest("Malformed multipart body")
        count += 1
        if count > MAX_FIELDS:
            raise BadRequest("Too many multipart fields")
        raw_headers = reader.read_until(b"\r\n\r\n", MAX_PART_HEADERS)
        if raw_headers is None:
            raise BadRequest(f"Multipart part headers missing or larger than {MAX_PART_HEADERS} bytes")
        headers, _ = parse_headers(raw_headers + b"\r\n\r\n")
        disposition = HeaderElement.from_str(headers.get("Content-Disposition", ""))
        name = disposition.params.get("name")
        filename = disposition.params.get("filename")
        if filename is None and "filename*" in disposition.params:
            filename = _rfc5987(disposition.params["filename*"])
        if filename is not None:
            import tempfile  # here: with shutil, bz2, lzma and random ~0.9 MB, for file uploads only

            sink: IO[bytes] = tempfile.TemporaryFile()
            if not reader.copy_until(part_end, sink, None):
                raise BadRequest("Truncated multipart body")
            sink.seek(0)
            value: Any = UploadedFile(name or "", filename, headers.get("Content-Type", "application/octet-stream"),
                                      headers, sink)
        else:
            buffer = io.BytesIO()
            if not reader.copy_until(part_end, buffer, MAX_FIELD_SIZE):
                raise BadRequest("Truncated multipart body")
            charset = HeaderElement.from_str(headers.get("Content-Type", "")).params.get("charset", encoding)
            try:
                value = buffer.getvalue().decode(charset)
            except (LookupError, UnicodeDecodeError):
                raise BadRequest(f"Field {name!r} is not valid {charset}") from None
        if name is not None:
            _add(params, name, value)


def _rfc5987(value: str) -> str:
    charset, _, rest = value.partition("'")
    _, _, encoded = rest.partition("'")
    return unquote(encoded, encoding=charset or "utf-8", errors="replace")


class _Reader:
    """Buffered reading from a file with delimiter searches that span chunks."""

    def __init__(self, fp: IO[bytes]) -> None:
        self.fp = fp
        self.buf = b""
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        data = self.fp.read(_CHUNK)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n and self._fill():
            pass
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def skip_to(self, delimiter: bytes) -> bool:
        while True:
            pos = self.buf.find(delimiter)
            if pos >= 0:
                self.buf = self.buf[pos + len(delimiter):]
                return True
            self.buf = self.buf[-len(delimiter):]
            if not self._fill():
                return False

    def read_until(self, delimiter: bytes, limit: int) -> bytes | None:
        """The bytes before ``delimiter`` (consumed), or None past ``limit`` bytes or at the end.

        The limit holds however the bytes were read: a delimiter found
        beyond ``limit`` in one large read does not make the block acceptable.
        """
        while True:
            pos = self.buf.find(delimiter, 0, limit + len(delimiter))
            if pos >= 0:
                data = self.buf[:pos]
                self.buf = self.buf[pos + len(delimiter):]
                return data
            if len(self.buf) >= limit + len(delimiter) or not self._fill():
                return None

    def copy_until(self, delimiter: bytes, sink: IO[bytes], limit: int | None) -> bool:
        """Copy bytes up to ``delimiter`` into ``sink`` (consuming the delimiter)."""
        keep = len(delimiter) - 1
        written = 0
        while True:
            pos = self.buf.find(delimiter)
            if pos >= 0:
                written += pos
                if limit is not None and written > limit:
                    raise RequestEntityTooLarge("A form field is too large")
                sink.write(self.buf[:pos])
                self.buf = self.buf[pos + len(delimiter):]
                return True
            # Everything but a possible delimiter prefix at the end is data.
            if len(self.buf) > keep:
                cut = len(self.buf) - keep
                written += cut
                if limit is not None and written > limit:
                    raise RequestEntityTooLarge("A form field is too large")
                sink.write(self.buf[:cut])
                self.buf = self.buf[cut:]
            if not self._fill():
                return False


def parse_body(request: Any, response: Any = None, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Add the fields of an urlencoded or multipart body to ``params`` (returned)."""
    if params is None:
        params = {}
    ctype = request.headers.get("Content-Type")
    if not ctype:
        return params
    element = HeaderElement.from_str(ctype)
    mtype = element.value.lower()
    charset = element.params.get("charset", "utf-8")
    body = request.body
    if mtype == "application/x-www-form-urlencoded":
        data = body.read(MAX_URLENCODED + 1)
        if len(data) > MAX_URLENCODED:
            raise RequestEntityTooLarge(f"An urlencoded form is at most {MAX_URLENCODED} bytes")
        body.seek(0)
        try:
            text = data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            raise BadRequest("The form data is not valid " + charset) from None
        for key, value in parse_qs(text, encoding=charset).items():
            params[key] = value
    elif mtype == "multipart/form-data":
        boundary = element.params.get("boundary", "").strip('"')
        for key, value in parse_multipart(body, boundary, charset).items():
            params[key] = value
        body.seek(0)
    return params
