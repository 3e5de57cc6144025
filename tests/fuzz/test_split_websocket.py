"""WebSocket frame parsing does not depend on how the bytes arrive."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.protocols.websocket.connection import WebSocketConnection
from circuits.protocols.websocket.errors import WebSocketError
from circuits.protocols.websocket.frames import Opcode, build_frame

KEY = b"\x01\x02\x03\x04"

frames = st.one_of(
    st.builds(lambda p: build_frame(Opcode.TEXT, p.encode(), masking_key=KEY), st.text(max_size=40)),
    st.builds(lambda p: build_frame(Opcode.BINARY, p, masking_key=KEY), st.binary(max_size=300)),
    st.builds(lambda p: build_frame(Opcode.TEXT, p, fin=False, masking_key=KEY), st.binary(max_size=20)),
    st.builds(lambda p: build_frame(Opcode.CONTINUATION, p, masking_key=KEY), st.binary(max_size=20)),
    st.builds(lambda p: build_frame(Opcode.PING, p, masking_key=KEY), st.binary(max_size=125)),
    st.builds(lambda p: build_frame(Opcode.BINARY, p), st.binary(max_size=8)),  # unmasked: an error
    st.binary(min_size=1, max_size=6),  # garbage
)


def events_of(chunks: list[bytes]) -> list[object]:
    connection = WebSocketConnection(client=False, max_message_size=256, max_frame_size=200)
    seen: list[object] = []
    try:
        for chunk in chunks:
            connection.receive_data(chunk)
            for event in connection:  # not list(): events before an error must be kept
                seen.append(event)
    except WebSocketError as exc:
        seen.append(("error", exc.code))
    return seen


@settings(max_examples=300, deadline=None)
@given(st.lists(frames, max_size=12).map(b"".join), st.lists(st.integers(1, 40), max_size=40))
def test_events_and_errors_do_not_depend_on_the_cuts(data: bytes, cuts: list[int]) -> None:
    pieces, i = [], 0
    for size in cuts:
        pieces.append(data[i:i + size])
        i += size
    pieces.append(data[i:])
    assert events_of([p for p in pieces if p]) == events_of([data] if data else [])


def test_one_byte_at_a_time_on_random_input() -> None:
    data = os.urandom(4096)
    assert events_of([data[i:i + 1] for i in range(len(data))]) == events_of([data])
