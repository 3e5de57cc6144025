"""The sans-I/O IRC parser and serializer, table-driven (h11 tests/test_io.py style).

Each case is fed whole, one byte at a time, and followed by trailing data
(the start of the next line, which must stay buffered).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circuits.protocols.irc import (
    BadLine,
    InvalidMessage,
    IRCParser,
    Message,
    MessageTooLong,
    Source,
    parse_message,
    parse_source,
    serialize,
)

# (wire bytes, expected messages)
CASES: list[tuple[bytes, list[Message]]] = [
    (b"PING :irc.example.net\r\n", [Message("PING", ("irc.example.net",))]),
    (b":irc.example.net 001 bot :Welcome to IRC\r\n",
     [Message("001", ("bot", "Welcome to IRC"), "irc.example.net")]),
    (b":alice!al@host.example PRIVMSG #chan :hello :world\r\n",
     [Message("PRIVMSG", ("#chan", "hello :world"), "alice!al@host.example")]),
    # bare LF terminator, lower-case command, runs of spaces
    (b"join  #a   key\n", [Message("JOIN", ("#a", "key"))]),
    # an empty trailing parameter is a parameter
    (b":n!u@h TOPIC #c :\r\n", [Message("TOPIC", ("#c", ""), "n!u@h")]),
    # IRCv3 tags with escapes
    (b"@id=123;msg=a\\sb\\:c;flag :n PRIVMSG #c :x\r\n",
     [Message("PRIVMSG", ("#c", "x"), "n", {"id": "123", "msg": "a b;c", "flag": ""})]),
    # empty lines are ignored; two messages in one chunk
    (b"\r\n\r\nNICK a\r\nNICK b\r\n", [Message("NICK", ("a",)), Message("NICK", ("b",))]),
    # latin-1 fallback for a line that is not UTF-8
    (b":n PRIVMSG #c :caf\xe9\r\n", [Message("PRIVMSG", ("#c", "caf\xe9"), "n")]),
    (b":n PRIVMSG #c :caf\xc3\xa9\r\n", [Message("PRIVMSG", ("#c", "caf\xe9"), "n")]),
]


def _feed_whole(data: bytes) -> list:
    return IRCParser().feed(data)


def _feed_bytewise(data: bytes) -> list:
    parser = IRCParser()
    out = []
    for i in range(len(data)):
        out.extend(parser.feed(data[i:i + 1]))
    return out


@pytest.mark.parametrize("data, expected", CASES)
@pytest.mark.parametrize("feed", [_feed_whole, _feed_bytewise], ids=["whole", "bytewise"])
def test_parse_cases(feed, data, expected):
    assert feed(data) == expected


@pytest.mark.parametrize("data, expected", CASES)
def test_parse_with_trailing_data(data, expected):
    parser = IRCParser()
    assert parser.feed(data + b":x PRIVMSG #c :partial") == expected
    assert parser.feed(b" line\r\n") == [Message("PRIVMSG", ("#c", "partial line"), "x")]


@pytest.mark.parametrize("line, reason", [
    (b":onlyprefix\r\n", "no command"),
    (b"PRIV;MSG x\r\n", "bad command"),
    (b"12 x\r\n", "bad command"),
    (b": PRIVMSG x\r\n", "empty prefix"),
    (b"A\x00B x\r\n", "NUL"),
])
def test_bad_lines_are_reported_not_raised(line, reason):
    parser = IRCParser()
    events = parser.feed(line + b"PING :ok\r\n")
    assert isinstance(events[0], BadLine) and reason in events[0].reason
    assert events[1] == Message("PING", ("ok",))
    assert parser.statistics()["bad_lines"] == 1


def test_an_over_long_line_is_dropped_with_bounded_memory():
    parser = IRCParser(max_length=600)
    events = parser.feed(b"PRIVMSG #c :" + b"x" * 5000)
    assert len(events) == 1 and isinstance(events[0], BadLine)
    assert parser.statistics()["buffered"] < 1000
    assert parser.feed(b"yyy\r\nPING :a\r\n") == [Message("PING", ("a",))]


@pytest.mark.parametrize("message, wire", [
    (Message("PRIVMSG", ("#c", "hello world")), b"PRIVMSG #c :hello world\r\n"),
    (Message("PRIVMSG", ("#c", "one")), b"PRIVMSG #c one\r\n"),
    (Message("PRIVMSG", ("#c", ":smile")), b"PRIVMSG #c ::smile\r\n"),
    (Message("TOPIC", ("#c", "")), b"TOPIC #c :\r\n"),
    (Message("NICK", ("bot",), "old!u@h"), b":old!u@h NICK bot\r\n"),
    (Message("PRIVMSG", ("#c", "x"), None, {"k": "a b;c\\"}), b"@k=a\\sb\\:c\\\\ PRIVMSG #c x\r\n"),
    (Message("quit"), b"QUIT\r\n"),
])
def test_serialize(message, wire):
    assert serialize(message) == wire
    assert parse_message(wire) == Message(message.command.upper(), message.params, message.prefix,
                                          message.tags)


@pytest.mark.parametrize("message", [
    Message("PRIVMSG", ("#c", "hi\r\nQUIT :pwned")),  # command injection
    Message("PRIVMSG", ("#c", "a\nb")),
    Message("PRIVMSG", ("#c", "nul\0")),
    Message("PRIVMSG", ("#c d", "x")),  # space in a middle parameter
    Message("PRIVMSG", (":c", "x")),
    Message("PRIVMSG", ("", "x")),
    Message("PRIV MSG", ("x",)),
    Message("PRIVMSG", ("x",), "bad prefix"),
    Message("X", tuple("abcdefghijklmnop")),  # 16 parameters
])
def test_serialize_refuses(message):
    with pytest.raises(InvalidMessage):
        serialize(message)


def test_serialize_refuses_long_lines():
    serialize(Message("PRIVMSG", ("#c", "x" * 499)))  # 512 with CR LF
    with pytest.raises(MessageTooLong):
        serialize(Message("PRIVMSG", ("#c", "x" * 500)))


@pytest.mark.parametrize("prefix, source", [
    ("nick!user@host", Source("nick", "user", "host")),
    ("irc.example.net", Source("irc.example.net")),
    ("nick@host", Source("nick", None, "host")),
    (None, None),
])
def test_parse_source(prefix, source):
    assert parse_source(prefix) == source
    if source is not None:
        assert str(source) == prefix


_word = st.text(st.characters(blacklist_characters="\r\n\0 ", blacklist_categories=("Cs",)), min_size=1,
                max_size=20).filter(lambda s: not s.startswith(":"))
_trailing = st.text(st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)), max_size=60)


@given(st.sampled_from(["PRIVMSG", "NOTICE", "JOIN", "001", "433"]), st.lists(_word, max_size=5), _trailing,
       st.one_of(st.none(), _word.filter(lambda s: "@" not in s and "!" not in s)))
def test_roundtrip_property(command, middle, trailing, prefix):
    message = Message(command, (*middle, trailing), prefix)
    wire = serialize(message)
    assert IRCParser().feed(wire) == [message]
    assert _feed_bytewise(wire) == [message]
