"""The IRC component: read -> events, command events -> write, auto PONG.

First driven directly (``read`` events in, ``write`` events recorded, the
loop flushed by hand), then against a tiny IRC server: a real TCP socket
served by a thread, speaking a few lines of IRC.
"""

from __future__ import annotations

import queue
import socket
import threading
from typing import Any

import pytest

from circuits import BaseComponent, Event, Manager, handler
from circuits.net.client import TCPClient
from circuits.net.events import connect
from circuits.protocols.irc import (
    CTCP,
    CTCPREPLY,
    IRC,
    JOIN,
    KICK,
    MODE,
    NICK,
    PART,
    PONG,
    PRIVMSG,
    QUIT,
    RAW,
    USER,
    WHOIS,
    InvalidMessage,
    Message,
    Source,
    request,
)

TIMEOUT = 10.0


class Tape(BaseComponent):
    """Records every event on its channel."""

    def init(self, *args: Any, **kwargs: Any) -> None:
        self.events: list[Event] = []

    @handler(priority=100)
    def _record(self, event: Event, *args: Any, **kwargs: Any) -> None:
        self.events.append(event)

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [tuple(e.args) for e in self.events if e.name == name]

    def written(self) -> bytes:
        return b"".join(e.args[0] for e in self.events if e.name == "write")


@pytest.fixture
def app():
    manager = Manager()
    irc = IRC(channel="bot").register(manager)
    tape = Tape(channel="bot").register(manager)
    manager.flush()
    return manager, irc, tape


def feed(manager: Manager, data: bytes) -> None:
    manager.fire(Event.create("read", data), "bot")
    manager.flush()


ALICE = Source("alice", "al", "host")


@pytest.mark.parametrize("wire, name, args", [
    (b":alice!al@host PRIVMSG #c :hi there\r\n", "privmsg", (ALICE, "#c", "hi there")),
    (b":alice!al@host NOTICE bot :psst\r\n", "notice", (ALICE, "bot", "psst")),
    (b":alice!al@host JOIN #c\r\n", "join", (ALICE, "#c")),
    (b":alice!al@host PART #c :bye\r\n", "part", (ALICE, "#c", "bye")),
    (b":alice!al@host QUIT :gone\r\n", "quit", (ALICE, "gone")),
    (b":alice!al@host NICK alicia\r\n", "nick", (ALICE, "alicia")),
    (b":alice!al@host KICK #c bob :spam\r\n", "kick", (ALICE, "#c", "bob", "spam")),
    (b":alice!al@host MODE #c +o bob\r\n", "mode", (ALICE, "#c", "+o", "bob")),
    (b":alice!al@host TOPIC #c :new topic\r\n", "topic", (ALICE, "#c", "new topic")),
    (b":alice!al@host INVITE bot #c\r\n", "invite", (ALICE, "bot", "#c")),
    (b":srv 433 * bot :Nickname is already in use\r\n", "numeric",
     (Source("srv"), 433, "*", "bot", "Nickname is already in use")),
    (b":alice!al@host PRIVMSG bot :\x01VERSION\x01\r\n", "ctcp", (ALICE, "bot", "VERSION", "")),
    (b":alice!al@host PRIVMSG #c :\x01ACTION waves\x01\r\n", "ctcp", (ALICE, "#c", "ACTION", "waves")),
    (b":alice!al@host NOTICE bot :\x01PING 123\x01\r\n", "ctcpreply", (ALICE, "bot", "PING", "123")),
    (b"ERROR :Closing link\r\n", "irc_error", (None, "Closing link")),
    (b":srv CAP * LS :multi-prefix\r\n", "cap", (Source("srv"), "*", "LS", "multi-prefix")),
])
def test_incoming_messages_become_events(app, wire, name, args):
    manager, irc, tape = app
    feed(manager, wire)
    assert tape.named(name) == [args]


def test_ctcp_is_not_also_a_privmsg(app):
    manager, irc, tape = app
    feed(manager, b":a PRIVMSG bot :\x01VERSION\x01\r\n")
    assert tape.named("privmsg") == []


def test_lines_split_across_reads(app):
    manager, irc, tape = app
    for chunk in (b":alice!al@host PRIV", b"MSG #c :he", b"llo\r", b"\n:a NICK b\r\n"):
        feed(manager, chunk)
    assert tape.named("privmsg") == [(ALICE, "#c", "hello")]
    assert tape.named("nick") == [(Source("a"), "b")]


def test_ping_is_answered_with_pong(app):
    manager, irc, tape = app
    feed(manager, b"PING :irc.example.net\r\n")
    assert tape.named("ping") == [(None, "irc.example.net")]
    assert tape.written() == b"PONG irc.example.net\r\n"


def test_nick_follows_the_server(app):
    manager, irc, tape = app
    manager.fire(NICK("bot"), "bot")
    manager.flush()
    assert irc.nick == "bot"
    feed(manager, b":srv 001 bot_ :Welcome\r\n")
    assert irc.nick == "bot_"
    feed(manager, b":bot_!u@h NICK bot2\r\n:other!u@h NICK x\r\n")
    assert irc.nick == "bot2"


@pytest.mark.parametrize("command, wire", [
    (PRIVMSG("#c", "hello world"), b"PRIVMSG #c :hello world\r\n"),
    (JOIN("#c"), b"JOIN #c\r\n"),
    (JOIN("#c", "key"), b"JOIN #c key\r\n"),
    (USER("bot", "host", "server", "A Bot"), b"USER bot host server :A Bot\r\n"),
    (QUIT(), b"QUIT Leaving\r\n"),
    (QUIT("see you"), b"QUIT :see you\r\n"),
    (KICK("#c", "bob", "spam"), b"KICK #c bob spam\r\n"),
    (MODE("+i"), b"MODE +i\r\n"),
    (MODE("+o", "#c", "bob"), b"MODE #c +o bob\r\n"),
    (CTCP("alice", "version"), b"PRIVMSG alice \x01VERSION\x01\r\n"),
    (CTCPREPLY("alice", "VERSION", "circuits bot"), b"NOTICE alice :\x01VERSION circuits bot\x01\r\n"),
    (RAW("CAP LS 302"), b"CAP LS 302\r\n"),
])
def test_commands_write_lines(app, command, wire):
    manager, irc, tape = app
    manager.fire(command, "bot")
    manager.flush()
    assert tape.written() == wire
    assert tape.named(command.name.removeprefix("command_")) == []  # never mistaken for incoming


def test_an_injection_attempt_is_refused_where_the_command_is_made(app):
    manager, irc, tape = app
    with pytest.raises(InvalidMessage, match="CR, LF or NUL"):
        PRIVMSG("#c", "hi\r\nQUIT :pwned")
    with pytest.raises(InvalidMessage):
        RAW("NICK a\r\nQUIT")
    with pytest.raises(TypeError):
        PRIVMSG("#c")  # a wrong argument list fails at the call site too
    manager.flush()
    assert tape.written() == b""


@pytest.mark.parametrize("command, wire", [
    # circuits 3.x argument orders and optional arguments.
    (MODE("#c", "+o", "bob"), b"MODE #c +o bob\r\n"),
    (MODE("bot", "+i"), b"MODE bot +i\r\n"),
    (PART("#c"), b"PART #c\r\n"),
    (PART("#c", "bye now"), b"PART #c :bye now\r\n"),
    (PONG("a", "b"), b"PONG a b\r\n"),
    (WHOIS("alice", "srv"), b"WHOIS srv alice\r\n"),
])
def test_commands_with_3x_signatures(app, command, wire):
    manager, irc, tape = app
    assert bytes(command.args[0]) == wire  # the message rides in args[0], as in 3.x
    manager.fire(command, "bot")
    manager.flush()
    assert tape.written() == wire


def test_a_3x_request_event_sends_its_message(app):
    manager, irc, tape = app
    manager.fire(request(Message("PRIVMSG", "#c", "hi there", None)), "bot")
    manager.fire(request(Message("NICK", "bot")), "bot")
    manager.flush()
    assert tape.written() == b"PRIVMSG #c :hi there\r\nNICK bot\r\n"
    assert irc.nick == "bot"


# -- against a tiny IRC server on a real socket -------------------------------------

class TinyIRCServer:
    """Accepts one client; a script of (expected line prefix -> lines to send)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received: queue.Queue[str] = queue.Queue()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(TIMEOUT)
        conn, _ = self.listener.accept()
        conn.settimeout(TIMEOUT)
        self.conn = conn
        buf = b""
        with conn:
            while True:
                try:
                    data = conn.recv(4096)
                except OSError:
                    break
                if not data:
                    break
                buf += data
                while b"\r\n" in buf:
                    line, buf = buf.split(b"\r\n", 1)
                    self.received.put(line.decode())

    def send(self, text: str) -> None:
        self.conn.sendall(text.encode() + b"\r\n")

    def expect(self, prefix: str) -> str:
        line = self.received.get(timeout=TIMEOUT)
        assert line.startswith(prefix), (line, prefix)
        return line

    def close(self) -> None:
        self.listener.close()


class Bot(BaseComponent):
    def init(self, port: int, results: queue.Queue[Any], **kwargs: Any) -> None:
        self.port = port
        self.results = results

    @handler("ready")
    def _on_ready(self, component: Any, bind: Any = None) -> None:
        self.fire(connect("127.0.0.1", self.port))

    @handler("connected")
    def _on_connected(self, host: str, port: int) -> None:
        self.fire(NICK("bot"))
        self.fire(USER("bot", "localhost", "localhost", "Test Bot"))

    @handler("numeric")
    def _on_numeric(self, source: Source, number: int, *params: str) -> None:
        if number == 1:
            self.fire(JOIN("#test"))

    @handler("privmsg")
    def _on_privmsg(self, source: Source, target: str, message: str) -> None:
        self.results.put(("privmsg", source.nick, target, message))
        self.fire(PRIVMSG(source.nick, f"you said {message}"))


def test_a_bot_against_a_tiny_irc_server():
    server = TinyIRCServer()
    results: queue.Queue[Any] = queue.Queue()
    app = Manager()
    TCPClient(channel="bot").register(app)
    irc = IRC(channel="bot").register(app)
    Bot(server.port, results, channel="bot").register(app)
    app.start()
    try:
        assert server.expect("NICK") == "NICK bot"
        assert server.expect("USER") == "USER bot localhost localhost :Test Bot"
        server.send(":irc.test 001 bot :Welcome to the test network")
        assert server.expect("JOIN") == "JOIN #test"
        server.send("PING :irc.test")
        assert server.expect("PONG") == "PONG irc.test"
        server.send(":alice!a@example PRIVMSG #test :hello bot")
        assert results.get(timeout=TIMEOUT) == ("privmsg", "alice", "#test", "hello bot")
        assert server.expect("PRIVMSG") == "PRIVMSG alice :you said hello bot"
        assert irc.nick == "bot"
    finally:
        app.stop()
        app.join(TIMEOUT)
        server.close()


def test_line_events_are_parsed_too(app):
    manager, irc, tape = app
    manager.fire(Event.create("line", ":alice!al@host PRIVMSG #c :via line"), "bot")
    manager.fire(Event.create("line", b"not a :valid line"), "bot")
    manager.flush()
    assert tape.named("privmsg") == [(ALICE, "#c", "via line")]
