"""Serving files: type, caching validators, conditional and range requests.

The file is opened first and described with ``fstat`` of the open file
(no window between checking and opening). The body is the open file (or a
generator over the requested ranges); the HTTP component streams it with
backpressure, so files of any size are never read into memory.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Generator, Iterator
from typing import IO, Any
from urllib.parse import quote

from .caching import validate_etags, validate_since
from .errors import forbidden, httperror, notfound
from .output import http_date
from .utils import get_ranges

__all__ = ["guess_type", "serve_download", "serve_file"]

_CHUNK = 64 * 1024


def guess_type(path: str) -> str:
    import mimetypes  # here: its tables (read from /etc/mime.types) are ~0.5 MB, for untyped files only

    ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
        ctype += "; charset=utf-8"
    return ctype


def _disposition(disposition: str, name: str) -> str:
    if name.isascii() and '"' not in name and "\\" not in name:
        return f'{disposition}; filename="{name}"'
    # RFC 6266 / RFC 8187: a non-ASCII name goes in filename*.
    fallback = name.encode("ascii", "replace").decode("ascii").replace('"', "_").replace("\\", "_")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _read_range(f: IO[bytes], start: int, stop: int) -> Generator[bytes, None, bool]:
    """Bytes start..stop of ``f`` in chunks; returns False if the file was shorter."""
    f.seek(start)
    left = stop - start
    while left > 0:
        data = f.read(min(_CHUNK, left))
        if not data:
            return False
        left -= len(data)
        yield data
    return True


def _range_reader(f: IO[bytes], start: int, stop: int) -> Iterator[bytes]:
    try:
        yield from _read_range(f, start, stop)
    finally:
        f.close()


def _multipart_ranges(f: IO[bytes], ranges: list[tuple[int, int]], size: int, ctype: str,
                      boundary: str) -> tuple[Iterator[bytes], int]:
    """A multipart/byteranges body (RFC 9110 section 14.6) and its length."""
    heads = [
        (f"--{boundary}\r\nContent-Type: {ctype}\r\nContent-Range: bytes {a}-{b - 1}/{size}\r\n\r\n").encode()
        for a, b in ranges
    ]
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = sum(len(h) + (b - a) for h, (a, b) in zip(heads, ranges, strict=True))
    length += 2 * (len(ranges) - 1) + len(tail)

    def body() -> Iterator[bytes]:
        try:
            for i, (head, (a, b)) in enumerate(zip(heads, ranges, strict=True)):
                yield (b"\r\n" if i else b"") + head
                if not (yield from _read_range(f, a, b)):
                    return  # the file shrank: stop rather than send a wrong body
            yield tail
        finally:
            f.close()

    return body(), length


def serve_file(request: Any, response: Any, path: str, type: str | None = None,  # noqa: A002
               disposition: str | None = None, name: str | None = None) -> Any:
    """Set status, headers and body to serve the file at ``path``.

    Returns the response, or the error/redirect event to answer with
    (404 missing, 403 unreadable, 304 not modified, 412, 416).
    """
    if not os.path.isabs(path):
        raise ValueError(f"{path!r} is not an absolute path")
    try:
        f = open(path, "rb")  # noqa: SIM115 - handed to the response, closed when sent
    except FileNotFoundError:
        return notfound(request, response)
    except IsADirectoryError:
        return notfound(request, response)
    except OSError:
        return forbidden(request, response)
    st = os.fstat(f.fileno())
    if not stat.S_ISREG(st.st_mode):
        f.close()
        return notfound(request, response)
    headers = response.headers
    headers["Last-Modified"] = http_date(st.st_mtime)
    headers["ETag"] = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
    headers["Accept-Ranges"] = "bytes"
    answer = validate_etags(request, response) or validate_since(request, response)
    if answer is not None:
        f.close()
        return answer
    ctype = type or guess_type(path)
    headers["Content-Type"] = ctype
    if disposition is not None:
        headers["Content-Disposition"] = _disposition(disposition, name or os.path.basename(path))
    size = st.st_size
    range_header = request.headers.get("Range") if request.method in ("GET", "HEAD") else None
    if range_header and _if_range_ok(request, response, st.st_mtime):
        ranges = get_ranges(range_header, size)
        if ranges == []:
            f.close()
            headers["Content-Range"] = f"bytes */{size}"
            return httperror(request, response, 416)
        if ranges:
            response.status = 206
            if len(ranges) == 1:
                start, stop = ranges[0]
                headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
                headers["Content-Length"] = str(stop - start)
                response.body = _range_reader(f, start, stop)
            else:
                import secrets  # here: it imports hmac, i.e. OpenSSL (~3.7 MB); multipart ranges only

                boundary = secrets.token_hex(16)
                body, length = _multipart_ranges(f, ranges, size, ctype, boundary)
                headers["Content-Type"] = f"multipart/byteranges; boundary={boundary}"
                headers["Content-Length"] = str(length)
                response.body = body
            return response
    headers["Content-Length"] = str(size)
    response.body = f
    return response


def _if_range_ok(request: Any, response: Any, mtime: float) -> bool:
    """If-Range (RFC 9110 section 13.1.5): honour Range only if the validator still matches."""
    if_range = request.headers.get("If-Range")
    if not if_range:
        return True
    if if_range.startswith('"') or if_range.startswith("W/"):
        return if_range == response.headers.get("ETag")
    return if_range == response.headers.get("Last-Modified")


def serve_download(request: Any, response: Any, path: str, name: str | None = None) -> Any:
    """Serve ``path`` as an application/x-download attachment."""
    return serve_file(request, response, path, "application/x-download", "attachment", name)
