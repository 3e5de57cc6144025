"""circuits.protocols.line.Line: read events in, line events out.

Table-driven like the splitter tests: each case is fed whole, one byte at a
time, and in random pieces (hypothesis), in client mode (``read(data)``) and
in server mode (``read(sock, data)``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits import BaseComponent, Manager, handler
from circuits.core.events import Event
from circuits.protocols.line import LP, SPLITTER_SLACK, Line, line, split_lines


class read(Event):
    """What a transport fires."""


class disconnect(Event):
    """A server's client went away: (sock,)."""


class disconnected(Event):
    """A client's connection went away."""


class Recorder(BaseComponent):
    def __init__(self) -> None:
        super().__init__(channel="recorder")
        self.events: list[Event] = []

    @handler(channel="*", priority=1000)
    def _record(self, event: Event, *args: Any) -> None:
        self.events.append(event)

    def got(self, name: str, channel: Any = None) -> list[tuple[Any, ...]]:
        return [tuple(e.args) for e in self.events if e.name == name and (channel is None or channel in e.channels)]


def make(**kwargs: Any) -> tuple[Manager, Line, Recorder]:
    app = Manager()
    kwargs.setdefault("channel", "conn")
    component = Line(**kwargs).register(app)
    recorder = Recorder().register(app)
    app.flush()
    return app, component, recorder


def feed(app: Manager, chunks: list[bytes], *prefix: Any, channel: str = "conn") -> None:
    for chunk in chunks:
        app.fire(read(*prefix, chunk), channel)
    app.flush()


def pieces(data: bytes, how: str) -> list[bytes]:
    if how == "whole":
        return [data]
    if how == "bytes":
        return [data[i:i + 1] for i in range(len(data))]
    return [data, b"trailing partial"]  # a partial line after: must not come out


CASES: list[tuple[str, dict[str, Any], bytes, list[bytes]]] = [
    ("lf", {}, b"a\nb\n", [b"a", b"b"]),
    ("crlf", {}, b"a\r\nb\r\n", [b"a", b"b"]),
    ("mixed", {}, b"a\r\nb\nc\r\n", [b"a", b"b", b"c"]),
    ("empty lines", {}, b"\n\r\n\n", [b"", b"", b""]),
    ("lone cr stays", {}, b"a\rb\n", [b"a\rb"]),
    ("bytes separator", {"separator": b"\0"}, b"a\0b\r\n\0", [b"a", b"b\r\n"]),
    ("separator via splitter=", {"splitter": b"||"}, b"a||b||", [b"a", b"b"]),
    ("regex separator", {"separator": re.compile(rb"[;,]|\r?\n")}, b"a;b,c\r\nd\n", [b"a", b"b", b"c", b"d"]),
    ("2.x splitter function", {"splitter": lambda d, b: ((b + d).split(b";")[:-1], (b + d).split(b";")[-1])},
     b"x;y;", [b"x", b"y"]),
    ("default 2.x function", {"splitter": split_lines}, b"p\r\nq\n", [b"p", b"q"]),
]


@pytest.mark.parametrize("how", ["whole", "bytes", "trailing"])
@pytest.mark.parametrize("name, kwargs, data, lines", CASES, ids=[c[0] for c in CASES])
def test_client_mode(name: str, kwargs: dict[str, Any], data: bytes, lines: list[bytes], how: str) -> None:
    app, _, recorder = make(**kwargs)
    feed(app, pieces(data, how))
    assert recorder.got("line") == [(x,) for x in lines]


@pytest.mark.parametrize("how", ["whole", "bytes", "trailing"])
@pytest.mark.parametrize("name, kwargs, data, lines", CASES, ids=[c[0] for c in CASES])
def test_server_mode_keeps_clients_apart(name: str, kwargs: dict[str, Any], data: bytes, lines: list[bytes],
                                         how: str) -> None:
    app, _, recorder = make(**kwargs)
    a, b = pieces(data, how), pieces(data.upper(), how)
    for i in range(max(len(a), len(b))):  # interleaved
        if i < len(a):
            app.fire(read("sock-a", a[i]), "conn")
        if i < len(b):
            app.fire(read("sock-b", b[i]), "conn")
    app.flush()
    got = recorder.got("line")
    assert [x for s, x in got if s == "sock-a"] == lines
    assert [x for s, x in got if s == "sock-b"] == [x.upper() for x in lines]


def test_lines_go_out_on_the_channels_the_reads_came_on() -> None:
    app, _, recorder = make(channel="*")
    app.fire(read(b"from a, "), "a")
    app.fire(read(b"from b, "), "b")
    app.fire(read(b"end a\n"), "a")
    app.fire(read(b"end b\n"), "b")
    app.flush()
    assert recorder.got("line", "a") == [(b"from a, end a",)]
    assert recorder.got("line", "b") == [(b"from b, end b",)]


def test_disconnect_discards_a_clients_buffer() -> None:
    app, component, recorder = make()
    feed(app, [b"half a line"], "sock")
    feed(app, [b"half of another"], "other")
    assert component.statistics()["streams"] == 2
    app.fire(disconnect("sock"), "conn")
    app.flush()
    assert component.statistics()["streams"] == 1
    feed(app, [b"new\n"], "sock")  # a new client on a reused socket starts clean
    assert recorder.got("line") == [("sock", b"new")]


def test_disconnected_resets_the_client_stream() -> None:
    app, component, recorder = make()
    feed(app, [b"stale"])
    app.fire(disconnected(), "conn")
    app.flush()
    assert component.buffered == 0
    feed(app, [b"fresh\n"])
    assert recorder.got("line") == [(b"fresh",)]


def test_external_buffers_2x_get_and_update() -> None:
    store: dict[Any, bytes] = {}
    app, _, recorder = make(getBuffer=lambda sock: store.get(sock, b""),
                            updateBuffer=lambda sock, buf: store.__setitem__(sock, buf))
    feed(app, [b"one\r\ntw"], "s1")
    feed(app, [b"x"], "s2")
    assert store == {"s1": b"tw", "s2": b"x"}
    feed(app, [b"o\n"], "s1")
    assert recorder.got("line") == [("s1", b"one"), ("s1", b"two")]
    with pytest.raises(ValueError):
        Line(getBuffer=lambda s: b"")


@pytest.mark.parametrize("kwargs", [{}, {"splitter": split_lines}], ids=["splitter", "function"])
@pytest.mark.parametrize("how", ["whole", "chunks", "bytes"])
def test_an_overlong_line_is_dropped_reported_and_framing_goes_on(kwargs: dict[str, Any], how: str) -> None:
    app, component, recorder = make(max_length=1000, **kwargs)
    data = b"ok 1\n" + b"x" * 20_000 + b"\r\nok 2\n" + b"y" * 1000 + b"\nz" * 3 + b"\n"
    if how == "whole":
        chunks = [data]
    elif how == "chunks":
        chunks = [data[i:i + 333] for i in range(0, len(data), 333)]
    else:
        chunks = [data[i:i + 1] for i in range(len(data))]
    most = 0
    for chunk in chunks:
        feed(app, [chunk])
        most = max(most, component.buffered)
    assert recorder.got("line") == [(b"ok 1",), (b"ok 2",), (b"y" * 1000,), (b"z",), (b"z",), (b"z",)]
    assert len(recorder.got("line_too_long")) == 1 == component.dropped_lines
    assert most <= 1000 + SPLITTER_SLACK  # memory never grew with the long line


def test_the_default_limit_is_64k() -> None:
    app, component, recorder = make()
    feed(app, [b"a" * 65536 + b"\n" + b"b" * 65537 + b"\n"])
    assert recorder.got("line") == [(b"a" * 65536,)]
    assert len(recorder.got("line_too_long")) == 1
    assert component.statistics()["lines"] == 1


def test_server_mode_reports_which_client_sent_the_long_line() -> None:
    app, _, recorder = make(max_length=10)
    feed(app, [b"0123456789abc\nfine\n"], "sock")
    assert recorder.got("line_too_long") == [("sock", 13)]
    assert recorder.got("line") == [("sock", b"fine")]


def test_encoding_gives_str_and_invalid_bytes_never_crash() -> None:
    app, _, recorder = make(encoding="utf-8")
    feed(app, [b"caf\xc3", b"\xa9\n\xff\xfe ok\r\n"])
    assert recorder.got("line") == [("café",), ("\ufffd\ufffd ok",)]
    assert recorder.got("exception") == []


def test_str_reads_are_encoded_first() -> None:
    app, _, recorder = make(encoding="latin-1")
    feed(app, ["größe\n"])  # type: ignore[list-item]
    assert recorder.got("line") == [("größe",)]  # encoded and decoded with the same codec


def test_2x_names() -> None:
    assert LP is Line
    assert line.name == "line"
    with pytest.raises(ValueError):
        Line(max_length=0)


@settings(max_examples=200, deadline=None)
@given(data=st.lists(st.sampled_from([b"a", b"bb", b"\r", b"\n", b"\r\n", b"x" * 7]), max_size=60),
       cuts=st.lists(st.integers(0, 400), max_size=10),
       function=st.booleans())
def test_any_chunking_gives_the_same_events(data: list[bytes], cuts: list[int], function: bool) -> None:
    stream = b"".join(data)
    kwargs: dict[str, Any] = {"max_length": 8}
    if function:
        kwargs["splitter"] = split_lines
    whole_app, _, whole = make(**kwargs)
    feed(whole_app, [stream])
    cut_app, _, cut = make(**kwargs)
    bounds = sorted({0, len(stream), *(c for c in cuts if c <= len(stream))})
    feed(cut_app, [stream[a:b] for a, b in zip(bounds, bounds[1:], strict=False)])
    assert cut.got("line") == whole.got("line")
    assert len(cut.got("line_too_long")) == len(whole.got("line_too_long"))
    # And what came out is what a plain split says.
    parts = re.split(rb"\r?\n", stream)[:-1]
    assert [x for (x,) in whole.got("line")] == [p for p in parts if len(p) <= 8]
