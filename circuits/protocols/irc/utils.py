"""Small IRC text helpers with their circuits 3.x names.

* ``parsemsg(line)`` -> ``(source, command, args)``: ``source`` a
  ``(nick, user, host)`` triple (all None without a prefix), ``args`` a list.
* ``parseprefix("nick!user@host")`` -> ``(nick, user, host)``;
  ``joinprefix(nick, user, host)`` the other way.
* ``strip(text, color=False)``: drop a leading ``:``; with ``color=True``
  also the mIRC formatting codes and CTCP delimiters.
* ``irc_color_to_ansi(text)``: mIRC formatting codes as ANSI SGR sequences,
  for showing IRC text on a terminal.

They are thin views of :mod:`.message` (one parser for everything).
"""

from __future__ import annotations

import re

from .message import Source, parse_message, parse_source

__all__ = ["irc_color_to_ansi", "joinprefix", "parsemsg", "parseprefix", "strip"]

NO_SOURCE = Source(None, None, None)  # type: ignore[arg-type]

# mIRC formatting control characters (the de facto convention; no RFC).
BOLD, COLOR, RESET, REVERSE, ITALIC, STRIKE, UNDERLINE, MONOSPACE = (
    "\x02", "\x03", "\x0f", "\x16", "\x1d", "\x1e", "\x1f", "\x11")
CTCP_DELIMITER = "\x01"

# \x03 then an optional foreground (1-2 digits) and ",background".
_COLOR_CODE = re.compile(r"\x03(?:(\d{1,2})(?:,(\d{1,2}))?)?")
_FORMATTING = re.compile(r"\x03(?:\d{1,2}(?:,\d{1,2})?)?|[\x01\x02\x0f\x11\x16\x1d\x1e\x1f]")

#: mIRC colour number -> ANSI foreground code (background: +10).
ANSI_COLORS = {
    0: 37, 1: 30, 2: 34, 3: 32, 4: 31, 5: 36, 6: 35, 7: 33,
    8: 93, 9: 92, 10: 36, 11: 96, 12: 94, 13: 95, 14: 90, 15: 37,
}
#: Toggles: control character -> (ANSI "on" code, ANSI "off" code).
ANSI_TOGGLES = {BOLD: ("01", "22"), ITALIC: ("03", "23"), UNDERLINE: ("04", "24"),
                STRIKE: ("09", "29"), REVERSE: ("07", "27")}
DEFAULT_COLORS = "39;49"  # SGR: default foreground and background


def parseprefix(prefix: str | None) -> Source:
    """``"nick!user@host"`` -> ``(nick, user, host)``; missing parts are None."""
    return parse_source(prefix) or NO_SOURCE


def joinprefix(nick: str, user: str | None = None, host: str | None = None) -> str:
    return str(Source(nick, user, host))


def parsemsg(line: str | bytes, encoding: str = "utf-8") -> tuple[Source, str | None, list[str]]:
    """One line -> ``(source, command, args)``; an empty line is ``(NO_SOURCE, None, [])``.

    A line that is not a message raises
    :class:`~circuits.protocols.irc.message.InvalidMessage`.
    """
    text = line.decode(encoding, "replace") if isinstance(line, (bytes, bytearray)) else line
    if not text.strip("\r\n "):
        return NO_SOURCE, None, []
    message = parse_message(text)
    return parseprefix(message.prefix), message.command, list(message.params)


def strip(text: str, color: bool = False) -> str:
    """Drop a leading ``:`` and, with ``color``, every formatting code."""
    text = text[1:] if text.startswith(":") else text
    return _FORMATTING.sub("", text) if color else text


def irc_color_to_ansi(text: str) -> str:
    """Render mIRC bold/italic/underline/strike/reverse/colours as ANSI SGR.

    Toggles switch on and off; ``\\x03`` without digits restores the default
    colours; ``\\x0f`` resets everything. If anything is still on at the end,
    a reset is appended so the terminal is left as it was.
    """
    out: list[str] = []
    active: set[str] = set()
    colored = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in ANSI_TOGGLES:
            on, off = ANSI_TOGGLES[ch]
            out.append(f"\x1b[{off if ch in active else on}m")
            active ^= {ch}
            i += 1
        elif ch == COLOR:
            match = _COLOR_CODE.match(text, i)
            assert match is not None  # the pattern matches a bare \x03
            sgr = _sgr_color(match.group(1), match.group(2))
            out.append(sgr)
            if sgr:  # an unknown colour number changes nothing
                colored = sgr != f"\x1b[{DEFAULT_COLORS}m"
            i = match.end()
        elif ch == RESET:
            out.append("\x1b[m")
            active.clear()
            colored = False
            i += 1
        else:
            out.append(ch)
            i += 1
    if active or colored:
        out.append("\x1b[m")
    return "".join(out)


def _sgr_color(fg: str | None, bg: str | None) -> str:
    if fg is None or fg == "99":
        return f"\x1b[{DEFAULT_COLORS}m"
    codes = []
    for number, offset in ((fg, 0), (bg, 10)):
        if number is not None and int(number) in ANSI_COLORS:
            codes.append(str(ANSI_COLORS[int(number)] + offset))
    return f"\x1b[{';'.join(codes)}m" if codes else ""
