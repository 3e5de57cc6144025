"""Outgoing IRC commands as events (the 2.x names: ``PRIVMSG``, ``JOIN``, ``RAW``...).

Fire one at an :class:`~circuits.protocols.irc.component.IRC` component's
channel and it writes the line: ``self.fire(PRIVMSG("#chan", "hi"), "bot")``.

Each command's event *name* is ``command_<lower>`` (``command_privmsg``), not
its uncamelled class name: ``privmsg`` is the name of the *incoming* event
(``privmsg(source, target, message)``), and a command must never be
delivered to the handlers of the message it would send, nor the other way
round. ``build`` holds each command's real signature, so a wrong argument
list fails as a TypeError in the IRC component (an ``exception`` event).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ...core.events import Event
from .message import InvalidMessage, Message, parse_message

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

    @staticmethod
    def build(*args: Any, **kwargs: Any) -> Message:
        raise NotImplementedError

    def message(self) -> Message | None:
        """The message to send (None: nothing to send, e.g. RAW)."""
        return self.build(*self.args, **self.kwargs)


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
    def build(server: str) -> Message:
        return Message("PONG", (server,))


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
    def build(channel: str, message: str = "Leaving") -> Message:
        return Message("PART", (channel, message))


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
    """``MODE(modes, channel=None)`` as in 2.x; with a channel: ``MODE #chan +o nick``."""

    @staticmethod
    def build(modes: str, channel: str | None = None, *args: str) -> Message:
        params = tuple(modes.split()) if channel is None else (channel, *modes.split(), *args)
        return Message("MODE", params)


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
    def build(nick: str) -> Message:
        return Message("WHOIS", (nick,))


class AWAY(Command):
    @staticmethod
    def build(message: str | None = None) -> Message:
        return Message("AWAY", (message,) if message else ())
