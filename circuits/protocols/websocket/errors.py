"""Errors and close codes of the WebSocket codec (RFC 6455)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["CloseCode", "HandshakeError", "LocalProtocolError", "WebSocketError"]


class CloseCode(IntEnum):
    """Status codes of RFC 6455 section 7.4.1 (plus the IANA registrations
    1012-1014 from the "WebSocket Close Code Number Registry", section 11.7)."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    # 1004 is reserved (section 7.4.1).
    NO_STATUS_RCVD = 1005  # MUST NOT be sent in a Close frame (7.4.1)
    ABNORMAL_CLOSURE = 1006  # MUST NOT be sent in a Close frame (7.4.1)
    INVALID_FRAME_PAYLOAD_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015  # MUST NOT be sent in a Close frame (7.4.1)


class WebSocketError(Exception):
    """The peer broke RFC 6455 (or a configured limit).

    ``code`` is the close code to send before closing the connection
    (section 7.1.7, "_Fail the WebSocket Connection_"): 1002 protocol error,
    1007 invalid UTF-8, 1009 message too big, 1008 policy violation...
    """

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message or f"WebSocket error {code}")
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class LocalProtocolError(RuntimeError):
    """The local application misused the connection (e.g. sent data after Close)."""


class HandshakeError(Exception):
    """An opening handshake is not acceptable (RFC 6455 section 4).

    On the server side ``status`` is the HTTP status to answer with (400 Bad
    Request, 426 Upgrade Required...) and ``headers`` any header fields that
    response must carry (section 4.4: a version mismatch answers with
    ``Sec-WebSocket-Version``).  On the client side ``status`` is the status
    code the server answered with.
    """

    def __init__(self, message: str, status: int = 400, headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.headers = headers

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"
