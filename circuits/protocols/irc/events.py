"""Incoming IRC events, named after the command (lower case) they come from.

Every message from the server becomes ``<command>(source, *params)``, where
``source`` is a :class:`~circuits.protocols.irc.message.Source` (or None when
the message had no prefix). The classes below name the common ones and
document their arguments; any other command still arrives, as an event
made with ``Event.create(command.lower(), source, *params)``.

Two exceptions to the rule: a numeric reply is ``numeric(source, number,
*params)`` (``number`` an int, e.g. 1 for RPL_WELCOME), and the server's
``ERROR`` command is ``irc_error(source, message)``, because ``error`` is
the socket error event of :mod:`circuits.net` and usually shares the channel.
"""

from __future__ import annotations

from ...core.events import Event

__all__ = [
    "ctcp", "ctcpreply", "invite", "irc_error", "join", "kick", "mode", "nick", "notice", "numeric",
    "part", "ping", "pong", "privmsg", "quit", "request", "topic", "write",
]


class privmsg(Event):
    """A message: (source, target, message)."""


class notice(Event):
    """A notice: (source, target, message)."""


class ctcp(Event):
    """A CTCP request inside a PRIVMSG: (source, target, type, message)."""


class ctcpreply(Event):
    """A CTCP reply inside a NOTICE: (source, target, type, message)."""


class join(Event):
    """Someone (maybe us) joined: (source, channel, *extended-join params)."""


class part(Event):
    """Someone left a channel: (source, channel[, reason])."""


class quit(Event):
    """Someone quit: (source[, message])."""


class nick(Event):
    """Someone changed nick: (source, newnick)."""


class ping(Event):
    """The server pings: (source, server). The IRC component answers with PONG itself."""


class pong(Event):
    """A PONG: (source, server[, token])."""


class mode(Event):
    """A mode change: (source, target, modes, *args)."""


class kick(Event):
    """Someone was kicked: (source, channel, target[, reason])."""


class topic(Event):
    """The topic changed: (source, channel, topic)."""


class invite(Event):
    """We were invited: (source, target, channel)."""


class numeric(Event):
    """A numeric reply: (source, number, *params); params[0] is usually our nick."""


class irc_error(Event):
    """The server's ERROR (it is about to close the link): (source, message)."""


class request(Event):
    """Send a message (the circuits 3.x way): args (message,), a Message."""


class write(Event):
    """Bytes for the transport (a TCPClient on the same channel sends them)."""
