"""Logger: one line per response in the Combined Log Format."""

from __future__ import annotations

import os
import sys
import time
from typing import IO, Any

from ..core.components import BaseComponent
from ..core.handlers import handler
from .output import body_bytes

__all__ = ["Logger", "formattime"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def formattime() -> str:
    """Now, as ``[10/Oct/2000:13:55:36 +0000]`` (local time with its UTC offset)."""
    now = time.localtime()
    offset = now.tm_gmtoff // 60
    sign = "+" if offset >= 0 else "-"
    offset = abs(offset)
    return (f"[{now.tm_mday:02d}/{_MONTHS[now.tm_mon - 1]}/{now.tm_year}:{now.tm_hour:02d}:{now.tm_min:02d}:"
            f"{now.tm_sec:02d} {sign}{offset // 60:02d}{offset % 60:02d}]")


def _escape(value: Any) -> str:
    # Control characters and quotes must not forge log lines or fields.
    text = str(value)
    return text.encode("unicode_escape").decode("ascii").replace('"', '\\"')


class Logger(BaseComponent):
    """Log every response to ``file`` (a path or a stream, default stdout) or ``logger``."""

    channel = "web"
    format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'

    def __init__(self, file: str | IO[str] | None = None, logger: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(file, str):
            self.file: IO[str] = open(os.path.abspath(os.path.expanduser(file)), "a")  # noqa: SIM115
        elif file is not None and hasattr(file, "write"):
            self.file = file
        else:
            self.file = sys.stdout
        self.logger = logger

    @handler("request", priority=100)
    def _note_peer(self, event: Any, request: Any, response: Any = None) -> None:
        # The peer's address while the connection is surely open: by the
        # time a response is logged the client may have hung up.
        request.remote  # noqa: B018 - computed once and kept by the request

    @handler("response", priority=1)
    def _log_before_sending(self, response: Any) -> None:
        # Just before the HTTP component (priority 0) sends it, when its
        # size is known already (a body in one piece): the line is then
        # written before the client can have its answer, and code that
        # reads the log once it has the answer finds it (3.x did).
        length = self._length_now(response)
        if length is not None:
            response._logged = True
            self.log(response, length)

    @handler("response", priority=-100)
    def log_response(self, response: Any) -> None:
        # A streamed body: right after the HTTP component started it.
        if not getattr(response, "_logged", False):
            self.log(response)

    @staticmethod
    def _length_now(response: Any) -> int | str | None:
        """The size the log line shows, if known before sending; else None."""
        code = int(response.status)
        if code < 200 or code in (204, 304) or response.request.method == "HEAD":
            return "-"
        if response.stream and response._body is None:
            return None
        declared = response._headers.get("Content-Length") if response._headers is not None else None
        if declared is not None:
            return declared
        data = body_bytes(response._body, response.encoding)
        return None if data is None else (len(data) or "-")

    def log(self, response: Any, length: Any = None) -> None:
        request = response.request
        remote = request.remote
        inheaders = request.headers
        if length is None:
            length = response.headers.get("Content-Length") if response._headers is not None else None
        if length is None:
            length = response.sent or "-"
        atoms = {
            "h": inheaders.get("X-Forwarded-For", remote.name or remote.ip),
            "l": "-",
            "u": request.login or "-",
            "t": formattime(),
            "r": f"{request.method} {request.target} HTTP/{request.protocol[0]}.{request.protocol[1]}",
            "s": int(response.status),
            "b": length,
            "f": inheaders.get("Referer", ""),
            "a": inheaders.get("User-Agent", ""),
        }
        line = self.format % {k: _escape(v) for k, v in atoms.items()}
        if self.logger is not None:
            self.logger.info(line)
        else:
            self.file.write(line + "\n")
            self.file.flush()
