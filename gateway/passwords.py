"""Password hashes for the web dashboard's users (``gateway hash-password``).

Format: ``pbkdf2_sha256$<iterations>$<salt>$<hash>`` with base64 salt and
hash -- the shape Django and passlib use, so the hash says how to check it
and the iteration count can be raised later without invalidating old ones.
Only hashes go into the configuration file, never passwords.

hashlib, hmac and secrets are imported where a password is hashed or
checked: every dashboard imports this module (through gateway.web.auth),
and they load OpenSSL's libcrypto, ~3.7 MB of memory (issue 15).
"""

from __future__ import annotations

import base64

from .passwordformat import ALGORITHM, MAX_ITERATIONS, parse_hash

__all__ = ["ALGORITHM", "ITERATIONS", "MAX_ITERATIONS", "hash_password", "parse_hash", "verify_password"]

#: OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
ITERATIONS = 600_000


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    if not password:
        raise ValueError("the password must not be empty")
    import hashlib
    import secrets

    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{ALGORITHM}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """True if ``password`` matches ``encoded``; False for any malformed hash."""
    try:
        iterations, salt, expected = parse_hash(encoded)
    except ValueError:
        return False
    import hashlib
    import hmac

    actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    # Constant time: the comparison must not tell how much of a guess was right.
    return hmac.compare_digest(actual, expected)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
