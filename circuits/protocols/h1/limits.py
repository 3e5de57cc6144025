"""Size limits that bound what a parser buffers before it gives up.

Every limit is checked while bytes are still arriving, so a peer can never
make the parser hold more than roughly the limit (plus one ``receive_data``
chunk) in memory.  RFC 9112 section 2.3 and RFC 9110 section 5.4 leave the
actual numbers to the implementation; the defaults follow common servers.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits", "DEFAULT_LIMITS", "CLIENT_LIMITS"]


@dataclass(frozen=True, slots=True)
class Limits:
    #: Longest request-line / status-line, line ending excluded (-> 414).
    max_request_line: int = 8192
    #: Longest single field line, line ending excluded (-> 431).
    max_header_line: int = 8192
    #: Most field lines in one header or trailer section (-> 431).
    max_headers: int = 100
    #: Longest whole head: start-line plus all field lines (-> 431).
    max_head_size: int = 64 * 1024
    #: Largest body; ``None`` means unbounded (-> 413).  Checked against
    #: Content-Length as soon as the head is parsed, and against the running
    #: total for chunked and read-until-close bodies.
    max_body: int | None = 10 * 1024 * 1024
    #: Longest chunk-size line including chunk extensions (-> 400).
    max_chunk_size_line: int = 4096

    def __post_init__(self) -> None:
        for name in (
            "max_request_line",
            "max_header_line",
            "max_headers",
            "max_head_size",
            "max_chunk_size_line",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive")
        if self.max_body is not None and self.max_body < 0:
            raise ValueError("max_body must be >= 0 or None")


#: Limits used by ``RequestParser`` when none are given.
DEFAULT_LIMITS = Limits()

#: Limits used by ``ResponseParser`` when none are given: a client streams
#: downloads, so the body is unbounded by default.
CLIENT_LIMITS = Limits(max_body=None)
