"""Faulty input for fault-injection tests and the demo's "noisy line" mode.

Real serial links deliver line noise, baud-rate mismatches, cut messages and
runaway senders; these pure helpers make each of them reproducibly.
"""

from __future__ import annotations

import random


def noise(rng: random.Random, size: int) -> bytes:
    """Random bytes, like a baud-rate mismatch (may contain separators)."""
    return rng.randbytes(size)


def noise_line(rng: random.Random, size: int, terminator: bytes = b"\r\n") -> bytes:
    """Random bytes that contain no LF, then a terminator: exactly one bad line."""
    return bytes(b for b in rng.randbytes(size) if b != 0x0A) + terminator


def overlong_line(length: int, terminator: bytes = b"\r\n", fill: bytes = b"x") -> bytes:
    """A single line of ``length`` bytes (before the terminator)."""
    return (fill * length)[:length] + terminator


def corrupt(rng: random.Random, message: bytes) -> bytes:
    """Flip one bit in one byte of ``message`` (not in a trailing CR/LF)."""
    body = message.rstrip(b"\r\n")
    if not body:
        return message
    index = rng.randrange(len(body))
    flipped = body[index] ^ (1 << rng.randrange(7))  # low 7 bits: stays ASCII-ish
    return body[:index] + bytes([flipped]) + body[index + 1 :] + message[len(body) :]


def truncate(rng: random.Random, message: bytes) -> bytes:
    """Cut a message short, keeping its terminator (a dropped-bytes line)."""
    body = message.rstrip(b"\r\n")
    if len(body) < 2:
        return message
    return body[: rng.randrange(1, len(body))] + message[len(body) :]
