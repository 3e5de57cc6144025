"""Logger: a component that writes log records, fed by events.

``Logger(filename, name, type, level)`` wraps a standard ``logging.Logger``
(so records can also be shaped with the ``logging`` API) and listens for
``debug``/``info``/``warning``/``error``/``critical``/``exception`` events,
each ``(message, *args)`` with %-style args, plus ``log(level, message,
*args)``. The ``exception`` class fires an event named ``log_exception``,
so it is never mistaken for the core's error event (below).

Types: ``"file"`` (append to ``filename``), ``"syslog"`` (``filename`` is
the address: a socket path like /dev/log, or "host:port" for UDP), and
``"stderr"``. Levels: a ``logging`` name ("debug", "INFO"...) or number.

Handler errors: the core reports a handler that raised with an
``exception`` event fired to every channel. The Logger handles it too and
logs the error with its traceback, so an application with a Logger has
its errors in its log (and no longer on stderr: the core only prints
errors nobody handles).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import describe_handler, handler

__all__ = ["Log", "Logger", "critical", "debug", "error", "exception", "info", "log", "warning"]

TYPES = ("file", "syslog", "stderr")
FORMAT = "%(asctime)s %(name)s[%(process)d] %(levelname)s: %(message)s"


class LogEvent(Event):
    """Base of the logging events; they go to the "logger" channel by default."""

    channels = ("logger",)


class log(LogEvent):
    """(level, message, *args)."""


class debug(LogEvent):
    """(message, *args)."""


class info(LogEvent):
    """(message, *args)."""


class warning(LogEvent):
    """(message, *args)."""


class error(LogEvent):
    """(message, *args)."""


class critical(LogEvent):
    """(message, *args)."""


class exception(LogEvent):
    """(message, *args): an error message, logged at ERROR level.

    Its event name is ``log_exception``: the core's error event is named
    ``exception`` and goes to every channel, and a log message must not
    look like one to the components watching for errors.
    """

    name = "log_exception"


Log = log


def _level(level: int | str) -> int:
    if isinstance(level, int):
        return level
    value = logging.getLevelName(level.upper())
    if not isinstance(value, int):
        raise ValueError(f"unknown log level {level!r}")
    return value


def _syslog_address(target: str | None) -> str | tuple[str, int]:
    if not target:
        return "/dev/log" if os.path.exists("/dev/log") else ("localhost", logging.handlers.SYSLOG_UDP_PORT)
    if target.startswith("/"):
        return target
    host, _, port = target.rpartition(":")
    return (host or "localhost", int(port))


class Logger(BaseComponent):
    """Log records of the events it receives (see module doc)."""

    channel: Any = "logger"

    def __init__(self, filename: str | None, name: str, type: str = "file",  # noqa: A002 - 2.x name
                 level: int | str = "info", channel: Any = channel, fmt: str = FORMAT) -> None:
        super().__init__(channel=channel)
        kind = type.lower()
        if kind not in TYPES:
            raise ValueError(f"unknown logger type {type!r} (one of {', '.join(TYPES)})")
        self.type = kind
        self.filename = filename
        self.logger = logging.getLogger(name)
        self.logger.setLevel(_level(level))
        self.logger.propagate = False  # our handler only: no double lines via the root logger
        handler_: logging.Handler
        if kind == "file":
            if not filename:
                raise ValueError("a file logger needs a filename")
            handler_ = logging.FileHandler(filename, encoding="utf-8")
        elif kind == "syslog":
            handler_ = logging.handlers.SysLogHandler(address=_syslog_address(filename))
            fmt = "%(name)s[%(process)d]: %(levelname)s %(message)s"  # syslog adds time and host
        else:
            handler_ = logging.StreamHandler(sys.stderr)
        handler_.setFormatter(logging.Formatter(fmt))
        self.handler = handler_
        self.logger.addHandler(handler_)

    def _emit(self, level: int, message: Any, args: tuple[Any, ...], exc_info: Any = None) -> None:
        self.logger.log(level, message, *args, exc_info=exc_info)

    @handler("log")
    def _on_log(self, level: int | str, message: Any, *args: Any) -> None:
        self._emit(_level(level), message, args)

    @handler("debug")
    def _on_debug(self, message: Any, *args: Any) -> None:
        self._emit(logging.DEBUG, message, args)

    @handler("info")
    def _on_info(self, message: Any, *args: Any) -> None:
        self._emit(logging.INFO, message, args)

    @handler("warning")
    def _on_warning(self, message: Any, *args: Any) -> None:
        self._emit(logging.WARNING, message, args)

    @handler("error")
    def _on_error(self, message: Any, *args: Any) -> None:
        self._emit(logging.ERROR, message, args)

    @handler("critical")
    def _on_critical(self, message: Any, *args: Any) -> None:
        self._emit(logging.CRITICAL, message, args)

    @handler("log_exception")
    def _on_exception_message(self, message: Any, *args: Any) -> None:
        self._emit(logging.ERROR, message, args)

    @handler("exception", channel="*")
    def _on_core_error(self, etype: Any, evalue: Any, tb: Any, handler: Any = None, fevent: Any = None) -> None:
        # The core's report of a failed handler or callback (traceback as lines).
        where = describe_handler(handler) if handler is not None else "a handler"
        lines = "".join(tb) if isinstance(tb, list) else ""
        self._emit(logging.ERROR, "%s raised %s: %s while handling %r\n%s",
                   (where, getattr(etype, "__name__", etype), evalue, fevent, lines.rstrip()))

    @handler("stopped", channel="*")
    def _on_stopped(self, manager: Any) -> None:
        if manager is self.root:
            self.handler.flush()

    def close(self) -> None:
        """Detach and close the log handler (files, sockets)."""
        self.logger.removeHandler(self.handler)
        self.handler.close()
