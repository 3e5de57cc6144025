"""The IRC component: a thin adapter from a byte transport to IRC events.

It binds an :class:`~circuits.protocols.irc.parser.IRCParser` to the
``read``/``write`` events of a transport on the same channel (typically a
``TCPClient``): ``read(data)`` -> lines -> messages -> events named after
the command (see :mod:`.events`); an outgoing command event (see
:mod:`.commands`), or a 3.x ``request(message)`` event, -> ``write(bytes)``. It answers the server's PING with a
PONG by itself (RFC 2812 section 3.7.2), because a client that forgets to
is disconnected.

Client side only: ``read`` is expected with one argument (data), as a
client transport fires it.
"""

from __future__ import annotations

from typing import Any

from ...core.components import BaseComponent
from ...core.events import Event
from ...core.handlers import handler
from .commands import PONG, Command
from .events import ctcp, ctcpreply, irc_error, numeric, write
from .message import Message, Source
from .parser import BadLine, IRCParser

__all__ = ["IRC"]


class IRC(BaseComponent):
    """IRC protocol component (see module doc).

    ``nick`` follows what the server says our nick is (RPL_WELCOME, and
    NICK messages about us). Lines that do not parse are counted in
    ``statistics()`` and otherwise ignored.
    """

    channel: Any = "irc"

    def __init__(self, encoding: str = "utf-8", channel: Any = channel, auto_pong: bool = True) -> None:
        super().__init__(channel=channel)
        self.encoding = encoding
        self.auto_pong = auto_pong
        self.parser = IRCParser(encoding)
        self.nick: str | None = None

    # -- bytes in ----------------------------------------------------------
    @handler("read")
    def _on_read(self, *args: Any) -> None:
        if len(args) != 1:  # a server's read(sock, data): not ours (see module doc)
            return
        self.parser.receive_data(args[0])
        for item in self.parser:
            if isinstance(item, Message):
                self._handle_message(item)

    @handler("line")
    def line(self, line: str | bytes) -> None:
        """Process one line (for callers that do their own framing)."""
        data = line.encode(self.encoding) if isinstance(line, str) else bytes(line)
        parser = IRCParser(self.encoding)
        for item in parser.feed(data.rstrip(b"\r\n") + b"\r\n"):
            if isinstance(item, BadLine):
                self.parser.bad_lines += 1
            else:
                self._handle_message(item)

    @handler("connected", "disconnected")
    def _on_connection_change(self, *args: Any) -> None:
        # A partial line of the old connection must not prefix the first line of the next.
        self.parser.reset()

    def _handle_message(self, message: Message) -> None:
        source: Source | None = message.source
        params = message.params
        command = message.command
        if message.is_numeric:
            code = int(command)
            if code == 1 and params:
                self.nick = params[0]  # RPL_WELCOME's first parameter is our nick
            self.fire(numeric(source, code, *params))
            return
        if command == "PING":
            if self.auto_pong:
                self.fire(PONG(params[-1] if params else ""))
        elif command == "NICK" and source is not None and source.nick == self.nick and params:
            self.nick = params[0]
        elif command in ("PRIVMSG", "NOTICE") and len(params) == 2 and _is_ctcp(params[1]):
            kind, _, text = params[1].strip("\x01").partition(" ")
            event = ctcp if command == "PRIVMSG" else ctcpreply
            self.fire(event(source, params[0], kind.upper(), text))
            return
        elif command == "ERROR":
            self.fire(irc_error(source, *params))
            return
        self.fire(Event.create(command.lower(), source, *params))

    # -- commands out ------------------------------------------------------
    @handler(priority=-1)
    def _on_command(self, event: Event, *args: Any, **kwargs: Any) -> None:
        # Every event on our channel comes here; only commands are ours.
        if isinstance(event, Command):
            self._send(event.message())

    @handler("request")
    def _on_request(self, message: Message) -> None:
        """circuits 3.x: ``request(Message(...))`` sends that message."""
        self._send(message)

    def _send(self, message: Message) -> None:
        if message.command == "NICK" and self.nick is None:
            self.nick = message.params[0]  # until the server tells us otherwise
        self.fire(write(message.encode(self.encoding)))

    def statistics(self) -> dict[str, Any]:
        return {"nick": self.nick, **self.parser.statistics()}


def _is_ctcp(text: str) -> bool:
    return len(text) >= 2 and text.startswith("\x01")
