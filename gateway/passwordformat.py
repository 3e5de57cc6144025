"""The stored form of a dashboard password hash, read without hashing anything.

``pbkdf2_sha256$<iterations>$<salt>$<hash>`` (see gateway.passwords).
Apart from gateway.passwords so that ``gateway check`` and start-up can
validate [web.users] without importing hashlib, hmac and secrets (hashlib
maps libcrypto: a few MB of RSS a gateway without a dashboard never needs).
"""

from __future__ import annotations

import base64

ALGORITHM = "pbkdf2_sha256"
#: Most iterations a stored hash may ask for.  Each login attempt runs them
#: on the gateway's CPU, so a hash with 10**9 would tie a core up for
#: minutes per request; this leaves room to raise gateway.passwords.ITERATIONS a few times.
MAX_ITERATIONS = 10_000_000


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
