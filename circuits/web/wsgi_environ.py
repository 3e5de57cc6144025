"""Translating between circuits.web wrappers and WSGI (PEP 3333) dictionaries.

``environ_for(request)`` builds the environ a WSGI application expects from
a circuits :class:`~circuits.web.wrappers.Request`; ``request_from(environ)``
goes the other way. Both follow PEP 3333's "native strings": header values
and paths are ``str`` holding bytes decoded as Latin-1.
"""

from __future__ import annotations

import io
import sys
from typing import IO, Any
from urllib.parse import unquote_to_bytes

from .headers import Headers
from .wrappers import Host, Request

__all__ = ["HOP_BY_HOP", "environ_for", "read_input", "request_from"]

#: Hop-by-hop fields (RFC 9110 section 7.6.1): a WSGI application must not
#: set them (PEP 3333, "Other HTTP Features"), the server owns them.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "te", "trailers", "transfer-encoding", "upgrade"})


def _latin1(text: str) -> str:
    """Re-express a str as PEP 3333 bytes-as-Latin-1 (UTF-8 encoded first)."""
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8").decode("latin-1")


def environ_for(request: Request, script_name: str = "", path_info: str | None = None,
                multithread: bool = False) -> dict[str, Any]:
    """The WSGI environ for ``request``, mounted at ``script_name``.

    ``PATH_INFO`` is the *decoded* path below the mount point (PEP 3333 /
    CGI RFC 3875 section 4.1.5), taken from the raw request-target so that
    non-UTF-8 octets survive.
    """
    target = getattr(request, "target", None) or request.path
    raw_path = target.split("?", 1)[0]
    full = unquote_to_bytes(raw_path).decode("latin-1") if raw_path.startswith("/") else _latin1(request.path)
    if path_info is None:
        prefix = _latin1(script_name)
        path_info = full[len(prefix):] if full.startswith(prefix) else full
    local = request.local
    remote = request.remote
    host_header = request.headers.get("Host", "")
    server_name, _, server_port = host_header.rpartition(":") if host_header.count(":") == 1 else (
        host_header, "", "")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": _latin1(script_name),
        "PATH_INFO": path_info,
        "QUERY_STRING": request.qs or "",
        "SERVER_NAME": server_name or local.name or "localhost",
        "SERVER_PORT": str(server_port or local.port or (443 if request.scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/{}.{}".format(*request.protocol),
        "REMOTE_ADDR": remote.ip,
        "REMOTE_PORT": str(remote.port),
        "REQUEST_URI": target,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": request.scheme,
        "wsgi.input": request.body,
        "wsgi.errors": sys.stderr,
        # Applications run inline on the loop's thread, one at a time.
        "wsgi.multithread": multithread,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if remote.name and remote.name != remote.ip:
        environ["REMOTE_HOST"] = remote.name
    if getattr(request, "login", None):
        environ["REMOTE_USER"] = request.login
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE" or key == "CONTENT_LENGTH":
            environ[key] = value
            continue
        if "_" in name:
            # A field name with "_" would collide with its "-" twin once
            # converted (a header-smuggling trick): drop it, as most servers do.
            continue
        key = "HTTP_" + key
        # RFC 9110 section 5.3: repeated fields combine with ", ".
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    if "CONTENT_LENGTH" not in environ:
        body = request.body
        try:
            size = len(body.getbuffer()) if isinstance(body, io.BytesIO) else None
        except (AttributeError, ValueError):
            size = None
        if size:
            environ["CONTENT_LENGTH"] = str(size)
    return environ


def read_input(environ: dict[str, Any], limit: int | None = None) -> IO[bytes]:
    """The request body from ``wsgi.input``, read up to CONTENT_LENGTH.

    A WSGI server's input must not be read past CONTENT_LENGTH (it may block
    on the socket), so exactly that many bytes are copied.
    """
    stream = environ.get("wsgi.input")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if limit is not None and length > limit:
        raise ValueError(f"request body of {length} bytes exceeds {limit}")
    body = io.BytesIO()
    while stream is not None and length > 0:
        data = stream.read(min(length, 65536))
        if not data:
            break
        body.write(data)
        length -= len(data)
    body.seek(0)
    return body


def request_from(environ: dict[str, Any], max_body: int | None = None) -> Request:
    """A circuits Request for a WSGI environ (see :class:`~circuits.web.wsgi.Application`)."""
    headers = Headers()
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append(key[5:].replace("_", "-").title(), value)
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["Content-Length"] = environ["CONTENT_LENGTH"]
    protocol_text = environ.get("SERVER_PROTOCOL", "HTTP/1.1")
    try:
        major, minor = protocol_text.split("/", 1)[1].split(".", 1)
        protocol = (int(major), int(minor))
    except (IndexError, ValueError):
        protocol = (1, 1)
    # PATH_INFO is bytes-as-Latin-1; the circuits path is text (UTF-8).
    raw = environ.get("PATH_INFO", "").encode("latin-1")
    path = raw.decode("utf-8", "replace") or "/"
    script_name = environ.get("SCRIPT_NAME", "")
    request = Request(None, environ.get("REQUEST_METHOD", "GET"), environ.get("wsgi.url_scheme", "http"),
                      path, protocol, environ.get("QUERY_STRING", ""), headers=headers)
    request.script_name = script_name.encode("latin-1").decode("utf-8", "replace")
    request.remote = Host(environ.get("REMOTE_ADDR", ""), int(environ.get("REMOTE_PORT") or 0),
                          environ.get("REMOTE_HOST"))
    request.local = Host(environ.get("SERVER_NAME", ""), int(environ.get("SERVER_PORT") or 0))
    request.body = read_input(environ, max_body)
    return request
