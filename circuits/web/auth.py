"""HTTP authentication: Basic (RFC 7617) and Digest (RFC 7616, MD5, qop=auth).

``basic_auth``/``digest_auth`` return None when the request carries valid
credentials, else an ``unauthorized`` event (with the challenge header
set) for the caller to return. Return it from a ``request`` handler and
the request is answered with 401; the handlers after it do not run.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from .errors import unauthorized

__all__ = ["basic_auth", "check_auth", "digest_auth"]

#: Seconds a digest nonce stays valid.
NONCE_LIFETIME = 300
_SECRET = secrets.token_bytes(32)


def _md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _users(users: Any) -> dict[str, str]:
    return users() if callable(users) else users


def _parse_authorization(value: str) -> tuple[str, str]:
    scheme, _, rest = value.strip().partition(" ")
    return scheme.lower(), rest.strip()


# auth-param = token BWS "=" BWS ( token / quoted-string ), comma separated (RFC 9110 section 11.2).
_AUTH_PARAM = re.compile(r'([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


def _parse_params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in _AUTH_PARAM.findall(text):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(key.lower(), value)
    return params


def _check_basic(request: Any, credentials: str, users: Any, encrypt: Callable[[str], str] | None,
                 verify: Callable[[str, str], bool] | None = None) -> bool:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    username, colon, password = decoded.partition(":")
    if not colon:
        return False
    expected = _users(users).get(username)
    if expected is None:
        return False
    if verify is not None:  # salted schemes (pbkdf2, scrypt...) check, they cannot re-encrypt
        if not verify(password, str(expected)):
            return False
    else:
        given = (encrypt or _md5_hex)(password)
        # Constant-time comparison: no timing oracle on the password hash.
        if not hmac.compare_digest(str(given).encode("utf-8"), str(expected).encode("utf-8")):
            return False
    request.login = username
    return True


def _make_nonce(realm: str) -> str:
    stamp = str(int(time.time()))
    mac = hmac.new(_SECRET, f"{stamp}:{realm}".encode(), hashlib.sha256).hexdigest()
    return f"{stamp}:{mac}"


def _nonce_fresh(nonce: str, realm: str) -> bool:
    stamp, _, mac = nonce.partition(":")
    if not stamp.isdigit():
        return False
    expected = hmac.new(_SECRET, f"{stamp}:{realm}".encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, expected) and time.time() - int(stamp) <= NONCE_LIFETIME


def _check_digest(request: Any, params_text: str, realm: str, users: Any) -> bool:
    params = _parse_params(params_text)
    username = params.get("username")
    nonce = params.get("nonce", "")
    if username is None or params.get("realm") != realm or not _nonce_fresh(nonce, realm):
        return False
    uri = params.get("uri")
    # Python's urllib digests an empty uri for a URL without a path, whose
    # request-target is "/": the same resource, so it is accepted.
    if uri != request.target and not (uri == "" and request.target == "/"):
        return False  # the credentials were computed for another resource
    password = _users(users).get(username)
    if password is None:
        return False
    ha1 = _md5_hex(f"{username}:{realm}:{password}")
    ha2 = _md5_hex(f"{request.method}:{params['uri']}")
    qop = params.get("qop")
    if qop == "auth":
        expected = _md5_hex(f"{ha1}:{nonce}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}")
    elif qop is None:
        expected = _md5_hex(f"{ha1}:{nonce}:{ha2}")
    else:
        return False
    if not hmac.compare_digest(expected, params.get("response", "")):
        return False
    request.login = username
    return True


def check_auth(request: Any, response: Any, realm: str, users: Any,
               encrypt: Callable[[str], str] | None = None,
               verify: Callable[[str, str], bool] | None = None) -> bool:
    """True if the request carries valid Basic or Digest credentials for ``users``.

    For Basic, ``users`` maps names to ``encrypt(password)`` (MD5 hex digest
    by default), or to any stored hash that ``verify(password, stored)``
    accepts (for salted hashes); for Digest, to plain passwords. ``users``
    may be a callable returning that dict.
    """
    header = request.headers.get("Authorization")
    if not header:
        return False
    scheme, rest = _parse_authorization(header)
    if scheme == "basic":
        return _check_basic(request, rest, users, encrypt, verify)
    if scheme == "digest":
        return _check_digest(request, rest, realm, users)
    return False


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def basic_auth(request: Any, response: Any, realm: str, users: Any,
               encrypt: Callable[[str], str] | None = None,
               verify: Callable[[str, str], bool] | None = None) -> Any:
    """None if Basic credentials are valid, else a 401 ``unauthorized`` event with a challenge."""
    if check_auth(request, response, realm, users, encrypt, verify):
        return None
    response.headers["WWW-Authenticate"] = f'Basic realm="{_quoted(realm)}", charset="UTF-8"'
    return unauthorized(request, response)


def digest_auth(request: Any, response: Any, realm: str, users: Any) -> Any:
    """None if Digest credentials are valid, else a 401 ``unauthorized`` event with a challenge."""
    if check_auth(request, response, realm, users):
        return None
    response.headers["WWW-Authenticate"] = (
        f'Digest realm="{_quoted(realm)}", nonce="{_make_nonce(realm)}", algorithm=MD5, qop="auth"')
    return unauthorized(request, response)
