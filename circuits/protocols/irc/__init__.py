"""IRC: a sans-I/O message parser/serializer, command events and the IRC component.

::

    from circuits.protocols.irc import IRC, NICK, USER, JOIN, PRIVMSG

    app = Manager() + TCPClient(channel="bot") + IRC(channel="bot") + MyBot(channel="bot")

``MyBot`` fires ``NICK``/``USER``/``JOIN`` on ``connected`` and handles the
incoming events (``privmsg(source, target, message)``, ``numeric(source,
number, *params)``, ...): see :mod:`.events` and :mod:`.commands`.
"""

from . import numerics
from .commands import (
    AWAY,
    COMMANDS,
    CTCP,
    CTCPREPLY,
    INVITE,
    JOIN,
    KICK,
    MODE,
    NAMES,
    NICK,
    NOTICE,
    PART,
    PASS,
    PING,
    PONG,
    PRIVMSG,
    QUIT,
    RAW,
    TOPIC,
    USER,
    WHOIS,
    Command,
)
from .component import IRC
from .events import (
    ctcp,
    ctcpreply,
    invite,
    irc_error,
    join,
    kick,
    mode,
    nick,
    notice,
    numeric,
    part,
    ping,
    pong,
    privmsg,
    quit,
    request,
    topic,
    write,
)
from .message import (
    MAX_LINE,
    InvalidMessage,
    IRCProtocolError,
    Message,
    MessageTooLong,
    Source,
    decode_line,
    parse_message,
    parse_source,
    serialize,
)
from .parser import BadLine, IRCParser
from .utils import irc_color_to_ansi, joinprefix, parsemsg, parseprefix, strip

__all__ = [
    "AWAY", "COMMANDS", "CTCP", "CTCPREPLY", "INVITE", "IRC", "JOIN", "KICK", "MAX_LINE", "MODE", "NAMES",
    "NICK", "NOTICE", "PART", "PASS", "PING", "PONG", "PRIVMSG", "QUIT", "RAW", "TOPIC", "USER", "WHOIS",
    "BadLine", "Command", "IRCParser", "IRCProtocolError", "InvalidMessage", "Message", "MessageTooLong",
    "Source", "ctcp", "ctcpreply", "decode_line", "invite", "irc_color_to_ansi", "irc_error", "join",
    "joinprefix", "kick", "mode", "nick", "notice", "numeric", "numerics", "parse_message", "parse_source",
    "parsemsg", "parseprefix", "part", "ping", "pong", "privmsg", "quit", "request", "serialize", "strip",
    "topic", "write",
]
