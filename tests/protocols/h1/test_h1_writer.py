"""Serialization: heads, body framing and header-injection refusal."""

from __future__ import annotations

import pytest

from circuits.protocols.h1 import (
    REASONS,
    ChunkedWriter,
    ContentLengthWriter,
    InformationalResponse,
    Request,
    Response,
    UntilCloseWriter,
    body_writer,
    chunk,
    last_chunk,
    reason_phrase,
    serialize,
    serialize_head,
    serialize_request_head,
)


def test_serialize_head_default_reason() -> None:
    head = serialize_head(200, None, [(b"Content-Length", b"5"), ("Content-Type", "text/plain")])
    assert head == b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n"


def test_serialize_head_custom_reason_version_and_int_value() -> None:
    head = serialize_head(404, "Nope", [("Content-Length", 0)], http_version="1.0")
    assert head == b"HTTP/1.0 404 Nope\r\nContent-Length: 0\r\n\r\n"


def test_serialize_request_head() -> None:
    head = serialize_request_head("GET", "/a?b=c", [("Host", "example.com")])
    assert head == b"GET /a?b=c HTTP/1.1\r\nHost: example.com\r\n\r\n"


def test_serialize_events() -> None:
    assert serialize(Request("GET", "/", "1.1", [(b"host", b"a")])) == b"GET / HTTP/1.1\r\nhost: a\r\n\r\n"
    assert serialize(Response(204, "", "1.1", [])) == b"HTTP/1.1 204 No Content\r\n\r\n"
    assert serialize(InformationalResponse(100, "", "1.1", [])) == b"HTTP/1.1 100 Continue\r\n\r\n"
    with pytest.raises(ValueError):
        serialize(Response(100, "", "1.1", []))
    with pytest.raises(ValueError):
        serialize(InformationalResponse(200, "", "1.1", []))


@pytest.mark.parametrize(
    "header",
    [
        (b"X-A", b"one\r\nSet-Cookie: evil=1"),
        (b"X-A", b"one\nX-B: two"),
        (b"X-A", b"one\rtwo"),
        (b"X-A", b"nul\x00byte"),
        (b"X-A", b"esc\x1bape"),
        ("X-A", "line\r\n"),
        (b"X-A\r\nX-B", b"v"),
        (b"X A", b"v"),
        (b"X-A:", b"v"),
        (b"", b"v"),
        ("X-\u00e9", "v"),
        ("X-A", "snowman \u2603"),
    ],
)
def test_header_injection_is_refused(header: tuple[bytes | str, bytes | str]) -> None:
    with pytest.raises(ValueError):
        serialize_head(200, None, [header])
    with pytest.raises(ValueError):
        serialize_request_head("GET", "/", [header])
    with pytest.raises(ValueError):
        last_chunk([header])


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((200, "OK\r\nX-Evil: 1"), {}),
        ((99, None), {}),
        ((1000, None), {}),
        ((200, None), {"http_version": "2.0"}),
    ],
)
def test_bad_status_line_is_refused(args: tuple[int, str | None], kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        serialize_head(*args, **kwargs)


@pytest.mark.parametrize(
    ("method", "target"), [("GET", "/a b"), ("GET", "/\r\nX: y"), ("G T", "/"), ("GET", "")]
)
def test_bad_request_line_is_refused(method: str, target: str) -> None:
    with pytest.raises(ValueError):
        serialize_request_head(method, target, [])


def test_obs_text_value_is_allowed() -> None:
    assert serialize_head(200, None, [(b"X", b"caf\xe9")]).endswith(b"X: caf\xe9\r\n\r\n")


def test_chunk_helpers() -> None:
    assert chunk(b"hello") == b"5\r\nhello\r\n"
    assert chunk(b"x" * 255) == b"ff\r\n" + b"x" * 255 + b"\r\n"
    assert chunk(b"") == b""  # an empty chunk would end the body
    assert last_chunk() == b"0\r\n\r\n"
    assert last_chunk([(b"X-Sum", b"1")]) == b"0\r\nX-Sum: 1\r\n\r\n"


def test_body_writers() -> None:
    writer = ContentLengthWriter(5)
    assert writer.write(b"abc") == b"abc"
    with pytest.raises(ValueError):
        writer.write(b"xyz")
    with pytest.raises(ValueError):
        writer.end()
    assert writer.write(b"de") == b"de"
    assert writer.end() == b""

    chunked = ChunkedWriter()
    assert chunked.write(b"ab") + chunked.end([("T", "v")]) == b"2\r\nab\r\n0\r\nT: v\r\n\r\n"

    with pytest.raises(ValueError):
        UntilCloseWriter().end([("T", "v")])


def test_body_writer_selection() -> None:
    assert isinstance(body_writer([("Transfer-Encoding", "chunked")], status=200), ChunkedWriter)
    assert isinstance(body_writer([("Content-Length", "3")], status=200), ContentLengthWriter)
    assert isinstance(body_writer([], status=200), UntilCloseWriter)
    assert isinstance(body_writer([]), ContentLengthWriter)  # a request without framing has no body
    no_body = body_writer([("Content-Length", "3")], status=200, request_method="HEAD")
    with pytest.raises(ValueError):
        no_body.write(b"abc")
    with pytest.raises(ValueError):
        body_writer([("Transfer-Encoding", "gzip")])


def test_reason_table() -> None:
    for status in (
        100,
        101,
        200,
        204,
        206,
        301,
        304,
        308,
        400,
        404,
        413,
        414,
        418,
        422,
        429,
        431,
        500,
        505,
        511,
    ):
        assert status in REASONS
    assert reason_phrase(413) == "Content Too Large"
    assert reason_phrase(599) == "Server Error"
    for phrase in REASONS.values():
        phrase.encode("ascii")
