"""Logger: file and syslog (to a real UDP socket) output, levels, events."""

from __future__ import annotations

import logging
import socket
import uuid

import pytest

from circuits import Component, Event, Manager, handler
from circuits.app import Logger
from circuits.app.log import critical, debug, error, exception, info, log, warning


@pytest.fixture
def name() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"  # a fresh logging.Logger per test


def test_file_logger_levels(tmp_path, name):
    path = tmp_path / "app.log"
    app = Manager()
    logger = Logger(str(path), name, "file", "info").register(app)
    app.fire(debug("hidden"))
    app.fire(info("hello %s", "world"))
    app.fire(warning("careful"))
    app.fire(error("broken"))
    app.fire(critical("on fire"))
    app.fire(exception("oops"))
    app.fire(log("debug", "hidden too"))
    app.fire(log(logging.WARNING, "via log"))
    app.flush()
    logger.close()
    lines = path.read_text().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "hello world", "careful", "broken", "on fire", "oops", "via log"]
    assert f" {name}[" in lines[0] and " INFO: " in lines[0] and " ERROR: " in lines[4]


def test_a_handler_error_is_logged_with_its_traceback(tmp_path, name, capsys):
    path = tmp_path / "app.log"

    class Broken(Component):
        def boom(self) -> None:
            raise KeyError("missing")

    app = Manager()
    logger = Logger(str(path), name, "file", "debug").register(app)
    Broken().register(app)
    app.fire(Event.create("boom"))
    app.flush()
    logger.close()
    text = path.read_text()
    assert "raised KeyError: 'missing'" in text and "raise KeyError" in text
    assert "Unhandled error" not in capsys.readouterr().err


def test_syslog_logger_sends_datagrams(name):
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    port = receiver.getsockname()[1]
    app = Manager()
    logger = Logger(f"127.0.0.1:{port}", name, "syslog", "warning").register(app)
    app.fire(info("not sent"))
    app.fire(warning("disk %d%% full", 91))
    app.flush()
    data, _ = receiver.recvfrom(4096)
    logger.close()
    receiver.close()
    # RFC 3164 PRI: facility user (1) * 8 + severity warning (4) = 12
    assert data.startswith(b"<12>") and b"disk 91% full" in data and name.encode() in data


@pytest.mark.parametrize("kwargs, message", [
    ({"type": "carrier-pigeon"}, "unknown logger type"),
    ({"level": "loud"}, "unknown log level"),
    ({"type": "file", "filename": None}, "needs a filename"),
])
def test_bad_settings(tmp_path, name, kwargs, message):
    args = {"filename": str(tmp_path / "x.log"), "name": name, **kwargs}
    with pytest.raises(ValueError, match=message):
        Logger(**args)


def test_the_exception_log_event_is_not_a_core_error(tmp_path, name, capsys):
    # The core reports a failed handler with an "exception" event to every
    # channel; a log message must not reach the components that watch for
    # those (they expect an error triple), nor the unhandled-error printer.
    path = tmp_path / "app.log"
    seen: list[tuple] = []

    class ErrorWatcher(Component):
        @handler("exception", channel="*")
        def _on_error(self, *args, **kwargs) -> None:
            seen.append(args)

    app = Manager()
    logger = Logger(str(path), name, "file", "info").register(app)
    ErrorWatcher().register(app)
    app.fire(exception("disk %s is full", "sda"))
    app.flush()
    logger.close()
    assert seen == []
    assert path.read_text().rstrip().endswith(" ERROR: disk sda is full")
    assert "Unhandled error" not in capsys.readouterr().err


def test_an_exception_log_event_without_a_logger_is_harmless(capsys):
    app = Manager()
    app.fire(exception("nobody listens"))
    app.flush()
    assert capsys.readouterr().err == ""
