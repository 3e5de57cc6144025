"""Sans-I/O WebSocket (RFC 6455) codec: framing, connection state, handshake helpers."""

from .connection import ConnectionState, WebSocketConnection, is_valid_close_code
from .errors import CloseCode, HandshakeError, LocalProtocolError, WebSocketError
from .events import BytesMessage, CloseReceived, Event, Ping, Pong, TextMessage
from .frames import FrameHeader, Opcode, apply_mask, build_frame, frame_header, parse_header
from .handshake import (
    WEBSOCKET_GUID,
    accept_key,
    client_handshake_request,
    generate_client_key,
    server_handshake_response,
    validate_client_handshake,
    validate_server_response,
)

__all__ = [
    "WEBSOCKET_GUID",
    "BytesMessage",
    "CloseCode",
    "CloseReceived",
    "ConnectionState",
    "Event",
    "FrameHeader",
    "HandshakeError",
    "LocalProtocolError",
    "Opcode",
    "Ping",
    "Pong",
    "TextMessage",
    "WebSocketConnection",
    "WebSocketError",
    "accept_key",
    "apply_mask",
    "build_frame",
    "frame_header",
    "client_handshake_request",
    "generate_client_key",
    "is_valid_close_code",
    "parse_header",
    "server_handshake_response",
    "validate_client_handshake",
    "validate_server_response",
]
