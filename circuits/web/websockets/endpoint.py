"""One end of an open WebSocket: the codec bound to a transport and a clock.

Both the server dispatcher and the client use :class:`WebSocketEndpoint`;
it is not a component. It feeds received bytes to the sans-I/O codec,
answers Pings, runs the closing handshake and the keepalive, and reports
complete messages and the end of the connection through two callbacks.
Everything it writes goes through ``send(bytes)``; ``abort()`` drops the
transport at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...core.loop import Loop, TimerHandle
from ...protocols.websocket import (
    BytesMessage,
    CloseCode,
    CloseReceived,
    LocalProtocolError,
    Ping,
    Pong,
    TextMessage,
    WebSocketConnection,
    WebSocketError,
)

__all__ = ["WebSocketEndpoint", "DEFAULT_MAX_MESSAGE"]

#: Section 10.4: "implementations SHOULD impose a limit on frame sizes and
#: the total message size"; 1 MiB unless configured otherwise.
DEFAULT_MAX_MESSAGE = 1 << 20


class WebSocketEndpoint:
    """The protocol state of one WebSocket connection (see module doc).

    ``on_message(data)`` gets each complete message (str for text, bytes for
    binary); ``on_closed(code, reason)`` is called exactly once when the
    connection is over, whoever ended it.
    """

    def __init__(self, loop: Loop, *, client: bool, send: Callable[[bytes], Any],
                 close_transport: Callable[[], Any], abort: Callable[[], Any],
                 on_message: Callable[[str | bytes], Any], on_closed: Callable[[int, str], Any],
                 max_message_size: int = DEFAULT_MAX_MESSAGE, ping_interval: float | None = 20.0,
                 ping_timeout: float | None = 20.0, close_timeout: float = 5.0) -> None:
        self.loop = loop
        self.client = client
        # The codec enforces the limits on the frame *header*, before the
        # payload is buffered (section 10.4), so the frame limit is the
        # message limit: a fragment can never be bigger than its message.
        self.conn = WebSocketConnection(client, max_message_size, max_message_size)
        self._send = send
        self._close_transport = close_transport
        self._abort = abort
        self._on_message = on_message
        self._on_closed = on_closed
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.close_timeout = close_timeout
        self.closed = False
        self.close_code: int | None = None
        self.close_reason = ""
        self._ping_timer: TimerHandle | None = None
        self._pong_deadline: TimerHandle | None = None
        self._close_timer: TimerHandle | None = None
        self._ping_seq = 0
        self._awaited_ping: bytes | None = None
        self.pings_sent = 0
        self.pongs_received = 0
        self._schedule_ping()

    # -- receiving -----------------------------------------------------------
    def receive(self, data: bytes) -> None:
        """Bytes from the transport (``b""`` at EOF)."""
        if self.closed:
            return
        conn = self.conn
        conn.receive_data(data)
        try:
            for event in conn:
                if self.closed:
                    return
                if isinstance(event, TextMessage | BytesMessage):
                    self._on_message(event.data)
                elif isinstance(event, Ping):
                    self._write(conn.auto_pong(event))
                elif isinstance(event, Pong):
                    self._got_pong(event.payload)
                elif isinstance(event, CloseReceived):
                    self._got_close(event)
                    return
        except WebSocketError as e:
            # Section 7.1.7 "_Fail the WebSocket Connection_": send a Close with
            # the error's code (1002, 1007, 1009...) and drop the transport;
            # there is no point waiting for the peer's Close.
            self._write(conn.close(e.code, _short(e.message)))
            self._finish(e.code, e.message, how="close")

    def _got_close(self, event: CloseReceived) -> None:
        if event.code == CloseCode.ABNORMAL_CLOSURE:
            # Section 7.1.5: the transport ended without a Close frame.
            self._finish(event.code, "", how="abort")
            return
        # Section 5.5.1: answer a Close with a Close (echoing the code).
        self._write(self.conn.auto_reply(event))
        # Section 7.1.1: the server closes the TCP connection first; a client
        # waits for the server to do so (with a timeout, in case it never does).
        if self.client:
            self.close_code, self.close_reason = event.code, event.reason
            self._arm_close_timer()
            return
        self._finish(event.code, event.reason, how="close")

    # -- sending -------------------------------------------------------------
    def send_message(self, data: str | bytes | bytearray | memoryview) -> bool:
        """Send one message (text for str, binary otherwise); False once closing."""
        if self.closed or self.conn.close_sent:
            return False
        try:
            frame = self.conn.send_text(data) if isinstance(data, str) else self.conn.send_bytes(bytes(data))
        except LocalProtocolError:
            return False
        self._write(frame)
        return True

    @property
    def can_send(self) -> bool:
        """True until a Close frame was sent (section 5.5.1) or the connection ended."""
        return not self.closed and not self.conn.close_sent

    def send_frame(self, frame: bytes) -> bool:
        """Write an already built data frame (a broadcast builds it once)."""
        if not self.can_send:
            return False
        self._write(frame)
        return True

    def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Start the closing handshake (section 7.1.2); the transport is dropped
        when the peer answers, or after ``close_timeout`` if it never does."""
        if self.closed:
            return
        self._write(self.conn.close(code, _short(reason)))
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self._arm_close_timer()

    def abort(self, code: int = CloseCode.ABNORMAL_CLOSURE, reason: str = "") -> None:
        """Drop the connection without a handshake (e.g. a slow consumer)."""
        self._finish(code, reason, how="abort")

    def transport_gone(self) -> None:
        """The transport closed under us (peer went away, or we closed it)."""
        if self.closed:
            return
        if self.conn.close_sent and self.conn.close_received:
            self._finish(self.close_code or CloseCode.NORMAL_CLOSURE, self.close_reason, how="none")
        else:
            self._finish(CloseCode.ABNORMAL_CLOSURE, "", how="none")

    def _write(self, data: bytes) -> None:
        if data and not self.closed:
            self._send(data)

    # -- keepalive -----------------------------------------------------------
    def _schedule_ping(self) -> None:
        if self.ping_interval and not self.closed:
            self._ping_timer = self.loop.call_later(self.ping_interval, self._send_ping)

    def _send_ping(self) -> None:
        self._ping_timer = None
        if self.closed or self.conn.close_sent:
            return
        # Section 5.5.2: a Ping "MAY serve either as a keepalive or as a means
        # to verify that the remote endpoint is still responsive".
        self._ping_seq += 1
        payload = self._ping_seq.to_bytes(8, "big")
        self._awaited_ping = payload
        self.pings_sent += 1
        self._write(self.conn.ping(payload))
        if self.ping_timeout:
            self._pong_deadline = self.loop.call_later(self.ping_timeout, self._ping_timed_out)

    def _got_pong(self, payload: bytes) -> None:
        self.pongs_received += 1
        # Section 5.5.3: an unsolicited Pong is allowed and needs no answer;
        # only the Pong echoing our latest Ping proves the peer is alive.
        if self._awaited_ping is not None and payload == self._awaited_ping:
            self._awaited_ping = None
            if self._pong_deadline is not None:
                self._pong_deadline.cancel()
                self._pong_deadline = None
            self._schedule_ping()

    def _ping_timed_out(self) -> None:
        self._pong_deadline = None
        if self.closed:
            return
        # The peer stopped answering: a closing handshake would wait on it
        # again, so send a Close (1011, as most implementations do) and drop.
        self._write(self.conn.close(CloseCode.INTERNAL_ERROR, "keepalive ping timeout"))
        self._finish(CloseCode.ABNORMAL_CLOSURE, "keepalive ping timeout", how="abort")

    # -- the end -------------------------------------------------------------
    def _arm_close_timer(self) -> None:
        if self._close_timer is None and not self.closed:
            self._close_timer = self.loop.call_later(self.close_timeout, self._close_timed_out)

    def _close_timed_out(self) -> None:
        self._close_timer = None
        if not self.closed:
            self._finish(self.close_code or CloseCode.ABNORMAL_CLOSURE, "closing handshake timed out",
                         how="abort")

    def _finish(self, code: int, reason: str, *, how: str) -> None:
        """End the connection once. ``how``: "close" the transport after what
        is queued (our Close frame) is written, "abort" it now, or "none"
        when it is already gone."""
        if self.closed:
            return
        self.closed = True
        self.close_code, self.close_reason = code, reason
        for timer in (self._ping_timer, self._pong_deadline, self._close_timer):
            if timer is not None:
                timer.cancel()
        self._ping_timer = self._pong_deadline = self._close_timer = None
        if how == "abort":
            self._abort()
        elif how == "close":
            self._close_transport()
        self._on_closed(code, reason)

    def statistics(self) -> dict[str, Any]:
        stats: dict[str, Any] = dict(self.conn.statistics())
        stats.update(pings_sent=self.pings_sent, pongs_received=self.pongs_received, closed=self.closed)
        return stats


def _short(reason: str) -> str:
    """A close reason fits the 123 bytes a Close frame leaves (section 5.5)."""
    encoded = reason.encode("utf-8")[:123]
    return encoded.decode("utf-8", "ignore")
