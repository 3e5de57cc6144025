"""Tools for controllers and request handlers.

Authentication (``basic_auth``, ``check_auth``, ``digest_auth``), caching
(``expires``, ``validate_etags``, ``validate_since``), files
(``serve_file``, ``serve_download``) and ``gzip``.
"""

from __future__ import annotations

import gzip as _gzip
from collections.abc import Iterable
from typing import Any

from .auth import basic_auth, check_auth, digest_auth
from .caching import expires, validate_etags, validate_since
from .files import serve_download, serve_file
from .utils import compress
from .wrappers import file_generator

__all__ = ["basic_auth", "check_auth", "digest_auth", "expires", "gzip", "serve_download", "serve_file",
           "validate_etags", "validate_since"]


def gzip(response: Any, level: int = 4, mime_types: Iterable[str] = ("text/html", "text/plain")) -> Any:
    """Gzip the response body if its Content-Type is in ``mime_types`` and the client accepts gzip.

    Nothing is done when the client sent no Accept-Encoding, when neither
    gzip nor x-gzip is acceptable (q > 0), or when identity is preferred.
    Streamed bodies are compressed as they stream. Returns the response.
    """
    request = response.request
    headers = response.headers
    if response.code < 200 or response.code in (204, 206, 304) or "Content-Encoding" in headers:
        return response
    ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype not in mime_types:
        return response
    accepted = request.headers.elements("Accept-Encoding")
    if not accepted:
        return response
    for coding in accepted:  # most preferred first
        if coding.qvalue <= 0:
            continue
        if coding.value == "identity":
            return response
        if coding.value in ("gzip", "x-gzip"):
            break
    else:
        return response
    body = response.body
    if isinstance(body, str):
        body = body.encode(response.encoding)
    if isinstance(body, (bytes, bytearray)):
        response.body = _gzip.compress(bytes(body), level)
    elif isinstance(body, (list, tuple)):
        response.body = _gzip.compress(b"".join(
            x.encode(response.encoding) if isinstance(x, str) else x for x in body), level)
    elif hasattr(body, "read"):
        response.body = compress(file_generator(body), level, response.encoding)
    elif body is not None:
        response.body = compress(body, level, response.encoding)
    headers["Content-Encoding"] = "gzip"
    vary = headers.get("Vary")
    if not vary:
        headers["Vary"] = "Accept-Encoding"
    elif "accept-encoding" not in vary.lower():
        headers["Vary"] = vary + ", Accept-Encoding"
    if "Content-Length" in headers:
        del headers["Content-Length"]
    return response
