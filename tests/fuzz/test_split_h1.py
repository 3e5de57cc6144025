"""Hypothesis properties: arbitrary input only ever raises ProtocolError, and write -> parse round-trips."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circuits.protocols.h1 import (
    NEED_DATA,
    PAUSED,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    InformationalResponse,
    Limits,
    ProtocolError,
    Request,
    RequestParser,
    Response,
    ResponseParser,
    body_writer,
    serialize_head,
    serialize_request_head,
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_SETTINGS = settings(SETTINGS, max_examples=700)

# -- fuzzing -----------------------------------------------------------------------

# Input is built from mostly valid pieces (so it reaches bodies, trailers and
# pipelining) with random bytes mixed in and an optional random mutation.
GOOD_START = [
    b"GET / HTTP/1.1\r\n",
    b"POST /x HTTP/1.0\r\n",
    b"PUT /p HTTP/1.1\n",
    b"HTTP/1.1 200 OK\r\n",
    b"HTTP/1.1 100 Continue\r\n",
    b"HTTP/1.0 204 No\n",
    b"HTTP/1.1 101 Up\r\n",
    b"\r\n",
]
BAD_START = [b"GET / HTTP/2.0\r\n", b"GET /" + b"a" * 70 + b" HTTP/1.1\r\n", b"GET  / HTTP/1.1\r\n"]
GOOD_FIELDS = [
    b"Host: a\r\n",
    b"Host: a\r\n",
    b"Content-Length: 3\r\n",
    b"Content-Length: 1, 1\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Connection: close\r\n",
    b"Expect: 100-continue\r\n",
    b"X: y\n",
]
BAD_FIELDS = [
    b"Content-Length: 99\r\n",
    b"Transfer-Encoding: gzip\r\n",
    b" folded\r\n",
    b"X : y\r\n",
    b"X: " + b"v" * 70 + b"\r\n",
]
GOOD_BODY = [b"abc", b"3\r\nabc\r\n", b"5;x=y\r\nhello\n", b"0\r\n\r\n", b"0\r\nT: v\r\n\r\n", b"0\n\n"]
BAD_BODY = [b"f" * 20 + b"\r\n", b"40\r\n", b"\r\n", b"\r"]  # fmt: skip


def _pick(good: list[bytes], bad: list[bytes], noise: int) -> st.SearchStrategy[bytes]:
    """Mostly valid pieces, sometimes invalid ones, rarely random bytes."""
    known = st.sampled_from(good)
    return st.one_of(known, known, known, known, known, st.sampled_from(bad), st.binary(max_size=noise))


_message = st.builds(
    lambda start, fields, end, body: start + b"".join(fields) + end + b"".join(body),
    _pick(GOOD_START, BAD_START, 12),
    st.lists(_pick(GOOD_FIELDS, BAD_FIELDS, 8), max_size=5),
    st.sampled_from([b"\r\n", b"\r\n", b"\n", b""]),
    st.lists(_pick(GOOD_BODY, BAD_BODY, 8), max_size=4),
)
fuzz_input = st.builds(
    lambda messages, at, insert: messages[:at] + insert + messages[at:],
    st.lists(_message, min_size=1, max_size=3).map(b"".join),
    st.integers(min_value=0, max_value=400),
    st.one_of(st.just(b""), st.just(b""), st.just(b""), st.binary(max_size=3)),
)


def _splits(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    return [p for p in pieces if p]


def _run(parser: RequestParser | ResponseParser, chunks: Iterable[bytes]) -> None:
    def pump() -> bool:
        for _ in range(10_000):
            event = parser.next_event()
            if event is NEED_DATA:
                return True
            if event is PAUSED:
                if parser.state != "DONE":
                    return False  # switched protocols: the rest is not HTTP
                parser.start_next_cycle()
            elif isinstance(event, ConnectionClosed):
                return False
        raise AssertionError("parser made no progress")

    for piece in chunks:
        parser.receive_data(piece)
        if not pump():
            return
    parser.receive_data(b"")
    pump()


SMALL = Limits(max_request_line=64, max_header_line=64, max_headers=5, max_head_size=256, max_body=64,
               max_chunk_size_line=16)  # fmt: skip


@FUZZ_SETTINGS
@given(data=fuzz_input, cuts=st.lists(st.integers(min_value=0), max_size=8), small=st.booleans())
def test_request_parser_only_raises_protocol_error(data: bytes, cuts: list[int], small: bool) -> None:
    try:
        _run(RequestParser(SMALL if small else None), _splits(data, cuts))
    except ProtocolError as exc:
        assert 400 <= exc.status <= 599


@FUZZ_SETTINGS
@given(
    data=fuzz_input,
    cuts=st.lists(st.integers(min_value=0), max_size=8),
    method=st.sampled_from(["GET", "HEAD", "CONNECT"]),
    small=st.booleans(),
)
def test_response_parser_only_raises_protocol_error(
    data: bytes, cuts: list[int], method: str, small: bool
) -> None:
    try:
        _run(ResponseParser(SMALL if small else None, request_method=method), _splits(data, cuts))
    except ProtocolError as exc:
        assert 400 <= exc.status <= 599


# -- round trip ----------------------------------------------------------------------

tokens = st.from_regex(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]{1,12}", fullmatch=True)
RESERVED = {b"content-length", b"transfer-encoding", b"host", b"connection", b"expect"}
field_names = tokens.filter(lambda n: n.lower() not in RESERVED)
field_values = st.from_regex(
    rb"([\x21-\x7e\x80-\xff]([\t\x20-\x7e\x80-\xff]{0,20}[\x21-\x7e\x80-\xff])?)?", fullmatch=True
)
field_lists = st.lists(st.tuples(field_names, field_values), max_size=6)
bodies = st.lists(st.binary(min_size=1, max_size=40), max_size=4)


def _parse(parser: RequestParser | ResponseParser, chunks: list[bytes], eof: bool) -> list[Event]:
    events: list[Event] = []
    for piece in [*chunks, b""] if eof else chunks:
        parser.receive_data(piece)
        while True:
            event = parser.next_event()
            if event is NEED_DATA or event is PAUSED:
                break
            if isinstance(event, Data) and events and isinstance(events[-1], Data):
                events[-1] = Data(events[-1].data + event.data)
            else:
                events.append(event)  # type: ignore[arg-type]
    return events


def _frame(framing: str, body: list[bytes], trailers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    if framing == "chunked":
        return [(b"Transfer-Encoding", b"chunked")]
    if framing == "length":
        return [(b"Content-Length", b"%d" % sum(map(len, body)))]
    return []


def _expected_end(framing: str, trailers: list[tuple[bytes, bytes]]) -> EndOfMessage:
    return EndOfMessage([(n.lower(), v) for n, v in trailers] if framing == "chunked" else [])


def _lower(fields: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(n.lower(), v) for n, v in fields]


@SETTINGS
@given(
    method=tokens.filter(lambda m: m != b"CONNECT"),
    # Any origin-form target (RFC 9112 section 3.2.1); other forms have their own tests.
    target=st.from_regex(rb"/[-A-Za-z0-9._~!$&'()*+,;=:@/]{0,29}(\?[-A-Za-z0-9/?=&]{0,10})?", fullmatch=True),
    version=st.sampled_from(["1.1", "1.0"]),
    fields=field_lists,
    framing=st.sampled_from(["length", "chunked", "none"]),
    body=bodies,
    trailers=field_lists,
    cuts=st.lists(st.integers(min_value=0), max_size=6),
)
def test_request_round_trip(
    method: bytes,
    target: bytes,
    version: str,
    fields: list[tuple[bytes, bytes]],
    framing: str,
    body: list[bytes],
    trailers: list[tuple[bytes, bytes]],
    cuts: list[int],
) -> None:
    if version == "1.0" and framing == "chunked":
        framing = "length"  # chunked needs HTTP/1.1 (RFC 9112 section 6.1)
    if framing == "none":
        body = []
    headers = [(b"Host", b"example.com"), *fields, *_frame(framing, body, trailers)]
    wire = serialize_request_head(method.decode(), target.decode(), headers, version)
    writer = body_writer(headers)
    wire += b"".join(writer.write(piece) for piece in body) + writer.end(
        trailers if framing == "chunked" else None
    )

    expected: list[Event] = [Request(method.decode(), target.decode(), version, _lower(headers))]
    if body:
        expected.append(Data(b"".join(body)))
    expected.append(_expected_end(framing, trailers))
    assert _parse(RequestParser(), _splits(wire, cuts), eof=False) == expected


@SETTINGS
@given(
    status=st.integers(min_value=200, max_value=599),
    reason=st.from_regex(rb"[\x21-\x7e]([ \x21-\x7e]{0,20}[\x21-\x7e])?", fullmatch=True),
    fields=field_lists,
    framing=st.sampled_from(["length", "chunked", "close"]),
    body=bodies,
    trailers=field_lists,
    informational=st.booleans(),
    cuts=st.lists(st.integers(min_value=0), max_size=6),
)
def test_response_round_trip(
    status: int,
    reason: bytes,
    fields: list[tuple[bytes, bytes]],
    framing: str,
    body: list[bytes],
    trailers: list[tuple[bytes, bytes]],
    informational: bool,
    cuts: list[int],
) -> None:
    if status in (204, 304):
        body, trailers = [], []
    headers = [*fields, *_frame(framing, body, trailers)]
    wire = serialize_head(100, None, []) if informational else b""
    wire += serialize_head(status, reason, headers)
    writer = body_writer(headers, status=status, request_method="GET")
    wire += b"".join(writer.write(piece) for piece in body) + writer.end(
        trailers if framing == "chunked" else None
    )

    expected: list[Event] = [InformationalResponse(100, "Continue", "1.1", [])] if informational else []
    expected.append(Response(status, reason.decode("latin-1"), "1.1", _lower(headers)))
    if body:
        expected.append(Data(b"".join(body)))
    no_body = status in (204, 304)
    expected.append(EndOfMessage() if no_body else _expected_end(framing, trailers))
    eof = framing == "close" and not no_body
    assert _parse(ResponseParser(), _splits(wire, cuts), eof=eof) == expected


# -- the result does not depend on how the input is split (issue 12) ----------------


def _outcome(parser: RequestParser, chunks: Iterable[bytes]) -> list[object]:
    """Every event (Data merged) and the error status that ended the input, if any."""
    seen: list[object] = []

    def note(event: object) -> None:
        if isinstance(event, Data) and seen and isinstance(seen[-1], Data):
            seen[-1] = Data(seen[-1].data + event.data)
        else:
            seen.append(event)

    def pump() -> bool:
        for _ in range(10_000):
            event = parser.next_event()
            if event is NEED_DATA:
                return True
            if event is PAUSED:
                if parser.state != "DONE":
                    return False
                parser.start_next_cycle()
                continue
            note(event)
            if isinstance(event, ConnectionClosed):
                return False
        raise AssertionError("parser made no progress")

    try:
        for piece in chunks:
            parser.receive_data(piece)
            if not pump():
                return seen
        parser.receive_data(b"")
        pump()
    except ProtocolError as exc:
        seen.append(("error", exc.status))
    return seen


@FUZZ_SETTINGS
@given(data=fuzz_input, cuts=st.lists(st.integers(min_value=0), max_size=8), small=st.booleans())
def test_request_parser_results_do_not_depend_on_the_split(data: bytes, cuts: list[int], small: bool) -> None:
    limits = SMALL if small else None
    assert _outcome(RequestParser(limits), _splits(data, cuts)) == _outcome(RequestParser(limits), [data])
