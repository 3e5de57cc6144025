"""Logger: one access-log line per response, in the Combined Log Format.

The format is Apache's "combined" one (host, identity, user, time, request
line, status, size, referrer, user agent), which log analysers read.
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO, Any

from ..core.components import BaseComponent
from ..core.handlers import handler
from .output import body_bytes

__all__ = ["Logger", "formattime"]

_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def formattime() -> str:
    """Now, as ``[10/Oct/2000:13:55:36 +0000]`` (local time with its UTC offset)."""
    now = time.localtime()
    minutes = now.tm_gmtoff // 60
    zone = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    clock = f"{now.tm_hour:02d}:{now.tm_min:02d}:{now.tm_sec:02d}"
    return f"[{now.tm_mday:02d}/{_MONTHS[now.tm_mon - 1]}/{now.tm_year}:{clock} {zone}]"


def _field(value: Any) -> str:
    """A value made safe for one log field.

    Everything comes from the client, so control characters (a newline
    would forge a second line) and double quotes (which delimit fields)
    are written as escapes.
    """
    return str(value).encode("unicode_escape").decode("ascii").replace('"', '\\"')


def _has_no_body(response: Any) -> bool:
    code = int(response.status)
    return code < 200 or code in (204, 304) or response.request.method == "HEAD"


def _open(file: str | IO[str] | None) -> IO[str]:
    if isinstance(file, str):
        return open(os.path.abspath(os.path.expanduser(file)), "a")  # noqa: SIM115 - kept open for the process
    if file is not None and hasattr(file, "write"):
        return file
    return sys.stdout


class Logger(BaseComponent):
    """Log every response to ``file`` (a path or a stream, default stdout) or ``logger``."""

    channel = "web"
    format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'

    def __init__(self, file: str | IO[str] | None = None, logger: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.file: IO[str] = _open(file)
        self.logger = logger

    @handler("request", priority=100)
    def _note_peer(self, event: Any, request: Any, response: Any = None) -> None:
        # Read the peer's address now, while the connection is surely open
        # (the request keeps it): by the time the response is logged the
        # client may have hung up.
        request.remote  # noqa: B018

    @handler("response", priority=1)
    def _log_before_sending(self, response: Any) -> None:
        # Ahead of the HTTP component (priority 0), when the size is already
        # known: then the line is in the log before the client has its
        # answer, so a client that reads the log after its answer finds it.
        size = self._known_size(response)
        if size is not None:
            response._logged = True
            self.log(response, size)

    @handler("response", priority=-100)
    def log_response(self, response: Any) -> None:
        # A streamed body: its size is only known once sending started.
        if not getattr(response, "_logged", False):
            self.log(response)

    @staticmethod
    def _known_size(response: Any) -> int | str | None:
        """The size field if it is known before sending ('-' for none), else None."""
        if _has_no_body(response):
            return "-"
        if response.stream and response._body is None:
            return None
        if response._headers is not None and "Content-Length" in response._headers:
            return response._headers["Content-Length"]
        data = body_bytes(response._body, response.encoding)
        if data is None:
            return None
        return len(data) if data else "-"

    @staticmethod
    def _sent_size(response: Any) -> Any:
        declared = response.headers.get("Content-Length") if response._headers is not None else None
        return declared if declared is not None else (response.sent or "-")

    def log(self, response: Any, length: Any = None) -> None:
        """Write the line for ``response``; ``length`` is its size field when already known."""
        request = response.request
        headers = request.headers
        major, minor = request.protocol
        fields = {
            "h": headers.get("X-Forwarded-For", request.remote.name or request.remote.ip),
            "l": "-",  # identd is not asked
            "u": request.login or "-",
            "t": formattime(),
            "r": f"{request.method} {request.target} HTTP/{major}.{minor}",
            "s": int(response.status),
            "b": self._sent_size(response) if length is None else length,
            "f": headers.get("Referer", ""),
            "a": headers.get("User-Agent", ""),
        }
        line = self.format % {key: _field(value) for key, value in fields.items()}
        if self.logger is not None:
            self.logger.info(line)
            return
        self.file.write(line + "\n")
        self.file.flush()
