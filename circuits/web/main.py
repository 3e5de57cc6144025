"""The ``circuits.web`` command-line tool: serve a directory over HTTP.

    python -m circuits.web [-b HOST:PORT] [--jsonrpc] [--no-index] [DOCROOT]

Serves DOCROOT (default: the current directory) with directory listings
(``--no-index`` turns them off), logs requests to stderr (``--quiet``
not), and with ``--jsonrpc`` answers JSON-RPC 2.0 calls on ``/json``
(methods ``ping``, ``version``, ``time``; a quick way to try a client).
``--websocket PATH`` adds an echo WebSocket endpoint. The first line on
stdout is the URL served (useful with port 0).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from ..core.components import BaseComponent, Component
from ..core.debugger import Debugger
from ..core.handlers import handler
from ..core.manager import Manager
from ..net.addresses import split_host_port
from ..version import __version__
from .dispatchers.jsonrpc import JSONRPC
from .dispatchers.static import Static
from .loggers import Logger
from .servers import Server
from .websockets.dispatcher import WebSocketsDispatcher

__all__ = ["build_app", "main", "parse_args"]


class ToolAPI(Component):
    """The methods ``--jsonrpc`` offers (on the private channel "cli-rpc")."""

    channel = "cli-rpc"

    def ping(self) -> str:
        return "pong"

    def version(self) -> str:
        return __version__

    def time(self) -> float:
        return time.time()


class WebSocketEcho(Component):
    """``--websocket PATH``: every message comes back to its sender."""

    channel = "cli-ws"

    def read(self, sock: Any, data: Any) -> Any:
        return data


class Announcer(BaseComponent):
    """Prints the URL once the server listens."""

    channel = "web"

    def __init__(self, docroot: str) -> None:
        super().__init__(channel="web")
        self.docroot = docroot

    @handler("ready")
    def _on_ready(self, server: Any, bind: Any = None) -> None:
        host, port = getattr(server, "host", None), getattr(server, "port", None)
        if port is None:
            return
        shown = f"[{host}]" if host and ":" in host else host
        print(f"http://{shown}:{port}/", flush=True)
        print(f"circuits.web {__version__} serving {self.docroot}", file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="circuits.web", description="circuits.web web server and testing tool")
    parser.add_argument("docroot", nargs="?", default=os.getcwd(), help="directory to serve (default: .)")
    parser.add_argument("-b", "--bind", default="0.0.0.0:8000", metavar="HOST:PORT",
                        help="address to listen on (default 0.0.0.0:8000; a bare PORT is allowed)")
    parser.add_argument("--jsonrpc", action="store_true", help="answer JSON-RPC 2.0 calls on /json")
    parser.add_argument("--no-index", action="store_true", help="no directory listings")
    parser.add_argument("--websocket", metavar="PATH", help="add an echo WebSocket endpoint at PATH")
    parser.add_argument("--certfile", help="serve HTTPS with this PEM certificate (and key)")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not log requests")
    parser.add_argument("-d", "--debug", action="store_true", help="print every event (circuits Debugger)")
    parser.add_argument("-V", "--version", action="version", version=f"circuits.web {__version__}")
    return parser.parse_args(argv)


def _bind(text: str) -> tuple[str, int]:
    return split_host_port(text)


def build_app(args: argparse.Namespace) -> Manager:
    docroot = os.path.abspath(args.docroot)
    if not os.path.isdir(docroot):
        raise FileNotFoundError(f"not a directory: {docroot}")
    app = Manager()
    secure = {"secure": True, "certfile": args.certfile} if args.certfile else {}
    Server(_bind(args.bind), **secure).register(app)
    Static(docroot=docroot, dirlisting=not args.no_index).register(app)
    if args.jsonrpc:
        JSONRPC("/json", rpc_channel=ToolAPI.channel).register(app)
        ToolAPI().register(app)
    if args.websocket:
        WebSocketsDispatcher(args.websocket, wschannel=WebSocketEcho.channel).register(app)
        WebSocketEcho().register(app)
    if not args.quiet:
        Logger(sys.stderr).register(app)
    if args.debug:
        Debugger().register(app)
    Announcer(docroot).register(app)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        app = build_app(args)
    except (OSError, ValueError) as e:
        print(f"circuits.web: {e}", file=sys.stderr)
        return 2
    app.run()
    return 0
