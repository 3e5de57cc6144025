"""WebSocketClient against a tiny blocking WebSocket server written with the codec."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from circuits import Component, Manager
from circuits.net.events import close as close_event
from circuits.net.events import write
from circuits.protocols.websocket import (
    BytesMessage,
    CloseReceived,
    Opcode,
    Pong,
    TextMessage,
    WebSocketConnection,
    WebSocketError,
    build_frame,
    server_handshake_response,
    validate_client_handshake,
)
from circuits.web.websockets import WebSocketClient
from tests.core.helpers import TIMEOUT, running


class RawServer:
    """Accepts one connection, does the handshake, then runs ``behaviour(sock, conn)``."""

    def __init__(self, behaviour: Callable[[socket.socket, WebSocketConnection], None],
                 accept: bool = True) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.behaviour = behaviour
        self.accept = accept
        self.request_head = b""
        self.received: list[Any] = []
        self.close_code: int | None = None
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            sock, _ = self.listener.accept()
            sock.settimeout(TIMEOUT)
            with sock:
                head = b""
                while b"\r\n\r\n" not in head:
                    head += sock.recv(4096)
                self.request_head, _, rest = head.partition(b"\r\n\r\n")
                lines = self.request_head.decode().split("\r\n")
                fields = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]
                if not self.accept:
                    sock.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    return
                key = validate_client_handshake(lines[0].split()[0], fields)
                sock.sendall(server_handshake_response(key))
                conn = WebSocketConnection(client=False, max_message_size=4 << 20, max_frame_size=4 << 20)
                if rest:
                    conn.receive_data(rest)
                self.behaviour(sock, conn)
        except OSError:
            pass
        finally:
            self.finished.set()

    def events(self, sock: socket.socket, conn: WebSocketConnection) -> Iterator[Any]:
        """Events from the peer until EOF."""
        while True:
            try:
                for event in conn:
                    yield event
            except WebSocketError as e:
                self.close_code = e.code
                return
            data = sock.recv(65536)
            conn.receive_data(data)
            if not data:
                for event in conn:
                    yield event
                return

    def echo(self, sock: socket.socket, conn: WebSocketConnection) -> None:
        for event in self.events(sock, conn):
            self.received.append(event)
            if isinstance(event, TextMessage):
                sock.sendall(conn.send_text(event.data))
            elif isinstance(event, BytesMessage):
                sock.sendall(conn.send_bytes(event.data))
            elif isinstance(event, CloseReceived):
                self.close_code = event.code
                sock.sendall(conn.auto_reply(event))
                return  # section 7.1.1: the server closes the TCP connection first
            else:
                sock.sendall(conn.auto_reply(event))

    def close(self) -> None:
        self.listener.close()
        self.thread.join(TIMEOUT)


class App(Component):
    """Sends ``messages`` once connected, collects replies, closes after ``expect`` replies."""

    channel = "ws"

    def init(self, messages: list[Any], expect: int | None = None, close: bool = True) -> None:
        self.messages = messages
        self.expect = len(messages) if expect is None else expect
        self.close_after = close
        self.replies: list[Any] = []
        self.opened = threading.Event()
        self.ended = threading.Event()
        self.failed: Any = None

    def connected(self, host: Any, port: Any) -> None:
        self.opened.set()
        for message in self.messages:
            self.fire(write(message))

    def read(self, data: Any) -> None:
        self.replies.append(data)
        if len(self.replies) == self.expect and self.close_after:
            self.fire(close_event())

    def disconnected(self) -> None:
        self.ended.set()

    def not_connected(self, url: str, reason: Any) -> None:
        self.failed = reason
        self.ended.set()


def run_client(server: RawServer, app: App, **kwargs: Any) -> WebSocketClient:
    root = Manager()
    client = WebSocketClient(f"ws://127.0.0.1:{server.port}/chat?room=1", headers={"X-Test": "yes"},
                             **kwargs).register(root)
    app.register(root)
    with running(root):
        assert app.ended.wait(TIMEOUT), "the client never finished"
    server.close()
    return client


def test_echo_text_binary_and_close_handshake() -> None:
    server = RawServer(lambda s, c: server.echo(s, c))
    big = bytes(range(256)) * 1024  # 256 KiB: several TCP reads
    app = App(["hello", b"\x00\x01binary", "ünïcødé ✓", big])
    client = run_client(server, app)
    assert app.replies == ["hello", b"\x00\x01binary", "ünïcødé ✓", big]
    assert server.close_code == 1000 and client.close_code == 1000
    assert b"GET /chat?room=1 HTTP/1.1" in server.request_head and b"X-Test: yes" in server.request_head


def test_server_fragmented_message_and_ping_are_handled() -> None:
    def behaviour(sock: socket.socket, conn: WebSocketConnection) -> None:
        # Section 5.4: one text message in three frames, a Ping in the middle.
        payload = "fragmented ✓ message".encode()
        sock.sendall(build_frame(Opcode.TEXT, payload[:5], fin=False))
        sock.sendall(build_frame(Opcode.PING, b"are you there", fin=True))
        sock.sendall(build_frame(Opcode.CONTINUATION, payload[5:13], fin=False))  # splits the ✓
        sock.sendall(build_frame(Opcode.CONTINUATION, payload[13:], fin=True))
        for event in server.events(sock, conn):
            server.received.append(event)
            if isinstance(event, CloseReceived):
                sock.sendall(conn.auto_reply(event))
                return

    server = RawServer(behaviour)
    app = App([], expect=1)
    run_client(server, app)
    assert app.replies == ["fragmented ✓ message"]
    assert Pong(b"are you there") in server.received, "the client must answer a Ping with a Pong carrying its data"


@pytest.mark.parametrize(("frame", "code"), [
    (build_frame(Opcode.TEXT, b"\xff\xfe invalid utf-8"), 1007),
    # Only the header of a 1 MiB + 1 frame: the client must refuse it before
    # any payload arrives (and a whole MiB in flight would race the close).
    (build_frame(Opcode.BINARY, b"x" * ((1 << 20) + 1))[:10], 1009),
    (build_frame(Opcode.TEXT, b"masked", masking_key=b"abcd"), 1002),  # section 5.1: servers never mask
])
def test_client_fails_the_connection_with_the_right_code(frame: bytes, code: int) -> None:
    def behaviour(sock: socket.socket, conn: WebSocketConnection) -> None:
        sock.sendall(frame)
        for event in server.events(sock, conn):
            if isinstance(event, CloseReceived):
                server.close_code = event.code
                return

    server = RawServer(behaviour)
    app = App([], expect=1)
    client = run_client(server, app)
    assert app.replies == []
    assert server.close_code == code and client.close_code == code


def test_ping_timeout_closes_a_silent_server() -> None:
    def behaviour(sock: socket.socket, conn: WebSocketConnection) -> None:
        server.finished.wait(TIMEOUT)  # never reads, never answers a Ping

    server = RawServer(behaviour)
    app = App([], expect=1)
    client = run_client(server, app, ping_interval=0.05, ping_timeout=0.1)
    assert client.close_code == 1006 and client.close_reason == "keepalive ping timeout"
    assert client.endpoint is not None and client.endpoint.pings_sent == 1


def test_refused_handshake_and_unreachable() -> None:
    server = RawServer(lambda s, c: None, accept=False)
    app = App([])
    run_client(server, app)
    assert app.failed is not None and getattr(app.failed, "status", None) == 403

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    root = Manager()
    WebSocketClient(f"ws://127.0.0.1:{port}/").register(root)
    app = App([]).register(root)
    with running(root):
        assert app.ended.wait(TIMEOUT)
    assert isinstance(app.failed, OSError)


def test_channels_must_differ() -> None:
    with pytest.raises(ValueError):
        WebSocketClient("ws://127.0.0.1:1/", channel="x", wschannel="x")
    with pytest.raises(ValueError):
        WebSocketClient("ftp://127.0.0.1:1/")
