"""The 3.x-named IRC text helpers: parsemsg, parseprefix, joinprefix, strip, irc_color_to_ansi."""

from __future__ import annotations

import pytest

from circuits.protocols.irc import (
    InvalidMessage,
    Message,
    irc_color_to_ansi,
    joinprefix,
    parsemsg,
    parseprefix,
    strip,
)


@pytest.mark.parametrize("line, expected", [
    (b":nick!user@host PRIVMSG #c :hello you\r\n", (("nick", "user", "host"), "PRIVMSG", ["#c", "hello you"])),
    (":irc.example.net 001 bot :Welcome", (("irc.example.net", None, None), "001", ["bot", "Welcome"])),
    (b"PING :x", ((None, None, None), "PING", ["x"])),
    (b"", ((None, None, None), None, [])),
    (b"\r\n", ((None, None, None), None, [])),
])
def test_parsemsg(line, expected):
    assert parsemsg(line) == expected


def test_parsemsg_refuses_a_line_that_is_no_message():
    with pytest.raises(InvalidMessage):
        parsemsg(b":prefix-only")


@pytest.mark.parametrize("prefix, parts", [
    ("n!u@h", ("n", "u", "h")),
    ("n@h", ("n", None, "h")),
    ("server.example", ("server.example", None, None)),
    (None, (None, None, None)),
])
def test_parseprefix_and_joinprefix(prefix, parts):
    assert parseprefix(prefix) == parts
    if prefix is not None:
        assert joinprefix(*parts) == prefix


def test_strip():
    assert strip(":\x02bold\x02 text") == "\x02bold\x02 text"
    assert strip(":\x01ACTION \x0304,01waves\x03\x0f\x01", color=True) == "ACTION waves"
    assert strip("no colon", color=True) == "no colon"


@pytest.mark.parametrize("text, ansi", [
    ("plain", "plain"),
    ("\x02b\x02 \x1di\x1d \x1fu\x1f \x1es\x1e", "\x1b[01mb\x1b[22m \x1b[03mi\x1b[23m \x1b[04mu\x1b[24m \x1b[09ms\x1b[29m"),
    ("\x0304red\x03 x", "\x1b[31mred\x1b[39;49m x"),
    ("\x0301,02on blue\x03", "\x1b[30;44mon blue\x1b[39;49m"),
    ("\x0312", "\x1b[94m\x1b[m"),  # still coloured at the end: reset appended
    ("\x02bold", "\x1b[01mbold\x1b[m"),
    ("\x02a\x0f", "\x1b[01ma\x1b[m"),  # \x0f resets: nothing left to reset
    ("\x0399x", "\x1b[39;49mx"),  # 99: the default colour
    ("\x0342odd", "odd"),  # a colour number without an ANSI equivalent is dropped
])
def test_irc_color_to_ansi(text, ansi):
    assert irc_color_to_ansi(text) == ansi


def test_message_3x_form_and_bytes():
    message = Message("KICK", "#c", "bob", None, prefix="op!o@h")
    assert message.params == ("#c", "bob") and message.args == ["#c", "bob"]
    assert bytes(message) == b":op!o@h KICK #c bob\r\n"
    assert message == Message("KICK", ("#c", "bob"), "op!o@h")
