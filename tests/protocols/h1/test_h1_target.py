"""Request-target forms (RFC 9112 section 3.2), fed whole and byte by byte."""

from __future__ import annotations

import pytest

from circuits.protocols.h1 import NEED_DATA, ProtocolError, Request, RequestParser


def _events(wire: bytes, bytewise: bool) -> Request:
    parser = RequestParser()
    pieces = [wire[i : i + 1] for i in range(len(wire))] if bytewise else [wire]
    for piece in pieces:
        parser.receive_data(piece)
        event = parser.next_event()
        if event is not NEED_DATA:
            assert isinstance(event, Request)
            return event
    raise AssertionError("no request")


GOOD = [
    ("GET", "/"),
    ("GET", "/a/b;c=d/%41?x=1&y=/?z"),
    ("GET", "/:@!$&'()*+,;=-._~"),
    ("GET", "http://example.com"),
    ("GET", "http://example.com/a?b"),
    ("GET", "http://127.0.0.1:8080/x"),
    ("GET", "http://[::1]/"),
    ("GET", "http://[::1]:80/"),
    ("GET", "https://[v1.fe]/"),
    ("OPTIONS", "*"),
    ("CONNECT", "example.com:443"),
    ("CONNECT", "[::1]:443"),
]

BAD = [
    ("GET", "http://[::1/"),  # the attack: urlsplit raises ValueError
    ("GET", "http://[::1]x/"),
    ("GET", "http://[zz::1]/"),
    ("GET", "http://[fe80::1%25eth0]/"),
    ("GET", "http://user@example.com/"),
    ("GET", "http://example.com:99999/"),
    ("GET", "http://example.com:8x/"),
    ("GET", "http:///path"),
    ("GET", "http://exa<mple.com/"),
    ("GET", "http:/x"),
    ("GET", "example.com:80"),  # authority-form only for CONNECT
    ("GET", "*"),  # asterisk-form only for OPTIONS
    ("CONNECT", "/"),
    ("CONNECT", "example.com"),
    ("CONNECT", "example.com:"),
    ("GET", "/a#frag"),
    ("GET", "/%zz"),
    ("GET", "/a\"b"),
    ("GET", "/{x}"),
    ("GET", "/a?<script>"),
    ("GET", "/a\\b"),
    ("GET", "x"),
]


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize(("method", "target"), GOOD)
def test_valid_targets_pass(method: str, target: str, bytewise: bool) -> None:
    wire = f"{method} {target} HTTP/1.1\r\nHost: h\r\n\r\n".encode()
    event = _events(wire, bytewise)
    assert (event.method, event.target) == (method, target)


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize(("method", "target"), BAD)
def test_invalid_targets_get_400(method: str, target: str, bytewise: bool) -> None:
    wire = f"{method} {target} HTTP/1.1\r\nHost: h\r\n\r\n".encode()
    with pytest.raises(ProtocolError) as info:
        _events(wire, bytewise)
    assert info.value.status == 400


def test_parser_stays_failed_after_a_bad_target() -> None:
    parser = RequestParser()
    parser.receive_data(b"GET http://[::1/ HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
    for _ in range(2):
        with pytest.raises(ProtocolError):
            parser.next_event()
    assert parser.state == "ERROR"
