"""RFC 6455 framing and connection: every case fed whole, byte by byte and
with a trailing frame appended (which must still parse)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.protocols.websocket import (
    BytesMessage,
    CloseReceived,
    ConnectionState,
    Event,
    LocalProtocolError,
    Opcode,
    Ping,
    Pong,
    TextMessage,
    WebSocketConnection,
    WebSocketError,
    apply_mask,
    build_frame,
    frame_header,
    parse_header,
)

KEY = b"\x37\xfa\x21\x3d"  # the masking key of the RFC 6455 section 5.7 examples
CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def ref_mask(data: bytes, key: bytes) -> bytes:
    """Reference masking (section 5.3), deliberately the naive per-byte way."""
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    mask: bytes | None = None,
    rsv: int = 0,
    length: int | None = None,
    form: str | None = None,
) -> bytes:
    """Build a frame by hand with struct (independent of the code under test).

    ``length`` overrides the declared length, ``form`` forces the length
    encoding ("7", "16" or "64") to build non-minimal encodings.
    """
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length is None else length
    bit = 0x80 if mask is not None else 0
    form = form or ("7" if n < 126 else "16" if n < 0x10000 else "64")
    if form == "7":
        head = struct.pack("!BB", b0, bit | n)
    elif form == "16":
        head = struct.pack("!BBH", b0, bit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, bit | 127, n)
    if mask is not None:
        return head + mask + ref_mask(payload, mask)
    return head + payload


def cf(opcode: int, payload: bytes = b"", **kw: object) -> bytes:
    """A frame as a client sends it (masked): what a server receives."""
    return frame(opcode, payload, mask=KEY, **kw)  # type: ignore[arg-type]


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


@dataclass
class Case:
    id: str
    data: bytes
    expected: list[Event] = field(default_factory=list)
    error: int | None = None
    client: bool = False  # False: we are the server and receive masked frames
    limits: dict[str, int] = field(default_factory=dict)


def server_cases() -> list[Case]:
    big = bytes(range(256)) * 256  # 65536 bytes
    return [
        # RFC 6455 section 5.7: "A single-frame masked text message".
        Case("rfc-masked-hello", bytes.fromhex("818537fa213d7f9f4d5158"), [TextMessage("Hello")]),
        # Section 5.7: "Unmasked Pong response" inverted: masked Pong.
        Case("rfc-masked-pong", bytes.fromhex("8a8537fa213d7f9f4d5158"), [Pong(b"Hello")]),
        Case("binary", cf(BINARY, b"\x00\xff"), [BytesMessage(b"\x00\xff")]),
        Case("empty-text", cf(TEXT), [TextMessage("")]),
        Case("empty-binary", cf(BINARY), [BytesMessage(b"")]),
        Case("len-125", cf(BINARY, b"a" * 125), [BytesMessage(b"a" * 125)]),
        Case("len-126-16bit", cf(BINARY, b"b" * 126), [BytesMessage(b"b" * 126)]),
        Case("len-65535-16bit", cf(BINARY, big[:65535]), [BytesMessage(big[:65535])]),
        Case("len-65536-64bit", cf(BINARY, big), [BytesMessage(big)]),
        Case("utf8-text", cf(TEXT, "κόσμε €".encode()), [TextMessage("κόσμε €")]),
        Case(
            "fragmented-with-interleaved-control",
            cf(TEXT, b"Hel", fin=False) + cf(PING, b"p") + cf(CONT, b"l", fin=False) + cf(PONG, b"q")
            + cf(CONT, b"o"),
            [Ping(b"p"), Pong(b"q"), TextMessage("Hello")],
        ),
        Case(
            "fragmented-binary-empty-fragments",
            cf(BINARY, b"", fin=False) + cf(CONT, b"ab", fin=False) + cf(CONT, b"", fin=False) + cf(CONT, b"c"),
            [BytesMessage(b"abc")],
        ),
        Case(
            "utf8-split-across-fragments",
            cf(TEXT, b"\xce", fin=False) + cf(CONT, b"\xba\xe2\x82", fin=False) + cf(CONT, b"\xac"),
            [TextMessage("κ€")],
        ),
        Case("ping-125", cf(PING, b"p" * 125), [Ping(b"p" * 125)]),
        Case("two-messages", cf(TEXT, b"a") + cf(BINARY, b"b"), [TextMessage("a"), BytesMessage(b"b")]),
        Case("close-empty", cf(CLOSE), [CloseReceived(1005, "")]),
        Case("close-code", cf(CLOSE, close_payload(1000)), [CloseReceived(1000, "")]),
        Case("close-reason", cf(CLOSE, close_payload(1001, "bye ✓".encode())), [CloseReceived(1001, "bye ✓")]),
        *[
            Case(f"close-valid-{code}", cf(CLOSE, close_payload(code)), [CloseReceived(code, "")])
            for code in (1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999)
        ],
        # -- protocol errors: 1002 -------------------------------------------
        *[Case(f"rsv-{rsv}", cf(TEXT, b"x", rsv=rsv), error=1002) for rsv in (1, 2, 4, 7)],
        *[Case(f"reserved-opcode-{op:#x}", cf(op, b"x"), error=1002) for op in (3, 4, 5, 6, 7, 0xB, 0xC, 0xF)],
        Case("fragmented-ping", cf(PING, b"x", fin=False), error=1002),
        Case("fragmented-close", cf(CLOSE, close_payload(1000), fin=False), error=1002),
        Case("ping-126", cf(PING, b"p" * 126), error=1002),
        Case("pong-126-form7-too-big", frame(PONG, b"", mask=KEY, length=126, form="16"), error=1002),
        Case("unmasked-from-client", frame(TEXT, b"hi"), error=1002),
        Case("continuation-without-start", cf(CONT, b"x"), error=1002),
        Case("text-inside-fragmented", cf(TEXT, b"a", fin=False) + cf(TEXT, b"b"), error=1002),
        Case("binary-inside-fragmented", cf(BINARY, b"a", fin=False) + cf(BINARY, b"b"), error=1002),
        Case("len64-high-bit", frame(BINARY, b"", mask=KEY, length=1 << 63), error=1002),
        Case("len16-non-minimal", frame(BINARY, b"abc", mask=KEY, form="16"), error=1002),
        Case("len64-non-minimal-small", frame(BINARY, b"abc", mask=KEY, form="64"), error=1002),
        Case("len64-non-minimal-16bit", frame(BINARY, b"", mask=KEY, length=65535, form="64"), error=1002),
        Case("close-1-byte", cf(CLOSE, b"\x03"), error=1002),
        *[
            Case(f"close-invalid-{code}", cf(CLOSE, close_payload(code)), error=1002)
            for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535)
        ],
        # -- invalid UTF-8: 1007 ----------------------------------------------
        Case("text-invalid-utf8", cf(TEXT, b"\xff"), error=1007),
        Case("text-overlong-utf8", cf(TEXT, b"\xc0\xaf"), error=1007),
        Case("text-surrogate-utf8", cf(TEXT, b"\xed\xa0\x80"), error=1007),
        Case("text-truncated-utf8", cf(TEXT, b"a\xce"), error=1007),
        Case(
            "invalid-utf8-split-across-fragments",
            cf(TEXT, b"\xce", fin=False) + cf(CONT, b"\xff"),
            error=1007,
        ),
        Case(
            "truncated-utf8-in-last-fragment",
            cf(TEXT, b"ok", fin=False) + cf(CONT, b"\xe2\x82"),
            error=1007,
        ),
        Case(
            "fragments-before-invalid-byte-not-delivered",
            cf(TEXT, "€".encode(), fin=False) + cf(PING) + cf(CONT, b"\x80", fin=False),
            [Ping(b"")],
            error=1007,
        ),
        Case("close-reason-invalid-utf8", cf(CLOSE, close_payload(1000, b"\xff")), error=1007),
        # -- limits: 1009 -----------------------------------------------------
        Case("frame-too-big", cf(BINARY, b"x" * 11), error=1009, limits={"max_frame_size": 10}),
        Case("frame-at-limit", cf(BINARY, b"x" * 10), [BytesMessage(b"x" * 10)], limits={"max_frame_size": 10}),
        Case(
            "message-too-big-across-fragments",
            cf(BINARY, b"x" * 6, fin=False) + cf(PING) + cf(CONT, b"y" * 5),
            [Ping(b"")],
            error=1009,
            limits={"max_message_size": 10},
        ),
        Case(
            "message-at-limit-across-fragments",
            cf(BINARY, b"x" * 6, fin=False) + cf(CONT, b"y" * 4),
            [BytesMessage(b"x" * 6 + b"y" * 4)],
            limits={"max_message_size": 10},
        ),
    ]  # fmt: skip


def client_cases() -> list[Case]:
    return [
        # RFC 6455 section 5.7: "A single-frame unmasked text message".
        Case("rfc-unmasked-hello", bytes.fromhex("810548656c6c6f"), [TextMessage("Hello")], client=True),
        # Section 5.7: "A fragmented unmasked text message".
        Case("rfc-fragmented", bytes.fromhex("010348656c80026c6f"), [TextMessage("Hello")], client=True),
        # Section 5.7: "Unmasked Ping request".
        Case("rfc-ping", bytes.fromhex("890548656c6c6f"), [Ping(b"Hello")], client=True),
        # Section 5.7: "256 bytes binary message in a single unmasked frame".
        Case(
            "rfc-256-binary", bytes.fromhex("827e0100") + bytes(256), [BytesMessage(bytes(256))], client=True
        ),
        Case("masked-from-server", cf(TEXT, b"hi"), error=1002, client=True),
        Case("close-from-server", frame(CLOSE, close_payload(1001)), [CloseReceived(1001, "")], client=True),
    ]


CASES = server_cases() + client_cases()


def run(conn: WebSocketConnection, chunks: list[bytes]) -> tuple[list[Event], int | None]:
    events: list[Event] = []
    try:
        for chunk in chunks:
            conn.receive_data(chunk)
            events.extend(conn)
    except WebSocketError as exc:
        return events, exc.code
    return events, None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("mode", ["whole", "bytewise", "trailing"])
def test_table(case: Case, mode: str) -> None:
    data = case.data
    expected = list(case.expected)
    error = case.error
    if mode == "trailing":
        # A Ping after the case's frames: it must parse, unless the case
        # ended in an error (which must not change) or a Close (after which
        # any data is a protocol error, section 5.5.1).
        data += frame(PING, b"trail", mask=None if case.client else KEY)
        if error is None:
            if any(isinstance(e, CloseReceived) for e in expected):
                error = 1002
            else:
                expected.append(Ping(b"trail"))
    chunks = [data[i : i + 1] for i in range(len(data))] if mode == "bytewise" else [data]
    conn = WebSocketConnection(client=case.client, **case.limits)
    assert run(conn, chunks) == (expected, error)
    if error is not None:
        # The failure sticks, and the caller can still send the Close.
        with pytest.raises(WebSocketError):
            conn.next_event()
        assert conn.close(error) != b""
        assert conn.state is ConnectionState.CLOSED


def test_oversized_message_rejected_before_payload_is_buffered() -> None:
    # A 1 MiB + 1 frame is refused from its 10-byte header alone.
    conn = WebSocketConnection(client=False)
    header = frame(BINARY, b"", mask=KEY, length=(1 << 20) + 1)
    assert len(header) == 14
    conn.receive_data(header)
    with pytest.raises(WebSocketError) as info:
        conn.next_event()
    assert info.value.code == 1009
    assert conn.statistics()["buffered"] == 0
    conn.receive_data(b"\x00" * 4096)  # ignored after the failure
    assert conn.statistics()["buffered"] == 0


def test_oversized_fragmented_message_rejected_at_next_header() -> None:
    # A full 1 MiB first fragment is fine; one more byte in a continuation
    # exceeds max_message_size and is refused from the continuation's header.
    conn = WebSocketConnection(client=True)
    conn.receive_data(frame(BINARY, b"\x01" * (1 << 20), fin=False))
    assert conn.next_event() is None
    assert conn.statistics()["message_bytes_buffered"] == 1 << 20
    conn.receive_data(frame(CONT, b"", length=1)[:2])
    with pytest.raises(WebSocketError) as info:
        conn.next_event()
    assert info.value.code == 1009


def test_message_of_exactly_max_size_is_accepted() -> None:
    conn = WebSocketConnection(client=True)
    conn.receive_data(frame(BINARY, b"\x02" * (1 << 20)))
    assert conn.next_event() == BytesMessage(b"\x02" * (1 << 20))


def test_partial_header_is_not_an_error() -> None:
    conn = WebSocketConnection(client=False)
    data = cf(BINARY, b"x" * 70000)
    for cut in (1, 2, 3, 9, 13, 14, 100):
        conn = WebSocketConnection(client=False)
        conn.receive_data(data[:cut])
        assert conn.next_event() is None
        conn.receive_data(data[cut:])
        assert conn.next_event() == BytesMessage(b"x" * 70000)


# -- masking -------------------------------------------------------------------


def test_apply_mask_rfc_example() -> None:
    # Section 5.7: "Hello" masked with 37 fa 21 3d.
    assert apply_mask(b"Hello", KEY) == bytes.fromhex("7f9f4d5158")


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 125, 126, 1000, 65537])
def test_apply_mask_matches_reference(n: int) -> None:
    data = bytes((i * 7 + 3) & 0xFF for i in range(n))
    key = b"\x00\x80\xff\x13"
    assert apply_mask(data, key) == ref_mask(data, key)
    assert apply_mask(apply_mask(data, key), key) == data


def test_client_masks_every_frame_with_fresh_key() -> None:
    client = WebSocketConnection(client=True)
    first, second = client.send_text("same"), client.send_text("same")
    for wire in (first, second):
        header = parse_header(wire)
        assert header is not None and header.masking_key is not None
        assert apply_mask(wire[header.header_length :], header.masking_key) == b"same"
    assert first[2:6] != second[2:6]  # 2**-32 chance of a false failure
    for wire in (client.ping(b"p"), client.pong(b"q"), client.send_bytes(b"b"), client.close()):
        assert wire[1] & 0x80


def test_server_never_masks() -> None:
    server = WebSocketConnection(client=False)
    assert server.send_text("hi") == b"\x81\x02hi"
    assert server.send_bytes(b"\x00") == b"\x82\x01\x00"
    assert server.ping(b"p") == b"\x89\x01p"
    assert server.pong(b"q") == b"\x8a\x01q"
    assert server.close(1000, "ok") == b"\x88\x04\x03\xe8ok"


def test_build_frame_length_encodings() -> None:
    for n, header_length in ((0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)):
        wire = build_frame(Opcode.BINARY, b"z" * n)
        header = parse_header(wire)
        assert header is not None
        assert (header.payload_length, header.header_length, header.fin) == (n, header_length, True)


def test_frame_header_is_build_frames_header() -> None:
    # A sender joining many frames into one write uses the header alone.
    for n in (0, 125, 126, 65535, 65536):
        for opcode in (Opcode.TEXT, Opcode.BINARY):
            payload = b"z" * n
            assert frame_header(opcode, n) + payload == build_frame(opcode, payload)


# -- fragmentation of outgoing messages ---------------------------------------------


def split_frames(wire: bytes) -> list[tuple[int, bool, bytes]]:
    out = []
    while wire:
        header = parse_header(wire)
        assert header is not None
        end = header.header_length + header.payload_length
        payload = wire[header.header_length : end]
        if header.masking_key is not None:
            payload = apply_mask(payload, header.masking_key)
        out.append((int(header.opcode), header.fin, payload))
        wire = wire[end:]
    return out


def test_outgoing_fragmentation() -> None:
    server = WebSocketConnection(client=False, fragment_size=4)
    assert split_frames(server.send_bytes(b"abcdefghij")) == [
        (BINARY, False, b"abcd"),
        (CONT, False, b"efgh"),
        (CONT, True, b"ij"),
    ]
    assert split_frames(server.send_bytes(b"abcd")) == [(BINARY, True, b"abcd")]
    # A per-call fragment size; a UTF-8 sequence may be split (section 5.6).
    wire = server.send_text("€uro", fragment_size=2)
    assert [f[:2] for f in split_frames(wire)] == [(TEXT, False), (CONT, False), (CONT, True)]
    client = WebSocketConnection(client=True)
    client.receive_data(wire)
    assert list(client) == [TextMessage("€uro")]


# -- closing handshake ---------------------------------------------------------------


@pytest.mark.parametrize("initiator_is_client", [True, False])
def test_closing_handshake(initiator_is_client: bool) -> None:
    client, server = WebSocketConnection(client=True), WebSocketConnection(client=False)
    a, b = (client, server) if initiator_is_client else (server, client)
    wire = a.close(1001, "going")
    assert a.state is ConnectionState.CLOSING
    with pytest.raises(LocalProtocolError):
        a.send_text("too late")
    assert a.close() == b""  # a Close is sent once
    # The peer may still deliver data sent before it saw our Close.
    a.receive_data(b.send_text("in flight"))
    assert list(a) == [TextMessage("in flight")]
    b.receive_data(wire)
    events = list(b)
    assert events == [CloseReceived(1001, "going")]
    assert b.state is ConnectionState.CLOSING
    reply = b.auto_reply(events[0])  # echoes the code (section 5.5.1)
    assert b.state is ConnectionState.CLOSED
    assert b.auto_reply(events[0]) == b""  # answers once
    a.receive_data(reply)
    assert list(a) == [CloseReceived(1001, "")]
    assert a.state is ConnectionState.CLOSED
    a.receive_data(b"")
    assert list(a) == []


def test_close_without_code_is_answered_without_code() -> None:
    client, server = WebSocketConnection(client=True), WebSocketConnection(client=False)
    server.receive_data(client.close(None))
    event = server.next_event()
    assert event == CloseReceived(1005, "")
    reply = server.auto_reply(event)
    assert reply == b"\x88\x00"


def test_data_after_close_is_protocol_error() -> None:
    conn = WebSocketConnection(client=False)
    conn.receive_data(cf(CLOSE, close_payload(1000)) + cf(TEXT, b"late"))
    assert conn.next_event() == CloseReceived(1000, "")
    with pytest.raises(WebSocketError) as info:
        conn.next_event()
    assert info.value.code == 1002


@pytest.mark.parametrize("data", [b"", cf(TEXT, b"partial")[:5], cf(TEXT, b"x", fin=False)])
def test_eof_without_close_is_abnormal(data: bytes) -> None:
    conn = WebSocketConnection(client=False)
    conn.receive_data(data)
    conn.receive_data(b"")
    assert list(conn) == [CloseReceived(1006, "")]
    assert conn.state is ConnectionState.CLOSED
    assert conn.close() == b""
    assert list(conn) == []
    with pytest.raises(LocalProtocolError):
        conn.receive_data(b"more")
    with pytest.raises(LocalProtocolError):
        conn.send_bytes(b"x")


def test_ping_pong_helpers() -> None:
    server = WebSocketConnection(client=False)
    server.receive_data(cf(PING, b"are you there"))
    event = server.next_event()
    assert event == Ping(b"are you there")
    assert server.auto_pong(event) == b"\x8a\x0dare you there"
    assert server.auto_pong(TextMessage("x")) == b""
    with pytest.raises(ValueError):
        server.ping(b"x" * 126)


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 2000, 5000])
def test_close_refuses_unsendable_codes(code: int) -> None:
    with pytest.raises(ValueError):
        WebSocketConnection(client=False).close(code)


def test_close_reason_limit() -> None:
    conn = WebSocketConnection(client=False)
    with pytest.raises(ValueError):
        conn.close(1000, "x" * 124)
    assert len(conn.close(1000, "x" * 123)) == 2 + 125


# -- hypothesis -----------------------------------------------------------------------


@st.composite
def chunked(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    chunks, last = [], 0
    for cut in [*cuts, len(data)]:
        if cut > last:  # b"" would mean EOF
            chunks.append(data[last:cut])
        last = cut
    return chunks


def drain_allowing_only_websocket_errors(conn: WebSocketConnection, chunks: list[bytes]) -> None:
    try:
        for chunk in chunks:
            conn.receive_data(chunk)
            for _ in conn:
                pass
        conn.receive_data(b"")
        for _ in conn:
            pass
    except WebSocketError as exc:
        assert exc.code in (1002, 1007, 1009)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.booleans(), st.data())
def test_arbitrary_bytes_only_raise_websocket_error(data: bytes, client: bool, draw: st.DataObject) -> None:
    conn = WebSocketConnection(client=client, max_message_size=64, max_frame_size=32)
    drain_allowing_only_websocket_errors(conn, draw.draw(chunked(data)))


raw_frame = st.builds(
    lambda op, fin, rsv, masked, payload: frame(op, payload, fin=fin, rsv=rsv, mask=KEY if masked else None),
    st.sampled_from([0, 1, 2, 8, 9, 10, 3, 11]),
    st.booleans() | st.just(True),
    st.sampled_from([0, 0, 0, 0, 1]),
    st.booleans(),
    st.binary(max_size=20) | st.sampled_from([b"\x03\xe8", b"\x03\xe8\xff", b"\xce", b"\xba", "€".encode()]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(raw_frame, max_size=8), st.booleans(), st.data())
def test_frame_soup_only_raises_websocket_error(
    frames: list[bytes], client: bool, draw: st.DataObject
) -> None:
    data = b"".join(frames)
    conn = WebSocketConnection(client=client, max_message_size=40, max_frame_size=30)
    drain_allowing_only_websocket_errors(conn, draw.draw(chunked(data)))


message = st.one_of(
    st.text(max_size=60).map(TextMessage),
    st.binary(max_size=60).map(BytesMessage),
    st.binary(max_size=20).map(Ping),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(message, max_size=8), st.booleans(), st.none() | st.integers(1, 16), st.data())
def test_round_trip(
    messages: list[Event], client_sends: bool, fragment_size: int | None, draw: st.DataObject
) -> None:
    sender = WebSocketConnection(client=client_sends, fragment_size=fragment_size)
    receiver = WebSocketConnection(client=not client_sends)
    wire = b""
    for msg in messages:
        if isinstance(msg, TextMessage):
            wire += sender.send_text(msg.data)
        elif isinstance(msg, BytesMessage):
            wire += sender.send_bytes(msg.data)
        else:
            assert isinstance(msg, Ping)
            wire += sender.ping(msg.payload)
    wire += sender.close(3000, "done")
    events: list[Event] = []
    for chunk in draw.draw(chunked(wire)):
        receiver.receive_data(chunk)
        events.extend(receiver)
    assert events == [*messages, CloseReceived(3000, "done")]
