"""Password hashes for the web dashboard's users (``gateway hash-password``).

Format: ``pbkdf2_sha256$<iterations>$<salt>$<hash>`` with base64 salt and
hash -- the shape Django and passlib use, so the hash says how to check it
and the iteration count can be raised later without invalidating old ones.
Only hashes go into the configuration file, never passwords.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ALGORITHM = "pbkdf2_sha256"
#: OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
ITERATIONS = 600_000
#: Most iterations a stored hash may ask for.  Each login attempt runs them
#: on the gateway's CPU, so a hash with 10**9 would tie a core up for
#: minutes per request; this leaves room to raise ITERATIONS a few times.
MAX_ITERATIONS = 10_000_000


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    if not password:
        raise ValueError("the password must not be empty")
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{ALGORITHM}${iterations}${_b64(salt)}${_b64(digest)}"


def parse_hash(encoded: str) -> tuple[int, bytes, bytes]:
    """``(iterations, salt, digest)`` of a stored hash; ValueError says what is wrong."""
    parts = encoded.split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM:
        raise ValueError(f"must look like {ALGORITHM}$<iterations>$<salt>$<hash> (see gateway hash-password)")
    _, count, salt, digest = parts
    # ASCII digits only, and few of them: int() of "²" or of 5000 digits raises.
    if not (count.isascii() and count.isdigit()) or len(count) > 9:
        raise ValueError(f"iteration count must be a number from 1 to {MAX_ITERATIONS}")
    iterations = int(count)
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"iteration count must be a number from 1 to {MAX_ITERATIONS}, got {iterations}")
    try:
        return iterations, base64.b64decode(salt, validate=True), base64.b64decode(digest, validate=True)
    except ValueError:
        raise ValueError("salt and hash must be base64") from None


def verify_password(password: str, encoded: str) -> bool:
    """True if ``password`` matches ``encoded``; False for any malformed hash."""
    try:
        iterations, salt, expected = parse_hash(encoded)
    except ValueError:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    # Constant time: the comparison must not tell how much of a guess was right.
    return hmac.compare_digest(actual, expected)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
