"""Sans-I/O IRC messages: parse a line into a :class:`Message`, serialize one back.

Grammar (RFC 1459 section 2.3.1, restated in RFC 2812 section 2.3.1), with
the IRCv3 message-tags extension in front::

    message  = [ "@" tags SPACE ] [ ":" prefix SPACE ] command [ params ] crlf
    params   = *14( SPACE middle ) [ SPACE ":" trailing ]
    command  = 1*letter / 3digit

Parsing is lenient where real servers are sloppy (runs of spaces between
parameters, a bare LF terminator, more than 15 parameters) and strict where
leniency would be dangerous: serializing refuses CR, LF and NUL anywhere (a
parameter must never be able to smuggle a second command onto the wire),
spaces or a leading ``:`` in a non-final parameter, and lines longer than
the 512 bytes RFC 1459 section 2.3 allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "MAX_LINE", "MAX_TAGS", "InvalidMessage", "IRCProtocolError", "Message", "MessageTooLong",
    "Source", "decode_line", "parse_message", "parse_source", "serialize",
]

#: RFC 1459 section 2.3: 512 bytes per message, the CR LF included.
MAX_LINE = 512
#: IRCv3 message-tags: the tags part (with "@" and the space) may add 8191 bytes.
MAX_TAGS = 8191

_COMMAND = re.compile(r"[A-Za-z]+|[0-9]{3}")
_FORBIDDEN = ("\r", "\n", "\0")
# IRCv3 message-tags escaping: value characters that may not appear raw.
_TAG_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_TAG_ESCAPE = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}


class IRCProtocolError(ValueError):
    """A message that cannot be parsed or must not be sent."""


class InvalidMessage(IRCProtocolError):
    """A line (or a message to serialize) breaks the RFC 1459 grammar."""


class MessageTooLong(IRCProtocolError):
    """A serialized message would pass the 512-byte limit of RFC 1459 section 2.3."""


class Source(NamedTuple):
    """Who sent a message: ``nick!user@host``, or a server name in ``nick``."""

    nick: str
    user: str | None = None
    host: str | None = None

    def __str__(self) -> str:
        text = self.nick
        if self.user is not None:
            text += f"!{self.user}"
        if self.host is not None:
            text += f"@{self.host}"
        return text


def parse_source(prefix: str | None) -> Source | None:
    """Split a prefix (RFC 2812 section 2.3.1: servername / nick [[!user] @host])."""
    if prefix is None:
        return None
    nick, _, host = prefix.partition("@")
    nick, _, user = nick.partition("!")
    return Source(nick, user or None, host or None)


@dataclass(frozen=True, init=False)
class Message:
    """One IRC message. ``command`` is upper case (or a 3-digit numeric).

    Made as ``Message("PRIVMSG", ("#c", "hi"), prefix, tags)`` (the
    parameters as one tuple) or, as circuits 3.x code does, ``Message("PRIVMSG", "#c", "hi")``;
    in the second form ``None`` parameters are left out, so optional
    arguments can be passed through as they are.
    """

    command: str
    params: tuple[str, ...]
    prefix: str | None
    tags: dict[str, str] = field(compare=True, hash=False)

    def __init__(self, command: str, *params: Any, prefix: str | None = None,
                 tags: dict[str, str] | None = None) -> None:
        if params and isinstance(params[0], (tuple, list)):
            # Message(command, params, prefix=None, tags=None), positionally.
            if len(params) > 3:
                raise TypeError("Message(command, params, prefix, tags) takes at most 4 arguments")
            extra = params[1:]
            params = tuple(params[0])
            prefix = extra[0] if extra else prefix
            tags = extra[1] if len(extra) > 1 else tags
        else:
            params = tuple(p for p in params if p is not None)
        # Frozen: the fields are set once, here.
        object.__setattr__(self, "command", command)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "prefix", prefix)
        object.__setattr__(self, "tags", dict(tags) if tags else {})

    @property
    def source(self) -> Source | None:
        return parse_source(self.prefix)

    @property
    def args(self) -> list[str]:
        """The parameters as a list (the circuits 3.x attribute name)."""
        return list(self.params)

    def __bytes__(self) -> bytes:
        return serialize(self)

    @property
    def is_numeric(self) -> bool:
        return len(self.command) == 3 and self.command.isdigit()

    def encode(self, encoding: str = "utf-8") -> bytes:
        """The wire form, CR LF terminated (see :func:`serialize`)."""
        return serialize(self, encoding)

    def __str__(self) -> str:
        return serialize(self).decode("utf-8", "replace").rstrip("\r\n")


def _unescape_tag(value: str) -> str:
    if "\\" not in value:
        return value
    out = []
    chars = iter(value)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        # IRCv3: an unknown escape drops the backslash; a trailing one is dropped.
        out.append(_TAG_UNESCAPE.get(nxt, nxt))
    return "".join(out)


def _parse_tags(text: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in text.split(";"):
        if not item:
            continue
        key, _, value = item.partition("=")
        tags[key] = _unescape_tag(value)
    return tags


def decode_line(line: bytes, encoding: str = "utf-8") -> str:
    """Decode a raw line; IRC has no declared charset, so fall back to latin-1
    (which never fails) when the line is not valid in ``encoding``."""
    try:
        return line.decode(encoding)
    except UnicodeDecodeError:
        return line.decode("latin-1")


def parse_message(line: str | bytes, encoding: str = "utf-8") -> Message:
    """Parse one line (without or with its CR LF) into a :class:`Message`."""
    text = decode_line(line, encoding) if isinstance(line, (bytes, bytearray)) else line
    text = text.rstrip("\r\n")
    if "\0" in text or "\r" in text or "\n" in text:
        raise InvalidMessage("NUL, CR or LF inside a message")
    rest = text.lstrip(" ")
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        tag_text, _, rest = rest[1:].partition(" ")
        tags = _parse_tags(tag_text)
        rest = rest.lstrip(" ")
    prefix = None
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
        if not prefix:
            raise InvalidMessage("empty prefix")
        rest = rest.lstrip(" ")
    trailing: str | None = None
    head, sep, tail = rest.partition(" :")
    if sep:
        trailing = tail
    words = [w for w in head.split(" ") if w]  # SPACE only (RFC 1459 2.3.1), not any whitespace
    if not words:
        raise InvalidMessage("no command")
    command, middle = words[0], words[1:]
    if not _COMMAND.fullmatch(command):
        raise InvalidMessage(f"bad command {command!r}")
    params = tuple(middle) + ((trailing,) if trailing is not None else ())
    return Message(command.upper(), params, prefix=prefix, tags=tags)


def serialize(message: Message, encoding: str = "utf-8") -> bytes:
    """The wire form of ``message``; raises :class:`IRCProtocolError` if it
    cannot be sent as it is (see module doc)."""
    if not _COMMAND.fullmatch(message.command):
        raise InvalidMessage(f"bad command {message.command!r}")
    parts: list[str] = []
    if message.tags:
        items = []
        for key, value in message.tags.items():
            if not key or any(c in key for c in " ;=\r\n\0"):
                raise InvalidMessage(f"bad tag key {key!r}")
            escaped = "".join(_TAG_ESCAPE.get(c, c) for c in value)
            if "\0" in escaped:
                raise InvalidMessage("NUL in a tag value")
            items.append(f"{key}={escaped}" if value else key)
        parts.append("@" + ";".join(items))
    if message.prefix is not None:
        if not message.prefix or any(c in message.prefix for c in " \r\n\0"):
            raise InvalidMessage(f"bad prefix {message.prefix!r}")
        parts.append(":" + message.prefix)
    parts.append(message.command.upper())
    params = message.params
    for i, param in enumerate(params):
        if not isinstance(param, str):
            raise InvalidMessage(f"parameter {i} is not a string: {param!r}")
        if any(c in param for c in _FORBIDDEN):
            raise InvalidMessage(f"parameter {i} contains CR, LF or NUL")
        last = i == len(params) - 1
        if last and (not param or " " in param or param.startswith(":")):
            parts.append(":" + param)
        elif not param or " " in param or param.startswith(":"):
            raise InvalidMessage(f"parameter {i} ({param!r}) is empty, has a space or starts with ':'")
        else:
            parts.append(param)
    if len(params) > 15:
        raise InvalidMessage("more than 15 parameters (RFC 1459 section 2.3.1)")
    data = (" ".join(parts) + "\r\n").encode(encoding)
    body = data
    if message.tags:
        tag_part, _, body = data.partition(b" ")
        if len(tag_part) + 1 > MAX_TAGS:
            raise MessageTooLong(f"tags take {len(tag_part) + 1} bytes (limit {MAX_TAGS})")
    if len(body) > MAX_LINE:
        raise MessageTooLong(f"message is {len(body)} bytes (limit {MAX_LINE}, CR LF included)")
    return data
