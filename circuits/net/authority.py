"""The host of an authority (``host[:port]``, ``[v6]:port``), as a ``Host``
field (RFC 9110 section 7.2) or a URL (RFC 3986 section 3.2) carries it.

Plain string work, kept apart from ``circuits.web``: configuration
validators check server names with it without loading the web stack.
"""

from __future__ import annotations

__all__ = ["host_name", "split_authority"]


def split_authority(authority: str) -> tuple[str, str] | None:
    """(host, port digits or "") of ``host[:port]`` / ``[v6]:port``; None if malformed.

    The host comes back lower case without a trailing dot: ``Example.COM.``
    and ``example.com`` name the same host (RFC 3986 section 3.2.2).
    """
    authority = authority.strip()
    if authority.startswith("["):
        end = authority.find("]")
        rest = authority[end + 1:]
        if end < 0 or (rest and not rest.startswith(":")):
            return None
        name, port = authority[1:end], rest[1:]
    else:
        name, _, port = authority.partition(":")
    # ASCII digits only, at most 5 of them: int() would take "²" or "١٢".
    if port and not (port.isascii() and port.isdigit() and len(port) <= 5):
        return None
    name = name.rstrip(".").lower()
    return (name, port) if name else None


def host_name(authority: str) -> str | None:
    """The host of ``host[:port]`` / ``[v6]:port``, lower case without a trailing dot; None if malformed."""
    split = split_authority(authority)
    return None if split is None else split[0]
