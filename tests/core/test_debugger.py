"""Debugger: events and errors to a file, a path or a logger; prefix, trim, ignore lists."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest

from circuits import Component, Debugger, Event, Manager


class hello(Event):
    pass


class Bark(Event):
    pass


class Dog(Component):
    def bark(self) -> None:
        print("Woof! I'm %s!" % name)  # noqa: F821, UP031 - the tutorial's deliberate bug


def lines(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


def test_debugger_prints_every_event() -> None:
    out = io.StringIO()
    app = Manager()
    Debugger(file=out).register(app)
    app.fire(hello(1, x=2), "c")
    app.flush()
    assert "<hello[c] (1 x=2)>" in lines(out)
    assert any(line.startswith("<registered[*] (<Debugger/*") for line in lines(out))


def test_debugger_prints_errors_with_their_traceback() -> None:
    out = io.StringIO()
    app = Manager()
    Debugger(file=out).register(app)
    Dog(channel="bob").register(app)
    app.fire(Bark(), "bob")
    app.flush()
    text = out.getvalue()
    assert "ERROR <handler[bob][bark] (Dog.bark)> (<bark[bob] ( )>) (NameError)" in text
    assert "print(\"Woof! I'm %s!\" % name)" in text  # the failing line
    assert ", in bark" in text
    assert "<exception[*] (" in text  # the exception event itself is an event too


def test_errors_false_leaves_errors_to_the_fallback(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    app = Manager()
    Debugger(file=out, errors=False).register(app)
    Dog().register(app)
    app.fire(Bark())
    app.flush()
    assert "ERROR" not in out.getvalue()
    err = capsys.readouterr().err
    assert "NameError" in err and "Unhandled error" in err


def test_events_false_prints_only_errors() -> None:
    out = io.StringIO()
    app = Manager()
    Debugger(file=out, events=False).register(app)
    Dog().register(app)
    app.fire(hello())
    app.fire(Bark())
    app.flush()
    text = out.getvalue()
    assert not [line for line in lines(out) if line.startswith("<")]  # no event lines
    assert text.startswith("ERROR ") and "NameError" in text and "<hello" not in text


def test_prefix_and_trim() -> None:
    out = io.StringIO()
    app = Manager()
    Debugger(file=out, prefix="dbg", trim=20).register(app)
    app.flush()
    app.fire(hello("x" * 100))
    app.flush()
    last = lines(out)[-1]
    assert last == ("dbg: <hello[*] ('xxxxxxxxxxx")[:20] + "..."
    assert all(line.startswith("dbg: ") for line in lines(out))


def test_ignore_events_and_channels() -> None:
    out = io.StringIO()
    app = Manager()
    Debugger(file=out, IgnoreEvents=["hello"], IgnoreChannels=["quiet"]).register(app)
    app.fire(hello())
    app.fire(Event.create("other"), "quiet")
    app.fire(Event.create("other"), "quiet", "loud")  # not every channel is ignored
    app.fire(Event.create("shown"))
    app.flush()
    text = out.getvalue()
    assert "<hello" not in text
    assert "<other[quiet]" not in text
    assert "<other[quiet,loud] ( )>" in text
    assert "<shown[*] ( )>" in text


def test_class_level_ignore_lists() -> None:
    class Quiet(Debugger):
        IgnoreEvents = ["registered", "hello"]

    out = io.StringIO()
    app = Manager()
    Quiet(file=out).register(app)
    app.fire(hello())
    app.flush()
    assert out.getvalue() == ""


def test_disabled_debugger_prints_nothing() -> None:
    out = io.StringIO()
    app = Manager()
    dbg = Debugger(file=out).register(app)
    app.flush()
    out.truncate(0)
    out.seek(0)
    dbg.enabled = False
    Dog().register(app)
    app.fire(Bark())
    app.flush()
    assert out.getvalue() == ""


def test_debugger_to_a_file_path(tmp_path: Path) -> None:
    path = tmp_path / "debug.log"
    app = Manager()
    dbg = Debugger(file=str(path)).register(app)
    app.fire(hello())
    app.flush()
    dbg.file.close()
    assert "<hello[*] ( )>" in path.read_text().splitlines()


def test_debugger_to_a_logger() -> None:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("circuits-test-debugger")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = Collect()
    logger.addHandler(handler)
    try:
        app = Manager()
        Debugger(logger=logger).register(app)
        Dog().register(app)
        app.fire(hello())
        app.fire(Bark())
        app.flush()
    finally:
        logger.removeHandler(handler)
    messages = [(r.levelno, r.getMessage()) for r in records]
    assert (logging.DEBUG, "<hello[*] ( )>") in messages
    errors = [m for level, m in messages if level == logging.ERROR]
    assert len(errors) == 1 and "NameError" in errors[0]


def test_debugger_defaults_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    app = Manager()
    Debugger().register(app)
    app.fire(hello())
    app.flush()
    assert "<hello[*] ( )>" in capsys.readouterr().err


def test_a_closed_file_does_not_break_the_app() -> None:
    out = io.StringIO()
    got: list[str] = []

    class App(Component):
        def hello(self) -> None:
            got.append("hello")

    app = App()
    Debugger(file=out).register(app)
    out.close()
    app.fire(hello())
    app.flush()
    assert got == ["hello"]


def test_tutorial_output_shape(capsys: pytest.CaptureFixture[str]) -> None:
    """The tutorial's (Pound() + Debugger()) with the broken bark handler."""

    class Pound(Component):
        def __init__(self) -> None:
            super().__init__()
            self.bob = Dog(channel="bob").register(self)
            self.fred = Dog(channel="fred").register(self)

        def started(self, *args: Any) -> None:
            self.fire(Bark(), "bob", "fred")
            self.stop()

    out = io.StringIO()
    (Pound() + Debugger(file=out)).run()
    text = out.getvalue()
    assert text.count("ERROR <handler[bob][bark] (Dog.bark)>") == 1
    assert text.count("ERROR <handler[fred][bark] (Dog.bark)>") == 1
    assert "<started[*] (<Pound/*" in text
    assert "<stopped[*] (<Pound/*" in text
    assert capsys.readouterr().err == ""  # reported by the Debugger, not the fallback


def test_the_3x_switches_and_channel_name_pairs() -> None:
    out = io.StringIO()
    app = Component()
    dbg = Debugger(file=out).register(app)
    app.flush()
    out.seek(0)
    out.truncate()
    assert dbg._events and dbg._errors
    dbg.IgnoreChannels.append(("*", "quiet"))  # only 'quiet' events on '*'
    app.fire(Event.create("quiet"))
    app.fire(Event.create("loud"))
    app.flush()
    assert out.getvalue().splitlines() == ["<loud[*] ( )>"]
    dbg._events = False
    assert not dbg.events
    app.fire(Event.create("loud"))
    app.flush()
    assert out.getvalue().splitlines() == ["<loud[*] ( )>"]
