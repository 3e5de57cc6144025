"""WebSocketsDispatcher in a real web server: echo with WebSocketClient, hostile raw clients."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from circuits import Component, Manager
from circuits.net.events import broadcast, write
from circuits.net.events import close as close_event
from circuits.protocols.websocket import (
    BytesMessage,
    CloseReceived,
    Opcode,
    Ping,
    Pong,
    TextMessage,
    WebSocketConnection,
    WebSocketError,
    build_frame,
    client_handshake_request,
    validate_server_response,
)
from circuits.web.websockets import WebSocketClient, WebSocketsDispatcher
from tests.core.helpers import TIMEOUT, running

try:
    from circuits.web.servers import Server
except ImportError:  # WEB-CORE's servers module not there yet: assemble one
    Server = None

from circuits.net.server import TCPServer
from circuits.web.http import HTTP


class Echo(Component):
    """The application on the wschannel: echoes by returning, records events."""

    channel = "wsserver"

    def init(self) -> None:
        self.connects: list[Any] = []
        self.disconnects: list[Any] = []
        self.messages: list[Any] = []
        self.cond = threading.Condition()

    def connect(self, sock: Any, host: str, port: int) -> None:
        with self.cond:
            self.connects.append(sock)
            self.cond.notify_all()

    def read(self, sock: Any, data: Any) -> Any:
        with self.cond:
            self.messages.append(data)
            self.cond.notify_all()
        if data == "broadcast please":
            self.fire(broadcast("to everyone"))
            return None
        if isinstance(data, str) and data.startswith("chunk "):
            # One 64 KiB broadcast per request: the requester paces the flood.
            self.fire(broadcast(int(data[6:]).to_bytes(4, "big") * 16384))
            return None
        return data

    def disconnect(self, sock: Any) -> None:
        with self.cond:
            self.disconnects.append(sock)
            self.cond.notify_all()

    def wait(self, predicate: Any) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, TIMEOUT)


class Site:
    def __init__(self, **dispatcher_args: Any) -> None:
        self.app = Manager()
        if Server is not None:
            self.server = Server(("127.0.0.1", 0)).register(self.app)
            self.tcp = self.server.server
        else:
            self.tcp = TCPServer(("127.0.0.1", 0), channel="web").register(self.app)
            HTTP(channel="web").register(self.app)
        self.dispatcher = WebSocketsDispatcher("/ws", **dispatcher_args).register(self.app)
        self.echo = Echo().register(self.app)
        self.port = self.tcp.port
        self.url = f"ws://127.0.0.1:{self.port}/ws"


@pytest.fixture
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    args = getattr(request, "param", {})
    site = Site(**args)
    with running(site.app):
        yield site


class RawClient:
    """A blocking WebSocket client that can misbehave."""

    def __init__(self, port: int, path: str = "/ws", rcvbuf: int | None = None) -> None:
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        head, key = client_handshake_request(f"127.0.0.1:{port}", path)
        self.sock.sendall(head)
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(1)  # byte by byte: never read past the head
            assert chunk, "server closed during the handshake"
            response += chunk
        self.head = response.decode("latin-1")
        lines = self.head.split("\r\n")
        status = int(lines[0].split()[1])
        fields = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if line]
        validate_server_response(status, fields, key)
        self.conn = WebSocketConnection(client=True, max_message_size=8 << 20, max_frame_size=8 << 20)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def next_event(self) -> Any:
        """The next event from the server (CloseReceived(1006) at EOF)."""
        while True:
            event = self.conn.next_event()
            if event is not None:
                return event
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            self.conn.receive_data(data)

    def close_code(self) -> int:
        """Read until the server's Close (or EOF) and return its code."""
        while True:
            event = self.next_event()
            if isinstance(event, CloseReceived):
                return event.code

    def at_eof(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True


class WSApp(Component):
    channel = "ws"

    def init(self, messages: list[Any]) -> None:
        self.messages = messages
        self.replies: list[Any] = []
        self.done = threading.Event()

    def connected(self, host: Any, port: Any) -> None:
        for message in self.messages:
            self.fire(write(message))

    def read(self, data: Any) -> None:
        self.replies.append(data)
        if len(self.replies) == len(self.messages):
            self.fire(close_event())

    def disconnected(self) -> None:
        self.done.set()


def test_echo_with_websocket_client(site: Site) -> None:
    big = b"\x00\xff" * 300_000
    root = Manager()
    client = WebSocketClient(site.url).register(root)
    app = WSApp(["hello", b"\x01\x02", "ünïcødé", big]).register(root)
    with running(root):
        assert app.done.wait(TIMEOUT)
    assert app.replies == ["hello", b"\x01\x02", "ünïcødé", big]
    assert client.close_code == 1000
    assert site.echo.wait(lambda: len(site.echo.disconnects) == 1)
    assert site.echo.connects == site.echo.disconnects


def test_fragmented_and_interleaved_ping(site: Site) -> None:
    raw = RawClient(site.port)
    assert "101" in raw.head.split("\r\n")[0]
    key = b"\x01\x02\x03\x04"
    payload = "a fragmented ✓ text".encode()
    raw.send(build_frame(Opcode.TEXT, payload[:4], fin=False, masking_key=key))
    raw.send(build_frame(Opcode.PING, b"ping!", masking_key=key))
    raw.send(build_frame(Opcode.CONTINUATION, payload[4:13], fin=False, masking_key=key))
    raw.send(build_frame(Opcode.CONTINUATION, payload[13:], fin=True, masking_key=key))
    raw.send(raw.conn.send_bytes(b"binary" * 1000, fragment_size=333))
    events = [raw.next_event() for _ in range(3)]
    # Section 5.5.2: the Pong (echoing the Ping's data) may come between fragments' answers.
    assert events == [Pong(b"ping!"), TextMessage("a fragmented ✓ text"), BytesMessage(b"binary" * 1000)]
    raw.send(raw.conn.close(1000, "bye"))
    assert raw.close_code() == 1000
    assert raw.at_eof(), "section 7.1.1: the server closes the TCP connection after the closing handshake"


@pytest.mark.parametrize(("frame", "code"), [
    # Section 10.4 limit: the header alone announces 1 MiB + 1, refused before any payload arrives.
    (build_frame(Opcode.BINARY, b"", masking_key=b"abcd")[:2] + b"", None),
    (build_frame(Opcode.TEXT, b"\xc3\x28 bad utf-8", masking_key=b"abcd"), 1007),
    (build_frame(Opcode.TEXT, b"unmasked"), 1002),  # section 5.1: clients MUST mask
    (build_frame(Opcode.PING, b"x" * 126, masking_key=b"abcd"), 1002),  # section 5.5: control <= 125
    (bytes([0x83, 0x80]) + b"abcd", 1002),  # reserved opcode 0x3
    (build_frame(Opcode.CONTINUATION, b"orphan", masking_key=b"abcd"), 1002),
])
def test_protocol_violations_close_with_the_right_code(site: Site, frame: bytes, code: int | None) -> None:
    raw = RawClient(site.port)
    if code is None:
        # 127 = 64-bit length follows; MASK bit set.
        header = bytes([0x82, 0x80 | 127]) + ((1 << 20) + 1).to_bytes(8, "big") + b"abcd"
        raw.send(header)
        code = 1009
    else:
        raw.send(frame)
    assert raw.close_code() == code
    assert raw.at_eof()
    assert site.echo.wait(lambda: len(site.echo.disconnects) == 1)


def test_message_just_under_the_limit_is_accepted(site: Site) -> None:
    raw = RawClient(site.port)
    raw.send(raw.conn.send_bytes(b"y" * (1 << 20)))
    event = raw.next_event()
    assert isinstance(event, BytesMessage) and len(event.data) == 1 << 20


@pytest.mark.parametrize("site", [{"ping_interval": 0.05, "ping_timeout": 0.15}], indirect=True)
def test_ping_timeout_drops_a_silent_peer(site: Site) -> None:
    raw = RawClient(site.port)
    # Never answer: the raw client does not read at all until the server gave up.
    assert site.echo.wait(lambda: len(site.echo.disconnects) == 1)
    events = []
    while True:
        event = raw.next_event()
        events.append(event)
        if isinstance(event, CloseReceived):
            break
    assert any(isinstance(e, Ping) for e in events)
    assert events[-1].code in (1011, 1006)


@pytest.mark.parametrize("site", [{"ping_interval": 0.05, "ping_timeout": 0.5}], indirect=True)
def test_ping_answered_keeps_the_connection(site: Site) -> None:
    root = Manager()
    client = WebSocketClient(site.url, ping_interval=None).register(root)
    app = WSApp([]).register(root)
    with running(root):
        deadline = time.monotonic() + 0.6
        while time.monotonic() < deadline:
            threading.Event().wait(0.05)
        assert client.connected
        assert site.dispatcher.statistics()["clients"] == 1
    del app


def test_handshake_refusals(site: Site) -> None:
    def ask(head: bytes) -> str:
        with socket.create_connection(("127.0.0.1", site.port), timeout=TIMEOUT) as s:
            s.sendall(head)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data.decode("latin-1")

    plain = ask(b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
    assert plain.startswith("HTTP/1.1 426") and "Sec-WebSocket-Version: 13" in plain
    version = ask(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
    assert version.startswith("HTTP/1.1 426")
    bad_key = ask(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n")
    assert bad_key.startswith("HTTP/1.1 400")
    post = ask(b"POST /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    assert post.startswith("HTTP/1.1 400")
    elsewhere = ask(b"GET /other HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n")
    assert elsewhere.startswith("HTTP/1.1 404")


@pytest.mark.parametrize("site", [{"max_send_buffer": 256 * 1024}], indirect=True)
def test_slow_consumer_is_dropped_without_slowing_others(site: Site) -> None:
    slow = RawClient(site.port, rcvbuf=4096)  # never reads
    fast = RawClient(site.port)
    assert site.echo.wait(lambda: len(site.echo.connects) == 2)
    fast.send(fast.conn.send_text("broadcast please"))
    assert fast.next_event() == TextMessage("to everyone")
    # 64 x 64 KiB broadcast to both, the next chunk only once the fast client
    # has the previous one: whatever the scheduling, at most one chunk is
    # ever queued for it (far below the limit), while the slow one's backlog
    # grows by a chunk per step until it passes the limit.
    for i in range(64):
        fast.send(fast.conn.send_text(f"chunk {i}"))
        event = fast.next_event()  # waits up to TIMEOUT: a busy machine only slows it
        assert isinstance(event, BytesMessage) and event.data[:4] == i.to_bytes(4, "big")
        assert len(event.data) == 65536
    assert site.echo.wait(lambda: len(site.echo.disconnects) == 1)
    assert site.dispatcher.statistics()["dropped_slow"] == 1
    assert slow.close_code() == 1006  # dropped without a closing handshake
    # The fast one got everything and is still connected.
    assert site.dispatcher.statistics()["clients"] == 1
    fast.send(fast.conn.send_text("still here"))
    assert fast.next_event() == TextMessage("still here")
    assert len(site.echo.disconnects) == 1  # still only the slow one


def test_broadcast_many_sends_every_message_in_order(site: Site) -> None:
    a, b = RawClient(site.port), RawClient(site.port)
    assert site.echo.wait(lambda: len(site.echo.connects) == 2)
    # Bytes as text (UTF-8 JSON made once for several sinks), str, bytes as binary.
    messages: list[str | bytes] = [b'{"n":1}', "zwei \u00e9", b"\xff\x00" * 40000]
    site.app.loop.call_soon_threadsafe(lambda: site.dispatcher.broadcast_many(messages[:2], text=True))
    site.app.loop.call_soon_threadsafe(lambda: site.dispatcher.broadcast_many(messages[2:]))
    for client in (a, b):
        assert client.next_event() == TextMessage('{"n":1}')
        assert client.next_event() == TextMessage("zwei \u00e9")
        assert client.next_event() == BytesMessage(b"\xff\x00" * 40000)
    # Nothing to send is no write at all.
    assert site.dispatcher.broadcast_many([]) == 0


def test_wrong_channel_arguments() -> None:
    with pytest.raises(ValueError):
        WebSocketsDispatcher("/ws", wschannel="web")


def test_codec_errors_are_typed() -> None:
    conn = WebSocketConnection(client=False)
    conn.receive_data(build_frame(Opcode.TEXT, b"x"))
    with pytest.raises(WebSocketError) as info:
        conn.next_event()
    assert info.value.code == 1002
