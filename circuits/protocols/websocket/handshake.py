"""RFC 6455 opening handshake helpers (section 4), for both ends.

These only compute and validate; building and parsing the HTTP messages
around them is the HTTP layer's job (except :func:`client_handshake_request`
and :func:`server_handshake_response`, which produce complete heads for
convenience).  Header collections may be a mapping or an iterable of
``(name, value)`` pairs, with ``str`` or ``bytes`` items; names compare
case-insensitively and repeated fields are combined with ``", "``
(RFC 9110 section 5.3).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable, Mapping, Sequence

try:
    # CPython's own SHA-1 (the same digest): hashlib would load OpenSSL's
    # libcrypto, ~3.7 MB of a server's memory for one hash per connection
    # (issue 15). Builds without the built-in hashes fall back to hashlib.
    from _sha1 import sha1
except ImportError:  # pragma: no cover - such a build
    from hashlib import sha1

from .errors import HandshakeError

__all__ = [
    "WEBSOCKET_GUID",
    "WEBSOCKET_VERSION",
    "Headers",
    "accept_key",
    "client_handshake_request",
    "generate_client_key",
    "server_handshake_response",
    "validate_client_handshake",
    "validate_server_response",
]

# Section 1.3 / 4.2.2: the GUID appended to the client's key.
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# Section 4.1 item 9 / 4.2.1 item 6: the only version this codec speaks.
WEBSOCKET_VERSION = "13"

Headers = Mapping[str, str] | Mapping[bytes, bytes] | Iterable[tuple[str | bytes, str | bytes]]

# RFC 9110 section 5.6.2: token = 1*tchar.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_UNSAFE = re.compile(r"[\x00\r\n]")


def accept_key(client_key: str) -> str:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key`` (section 4.2.2 item 5.4).

    base64(SHA-1(key + GUID)); the key is used as sent, not base64-decoded.
    """
    digest = sha1((client_key.strip() + WEBSOCKET_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def generate_client_key() -> str:
    """A fresh ``Sec-WebSocket-Key``: "a randomly selected 16-byte value that
    has been base64-encoded" (section 4.1 item 7), chosen per connection."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def _text(item: str | bytes) -> str:
    return item.decode("latin-1") if isinstance(item, bytes) else item


def _normalize(headers: Headers) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for raw_name, raw_value in items:
        name = _text(raw_name).strip().lower()
        value = _text(raw_value).strip()
        # RFC 9110 section 5.3: repeated fields combine into a list.
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _tokens(value: str) -> set[str]:
    """Comma-separated list elements, lower-cased (RFC 9110 section 5.6.1)."""
    return {item.strip().lower() for item in value.split(",") if item.strip()}


_UPGRADE_REQUIRED = (("Upgrade", "websocket"), ("Sec-WebSocket-Version", WEBSOCKET_VERSION))


def validate_client_handshake(method: str | bytes, headers: Headers) -> str:
    """Check a client's opening handshake (section 4.2.1); return its key.

    Raises :class:`HandshakeError` whose ``status`` and ``headers`` form the
    refusal: 426 Upgrade Required (with ``Upgrade`` and
    ``Sec-WebSocket-Version``, section 4.4 and RFC 9110 section 15.5.22) when
    the request is not a WebSocket upgrade or asks for another version, 400
    Bad Request for a malformed one.
    """
    # Section 4.2.1 item 1: "An HTTP/1.1 or higher GET request".  Method
    # names are case-sensitive (RFC 9110 section 9.1).
    if _text(method) != "GET":
        raise HandshakeError("WebSocket handshake must use GET", 400)
    h = _normalize(headers)
    # Item 3: "An |Upgrade| header field containing the value "websocket",
    # treated as an ASCII case-insensitive value."
    if "websocket" not in _tokens(h.get("upgrade", "")):
        raise HandshakeError("missing 'Upgrade: websocket'", 426, _UPGRADE_REQUIRED)
    # Item 6: "A |Sec-WebSocket-Version| header field, with a value of 13";
    # section 4.4: otherwise answer with the versions we support.
    if h.get("sec-websocket-version") != WEBSOCKET_VERSION:
        raise HandshakeError("unsupported Sec-WebSocket-Version", 426, _UPGRADE_REQUIRED)
    # Item 2: "A |Host| header field".
    if not h.get("host"):
        raise HandshakeError("missing Host header", 400)
    # Item 4: "A |Connection| header field that includes the token
    # "Upgrade", treated as an ASCII case-insensitive value."
    if "upgrade" not in _tokens(h.get("connection", "")):
        raise HandshakeError("Connection header lacks the 'Upgrade' token", 400)
    # Item 5: "A |Sec-WebSocket-Key| header field with a base64-encoded
    # value that, when decoded, is 16 bytes in length."
    key = h.get("sec-websocket-key")
    if key is None:
        raise HandshakeError("missing Sec-WebSocket-Key", 400)
    try:
        decoded = base64.b64decode(key.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise HandshakeError("Sec-WebSocket-Key is not base64", 400) from None
    if len(decoded) != 16:
        raise HandshakeError("Sec-WebSocket-Key does not decode to 16 bytes", 400)
    return key


def _check_header_items(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for name, value in items:
        if not _TOKEN.match(name):
            raise ValueError(f"invalid header name {name!r}")
        if _UNSAFE.search(value):
            raise ValueError(f"invalid characters in header {name!r}")
        out.append((name, value))
    return out


def _head(start_line: str, fields: Sequence[tuple[str, str]]) -> bytes:
    lines = [start_line, *(f"{name}: {value}" for name, value in fields), "", ""]
    # Header fields are ASCII in practice (RFC 9110 section 5.5); refuse others.
    return "\r\n".join(lines).encode("ascii")


def client_handshake_request(
    host: str,
    path: str = "/",
    extra_headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    *,
    subprotocols: Sequence[str] = (),
) -> tuple[bytes, str]:
    """Build a client's opening handshake (section 4.1); return ``(request, key)``.

    ``host`` is the Host header value (with ``:port`` if not the default);
    ``path`` the resource name, starting with ``/`` (section 3).  Keep the
    key to check the server's answer with :func:`validate_server_response`.
    """
    if not host or _UNSAFE.search(host) or any(c in host for c in " /?#"):
        raise ValueError(f"invalid host {host!r}")
    if not path.startswith("/") or _UNSAFE.search(path) or " " in path or "#" in path:
        # Section 3: the resource name has no fragment; the request line
        # has no spaces inside the request target (RFC 9112 section 3).
        raise ValueError(f"invalid resource name {path!r}")
    for protocol in subprotocols:
        if not _TOKEN.match(protocol):
            raise ValueError(f"invalid subprotocol {protocol!r}")
    items = extra_headers.items() if isinstance(extra_headers, Mapping) else extra_headers
    extra = _check_header_items(items)
    key = generate_client_key()
    fields = [
        ("Host", host),  # section 4.1 item 4
        ("Upgrade", "websocket"),  # item 5
        ("Connection", "Upgrade"),  # item 6
        ("Sec-WebSocket-Key", key),  # item 7
        ("Sec-WebSocket-Version", WEBSOCKET_VERSION),  # item 9
    ]
    if subprotocols:
        fields.append(("Sec-WebSocket-Protocol", ", ".join(subprotocols)))  # item 10
    fields.extend(extra)
    return _head(f"GET {path} HTTP/1.1", fields), key


def server_handshake_response(
    key: str,
    *,
    subprotocol: str | None = None,
    extra_headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
) -> bytes:
    """The 101 response accepting a handshake whose key was validated (section 4.2.2)."""
    fields = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", accept_key(key)),
    ]
    if subprotocol is not None:
        if not _TOKEN.match(subprotocol):
            raise ValueError(f"invalid subprotocol {subprotocol!r}")
        fields.append(("Sec-WebSocket-Protocol", subprotocol))
    items = extra_headers.items() if isinstance(extra_headers, Mapping) else extra_headers
    fields.extend(_check_header_items(items))
    return _head("HTTP/1.1 101 Switching Protocols", fields)


def validate_server_response(
    status: int,
    headers: Headers,
    key: str,
    *,
    subprotocols: Sequence[str] = (),
) -> str | None:
    """Check the server's answer to our handshake (section 4.1, "the client
    MUST validate the server's response"); return the chosen subprotocol.

    Raises :class:`HandshakeError` (its ``status`` is the server's status).
    """
    # Section 4.1 item 1: anything but 101 means the handshake did not succeed.
    if status != 101:
        raise HandshakeError(f"server answered {status}, not 101", status)
    h = _normalize(headers)
    # Item 2: Upgrade "websocket", case-insensitive.
    if h.get("upgrade", "").lower() != "websocket":
        raise HandshakeError("response lacks 'Upgrade: websocket'", status)
    # Item 3: Connection "Upgrade", case-insensitive.
    if "upgrade" not in _tokens(h.get("connection", "")):
        raise HandshakeError("response Connection header lacks 'Upgrade'", status)
    # Item 4: Sec-WebSocket-Accept must be base64(SHA-1(key + GUID)).
    if h.get("sec-websocket-accept") != accept_key(key):
        raise HandshakeError("wrong Sec-WebSocket-Accept", status)
    # Item 5: we request no extensions, so the server may not use any.
    if h.get("sec-websocket-extensions"):
        raise HandshakeError("server selected an extension we did not offer", status)
    # Item 6: a subprotocol must be one we offered.
    chosen = h.get("sec-websocket-protocol")
    if chosen is not None and chosen not in subprotocols:
        raise HandshakeError(f"server selected subprotocol {chosen!r} we did not offer", status)
    return chosen
