"""RFC 6455 section 4 opening handshake helpers."""

from __future__ import annotations

import base64

import pytest

from circuits.protocols.websocket import (
    HandshakeError,
    accept_key,
    client_handshake_request,
    generate_client_key,
    server_handshake_response,
    validate_client_handshake,
    validate_server_response,
)

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

VALID = {
    "Host": "server.example.com",
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": RFC_KEY,
    "Origin": "http://example.com",
    "Sec-WebSocket-Version": "13",
}


def parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    assert head.endswith(b"\r\n\r\n")
    start, *lines = head[:-4].decode("ascii").split("\r\n")
    return start, [(name, value.strip()) for name, value in (line.split(":", 1) for line in lines)]


def test_accept_key_rfc_example() -> None:
    # RFC 6455 section 1.3.
    assert accept_key(RFC_KEY) == RFC_ACCEPT


def test_generate_client_key() -> None:
    key = generate_client_key()
    assert len(base64.b64decode(key, validate=True)) == 16
    assert key != generate_client_key()


def test_valid_client_handshake() -> None:
    assert validate_client_handshake("GET", VALID) == RFC_KEY


@pytest.mark.parametrize(
    "headers",
    [
        [(k.lower(), v) for k, v in VALID.items()],
        [(k.upper().encode(), v.encode()) for k, v in VALID.items()],
        {**VALID, "Upgrade": "WebSocket"},
        {**VALID, "Connection": "keep-alive, Upgrade"},
        {**VALID, "Connection": "keep-alive,upgrade"},
        [*VALID.items(), ("Connection", "keep-alive")],  # repeated fields are combined
    ],
    ids=["lower", "bytes-upper", "upgrade-case", "connection-list", "connection-list-nospace", "repeated"],
)
def test_valid_client_handshake_variants(headers: object) -> None:
    assert validate_client_handshake(b"GET" if isinstance(headers, list) else "GET", headers) == RFC_KEY  # type: ignore[arg-type]


def without(name: str) -> dict[str, str]:
    return {k: v for k, v in VALID.items() if k != name}


@pytest.mark.parametrize(
    "method, headers, status",
    [
        ("POST", VALID, 400),
        ("get", VALID, 400),
        ("GET", without("Upgrade"), 426),
        ("GET", {**VALID, "Upgrade": "h2c"}, 426),
        ("GET", without("Sec-WebSocket-Version"), 426),
        ("GET", {**VALID, "Sec-WebSocket-Version": "8"}, 426),
        ("GET", without("Host"), 400),
        ("GET", without("Connection"), 400),
        ("GET", {**VALID, "Connection": "keep-alive"}, 400),
        ("GET", without("Sec-WebSocket-Key"), 400),
        ("GET", {**VALID, "Sec-WebSocket-Key": "not base64!"}, 400),
        ("GET", {**VALID, "Sec-WebSocket-Key": base64.b64encode(b"x" * 15).decode()}, 400),
        ("GET", {**VALID, "Sec-WebSocket-Key": base64.b64encode(b"x" * 17).decode()}, 400),
        ("GET", {**VALID, "Sec-WebSocket-Key": "ключ"}, 400),
    ],
    ids=[
        "post", "lowercase-method", "no-upgrade", "other-upgrade", "no-version", "version-8", "no-host",
        "no-connection", "connection-without-upgrade", "no-key", "key-not-base64", "key-15-bytes",
        "key-17-bytes", "key-non-ascii",
    ],
)  # fmt: skip
def test_invalid_client_handshake(method: str, headers: dict[str, str], status: int) -> None:
    with pytest.raises(HandshakeError) as info:
        validate_client_handshake(method, headers)
    assert info.value.status == status
    if status == 426:
        # Section 4.4 / RFC 9110 15.5.22: say what we do speak.
        assert ("Sec-WebSocket-Version", "13") in info.value.headers
        assert ("Upgrade", "websocket") in info.value.headers


def test_client_request_round_trip() -> None:
    request, key = client_handshake_request(
        "example.com:8080",
        "/chat?room=1",
        {"Origin": "http://example.com"},
        subprotocols=["chat", "superchat"],
    )
    start, fields = parse_head(request)
    assert start == "GET /chat?room=1 HTTP/1.1"
    headers = dict(fields)
    assert headers["Host"] == "example.com:8080"
    assert headers["Origin"] == "http://example.com"
    assert headers["Sec-WebSocket-Protocol"] == "chat, superchat"
    assert validate_client_handshake("GET", fields) == key
    response = server_handshake_response(key, subprotocol="chat")
    start, fields = parse_head(response)
    assert start == "HTTP/1.1 101 Switching Protocols"
    assert dict(fields)["Sec-WebSocket-Accept"] == accept_key(key)
    assert validate_server_response(101, fields, key, subprotocols=["chat", "superchat"]) == "chat"


@pytest.mark.parametrize(
    "host, path, extra",
    [
        ("exa\r\nmple.com", "/", {}),
        ("", "/", {}),
        ("example.com", "no-slash", {}),
        ("example.com", "/a b", {}),
        ("example.com", "/\r\nX: y", {}),
        ("example.com", "/", {"Bad Name": "v"}),
        ("example.com", "/", {"X-Ok": "v\r\nInjected: 1"}),
    ],
)
def test_client_request_refuses_injection(host: str, path: str, extra: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        client_handshake_request(host, path, extra)


GOOD_RESPONSE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": RFC_ACCEPT}


def test_valid_server_response() -> None:
    assert validate_server_response(101, GOOD_RESPONSE, RFC_KEY) is None
    assert validate_server_response(101, {**GOOD_RESPONSE, "Upgrade": "WebSocket"}, RFC_KEY) is None


@pytest.mark.parametrize(
    "status, headers",
    [
        (200, GOOD_RESPONSE),
        (400, GOOD_RESPONSE),
        (101, {**GOOD_RESPONSE, "Sec-WebSocket-Accept": "wrong"}),
        (101, {k: v for k, v in GOOD_RESPONSE.items() if k != "Sec-WebSocket-Accept"}),
        (101, {k: v for k, v in GOOD_RESPONSE.items() if k != "Upgrade"}),
        (101, {**GOOD_RESPONSE, "Connection": "close"}),
        (101, {**GOOD_RESPONSE, "Sec-WebSocket-Extensions": "permessage-deflate"}),
        (101, {**GOOD_RESPONSE, "Sec-WebSocket-Protocol": "chat"}),
    ],
    ids=[
        "200",
        "400",
        "wrong-accept",
        "no-accept",
        "no-upgrade",
        "bad-connection",
        "extension",
        "subprotocol",
    ],
)
def test_invalid_server_response(status: int, headers: dict[str, str]) -> None:
    with pytest.raises(HandshakeError) as info:
        validate_server_response(status, headers, RFC_KEY)
    assert info.value.status == status
