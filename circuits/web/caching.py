"""Conditional requests and cache headers (RFC 9110 section 13, RFC 9111).

``validate_etags`` and ``validate_since`` return the error or redirect
event to answer with (304 Not Modified or 412 Precondition Failed), or
None when the request should be served normally.
"""

from __future__ import annotations

import datetime
from typing import Any

from .errors import httperror, redirect
from .httpdate import parse_http_date
from .output import http_date

__all__ = ["expires", "validate_etags", "validate_since"]


def _etag_list(value: str) -> list[str]:
    return [tag.strip() for tag in value.split(",") if tag.strip()]


def _weak_equal(a: str, b: str) -> bool:
    # Weak comparison (RFC 9110 section 8.8.3.2): W/ prefixes do not matter.
    return a.removeprefix("W/") == b.removeprefix("W/")


def validate_etags(request: Any, response: Any, autotags: bool = False) -> Any:
    """Check If-Match / If-None-Match against the response's ETag.

    With ``autotags`` an ETag is made from an MD5 of a bytes/str body if
    none is set (only sensible for GET).
    """
    headers = response.headers
    etag = headers.get("ETag")
    if etag is None and autotags and response.code == 200:
        body = response.body
        if isinstance(body, str):
            body = body.encode(response.encoding)
        if isinstance(body, bytes):
            import hashlib  # here: OpenSSL's libcrypto is ~3.7 MB, for autotags only

            etag = f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
            headers["ETag"] = etag
    if etag is None or not 200 <= response.code <= 299:
        return None
    rheaders = request.headers
    if_match = rheaders.get("If-Match")
    if if_match is not None:
        tags = _etag_list(if_match)
        # Strong comparison for If-Match (RFC 9110 section 13.1.1).
        if "*" not in tags and (etag.startswith("W/") or etag not in tags):
            return httperror(request, response, 412)
    if_none_match = rheaders.get("If-None-Match")
    if if_none_match is not None:
        tags = _etag_list(if_none_match)
        if "*" in tags or any(_weak_equal(etag, tag) for tag in tags):
            if request.method in ("GET", "HEAD"):
                return redirect(request, response, [], code=304)
            return httperror(request, response, 412)
    return None


def _parse_date(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    return parse_http_date(value)


def validate_since(request: Any, response: Any) -> Any:
    """Check If-Modified-Since / If-Unmodified-Since against Last-Modified."""
    last_modified = _parse_date(response.headers.get("Last-Modified"))
    if last_modified is None:
        return None
    rheaders = request.headers
    if not 200 <= response.code <= 299:
        return None
    unmodified_since = _parse_date(rheaders.get("If-Unmodified-Since"))
    if unmodified_since is not None and last_modified > unmodified_since:
        return httperror(request, response, 412)
    # If-None-Match takes precedence over If-Modified-Since (RFC 9110 section 13.1.3).
    if "If-None-Match" in rheaders:
        return None
    modified_since = _parse_date(rheaders.get("If-Modified-Since"))
    if modified_since is not None and last_modified <= modified_since and request.method in ("GET", "HEAD"):
        return redirect(request, response, [], code=304)
    return None


def expires(request: Any, response: Any, secs: Any = 0, force: bool = False) -> None:
    """Set Expires (and, for 0, the no-cache headers) unless caching headers exist.

    ``secs`` is an int or a timedelta from ``response.time``. With
    ``force=False`` nothing is changed when ETag, Last-Modified, Age or
    Expires is already set.
    """
    headers = response.headers
    if not force and any(name in headers for name in ("ETag", "Last-Modified", "Age", "Expires")):
        return
    if isinstance(secs, datetime.timedelta):
        secs = secs.total_seconds()
    if secs == 0:
        if force or "Pragma" not in headers:
            headers["Pragma"] = "no-cache"
        if force or "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-cache, must-revalidate"
        # Well in the past, so even clocks that are off treat it as expired.
        headers["Expires"] = http_date(response.time - 365 * 24 * 3600)
    else:
        headers["Expires"] = http_date(response.time + secs)
