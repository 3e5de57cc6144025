"""Outgoing IRC commands as events (the 2.x/3.x names: ``PRIVMSG``, ``JOIN``, ``RAW``...).

Fire one at an :class:`~circuits.protocols.irc.component.IRC` component's
channel and it writes the line: ``self.fire(PRIVMSG("#chan", "hi"), "bot")``.

The message is built when the command is made, so a wrong argument list
(TypeError) or a message that cannot be sent (an
:class:`~circuits.protocols.irc.message.IRCProtocolError`: CR/LF/NUL in a
parameter, over 512 bytes) is raised where the command is written, not
later inside the loop. As in circuits 3.x, ``event.args[0]`` is the
:class:`~circuits.protocols.irc.message.Message` and ``bytes(message)`` its
wire form.

Each command's event *name* is ``command_<lower>`` (``command_privmsg``), not
its uncamelled class name: ``privmsg`` is the name of the *incoming* event
(``privmsg(source, target, message)``), and a command must never be
delivered to the handlers of the message it would send, nor the other way
round. (circuits 3.x named them all ``request``; the IRC component still
sends a ``request(message)`` event's message, see :mod:`.component`.)
"""

from __future__ import annotations

from typing import Any, ClassVar

from ...core.events import Event
from .message import InvalidMessage, Message, parse_message, serialize

__all__ = [
    "AWAY", "COMMANDS", "CTCP", "CTCPREPLY", "Command", "INVITE", "JOIN", "KICK", "MODE", "NAMES",
    "NICK", "NOTICE", "PART", "PASS", "PING", "PONG", "PRIVMSG", "QUIT", "RAW", "TOPIC", "USER",
    "WHOIS",
]

#: Command event class by its event name (``"command_privmsg"`` -> PRIVMSG).
COMMANDS: dict[str, type[Command]] = {}


class Command(Event):
    """Base of the outgoing commands; ``message()`` is what goes on the wire."""

    verb: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.verb = cls.__name__.upper()
        cls.name = f"command_{cls.__name__.lower()}"  # see the module doc
        COMMANDS[cls.name] = cls

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        message = self.build(*args, **kwargs)
        serialize(message)  # refuse what could not be sent, here (see module doc)
        super().__init__(message)

    @staticmethod
    def build(*args: Any, **kwargs: Any) -> Message:
        raise NotImplementedError

    def message(self) -> Message:
        """The message to send."""
        message: Message = self.args[0]
        return message


def _ctcp(kind: str, text: str) -> str:
    # CTCP (the de facto spec): the payload is wrapped in \x01 and must not contain it.
    if "\x01" in kind or "\x01" in text:
        raise InvalidMessage("\\x01 inside a CTCP payload")
    return f"\x01{kind.upper()} {text}\x01" if text else f"\x01{kind.upper()}\x01"


class RAW(Command):
    """Send a line as it is (without its CR LF): ``RAW("CAP LS 302")``."""

    @staticmethod
    def build(data: str) -> Message:
        # Parsed so a raw line still cannot carry a second command (CR/LF/NUL).
        from_line = data.rstrip("\r\n") if isinstance(data, str) else data
        if any(c in from_line for c in "\r\n\0"):
            raise InvalidMessage("CR, LF or NUL inside a RAW line")
        return parse_message(from_line)


class PASS(Command):
    @staticmethod
    def build(password: str) -> Message:
        return Message("PASS", (password,))


class USER(Command):
    """``USER(ident, host, server, name)`` as in 2.x (RFC 1459 section 4.1.3)."""

    @staticmethod
    def build(ident: str, host: str = "*", server: str = "*", name: str = "") -> Message:
        return Message("USER", (ident, host, server, name or ident))


class NICK(Command):
    @staticmethod
    def build(nick: str) -> Message:
        return Message("NICK", (nick,))


class PING(Command):
    @staticmethod
    def build(server: str) -> Message:
        return Message("PING", (server,))


class PONG(Command):
    @staticmethod
    def build(server: str, server2: str | None = None) -> Message:
        return Message("PONG", (server,) if server2 is None else (server, server2))


class QUIT(Command):
    @staticmethod
    def build(message: str = "Leaving") -> Message:
        return Message("QUIT", (message,))


class JOIN(Command):
    @staticmethod
    def build(channel: str, key: str | None = None) -> Message:
        return Message("JOIN", (channel,) if key is None else (channel, key))


class PART(Command):
    @staticmethod
    def build(channel: str, message: str | None = None) -> Message:
        return Message("PART", (channel,) if message is None else (channel, message))


class PRIVMSG(Command):
    @staticmethod
    def build(target: str, message: str) -> Message:
        return Message("PRIVMSG", (target, message))


class NOTICE(Command):
    @staticmethod
    def build(target: str, message: str) -> Message:
        return Message("NOTICE", (target, message))


class CTCP(Command):
    """A CTCP request, e.g. ``CTCP("alice", "VERSION")``."""

    @staticmethod
    def build(target: str, type: str, message: str = "") -> Message:  # noqa: A002 - 2.x name
        return Message("PRIVMSG", (target, _ctcp(type, message)))


class CTCPREPLY(Command):
    """A CTCP reply (a NOTICE), e.g. ``CTCPREPLY("alice", "VERSION", "bot 1.0")``."""

    @staticmethod
    def build(target: str, type: str, message: str = "") -> Message:  # noqa: A002 - 2.x name
        return Message("NOTICE", (target, _ctcp(type, message)))


class KICK(Command):
    @staticmethod
    def build(channel: str, target: str, message: str = "") -> Message:
        return Message("KICK", (channel, target, message) if message else (channel, target))


class TOPIC(Command):
    @staticmethod
    def build(channel: str, topic: str | None = None) -> Message:
        return Message("TOPIC", (channel,) if topic is None else (channel, topic))


class MODE(Command):
    """``MODE(target, *args)`` as in 3.x (``MODE("#c", "+o", "bob")``), or the
    2.x order ``MODE(modes, channel=None, *args)`` (``MODE("+o", "#c", "bob")``).

    Told apart by the first argument: a nick or channel that can carry modes
    never starts with ``+`` or ``-`` (RFC 2812 section 2.3.1; RFC 2811 "+"
    channels have no modes), a mode string always does.
    """

    @staticmethod
    def build(target: str, *args: str) -> Message:
        if args and target[:1] in ("+", "-"):
            channel, *rest = args
            return Message("MODE", (channel, *target.split(), *rest))
        return Message("MODE", (*target.split(), *args))


class INVITE(Command):
    @staticmethod
    def build(target: str, channel: str) -> Message:
        return Message("INVITE", (target, channel))


class NAMES(Command):
    @staticmethod
    def build(channel: str | None = None) -> Message:
        return Message("NAMES", (channel,) if channel else ())


class WHOIS(Command):
    @staticmethod
    def build(nick: str, server: str | None = None) -> Message:
        # RFC 2812 section 3.6.2: WHOIS [ <target> ] <mask>
        return Message("WHOIS", (nick,) if server is None else (server, nick))


class AWAY(Command):
    @staticmethod
    def build(message: str | None = None) -> Message:
        return Message("AWAY", (message,) if message else ())
