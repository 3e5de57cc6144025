"""Telnet decoding does not depend on how the bytes arrive (data merged across cuts)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.protocols.telnet.codec import Data, TelnetDecoder
from circuits.protocols.telnet.errors import TelnetError

IAC, SB, SE, WILL, DO = 255, 250, 240, 251, 253
pieces = st.one_of(
    st.binary(min_size=1, max_size=20),
    st.sampled_from([bytes([IAC, IAC]), bytes([IAC, WILL, 44]), bytes([IAC, DO, 1]), bytes([IAC, 241]),
                     bytes([IAC, SB, 44, 1, 0, 0, 37, 128, IAC, SE]), bytes([IAC, SB, 44, IAC, IAC, 5, IAC, SE]),
                     bytes([IAC]), bytes([IAC, SB]), bytes([IAC, SE]), b"\r\n", b"\r\x00"]),
)


def events_of(chunks: list[bytes]) -> list[object]:
    decoder = TelnetDecoder(max_subnegotiation=16)
    seen: list[object] = []
    try:
        for chunk in chunks:
            for event in decoder.receive_data(chunk):
                if isinstance(event, Data) and seen and isinstance(seen[-1], bytes):
                    seen[-1] += bytes(event.data)
                elif isinstance(event, Data):
                    seen.append(bytes(event.data))
                else:
                    seen.append(event)
    except TelnetError as exc:
        seen.append(("error", type(exc).__name__))
    return [s for s in seen if s != b""]


@settings(max_examples=300, deadline=None)
@given(st.lists(pieces, max_size=20).map(b"".join), st.lists(st.integers(1, 12), max_size=40))
def test_events_do_not_depend_on_the_cuts(data: bytes, cuts: list[int]) -> None:
    chunks, i = [], 0
    for size in cuts:
        chunks.append(data[i:i + size])
        i += size
    chunks.append(data[i:])
    assert events_of([c for c in chunks if c]) == events_of([data])
