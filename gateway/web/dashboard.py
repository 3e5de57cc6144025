"""WebDashboard: the gateway's web server, wired from ``[web]``.

::

    WebDashboard (channel "gateway")
    +- Server                       circuits.web on [web] listen    ("web")
    |  +- HostFilter                [web] server_names: 421 for other Host names
    |  +- Health                    /healthz, before authentication
    |  +- BasicAuthGuard            only with [web.users]
    |  +- WebSocketsDispatcher      /ws, same origin or [web] allowed_origins (events on "dashboard.ws")
    |  +- Static                    /static/*
    |  +- Index, Api, Metrics       /, /api/*, /metrics
    |  +- DevicePage, DeviceApi     /device/NAME, /api/device/NAME[/write]
    +- LiveFeed                     readings/statuses -> history and /ws
    +- TrafficFeed                  a device's hex view over /ws while a page watches

Binding happens while the gateway is built, so a port in use fails
start-up (exit 69) instead of a service that says "started" but cannot be
reached; the gateway expects ``"web"`` and this component fires
``part_ready("web")`` once the listener accepts, so READY=1 waits for it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from circuits import BaseComponent, handler
from circuits.web.dispatchers.static import Static
from circuits.web.hosts import HostFilter, default_server_names
from circuits.web.servers import Server
from circuits.web.websockets.dispatcher import WebSocketsDispatcher

from ..access import guard_server
from ..config import Address, WebConfig
from ..diskwriter import DiskWriter
from ..events import BUS, part_ready
from ..history import DEFAULT_NAME as HISTORY_FILE
from ..history import History
from .api import Api
from .auth import BasicAuthGuard
from .devicepage import DeviceApi, DevicePage
from .feed import WS_CHANNEL, LiveFeed
from .metrics import Metrics
from .pages import STATIC_DIR, Health, Index
from .snapshot import GatewayParts
from .thresholds import ThresholdCounter
from .trafficfeed import TrafficFeed

__all__ = ["DEFAULT_SEND_BUFFER", "PART", "WebDashboard"]

log = logging.getLogger(__name__)

#: The name READY=1 waits for.
PART = "web"
#: Largest request body the dashboard reads: none of its endpoints takes
#: uploads, so a body is at most a small form or JSON document.
MAX_BODY = 16 * 1024
#: Bytes a WebSocket client may have unsent before it is dropped as too slow:
#: a few seconds of every reading of a busy gateway.
DEFAULT_SEND_BUFFER = 1 << 20
WEB_CHANNEL = "web"


class WebDashboard(BaseComponent):
    """The dashboard, its API, /metrics and /healthz (see module doc)."""

    channel = BUS

    def __init__(self, config: WebConfig, parts: GatewayParts, gateway_name: str, state_dir: Path, *,
                 max_send_buffer: int = DEFAULT_SEND_BUFFER, counters_interval: float = 1.0,
                 writer: DiskWriter | None = None) -> None:
        super().__init__(channel=BUS)
        self.config = config
        # With the gateway's disk writer the history's commits leave the loop.
        self.history = History(Path(state_dir) / HISTORY_FILE, config.history, writer=writer,
                               loop=None if writer is None else lambda: self.loop)
        try:
            tls: dict[str, Any] = {}
            if config.certfile is not None:  # checked when the configuration was read
                tls = {"secure": True, "certfile": str(config.certfile),
                       "keyfile": None if config.keyfile is None else str(config.keyfile)}
            self.server = Server(tuple(config.listen), channel=WEB_CHANNEL, display_banner=False,
                                 header_timeout=config.header_timeout, body_timeout=config.body_timeout,
                                 body_min_rate=config.body_min_rate,
                                 keepalive_timeout=config.keepalive_timeout, send_timeout=config.send_timeout,
                                 max_connections=config.max_connections,
                                 body_limit=self._body_limit, **tls).register(self)
        except BaseException:
            self.history.close()
            raise
        # [web] allow: refused at accept, before TLS or HTTP see a byte.
        self.access = guard_server(self.server.server, "web", config.allow)
        names = config.server_names if config.server_names is not None else default_server_names(config.host)
        self.hosts = HostFilter(names, channel=WEB_CHANNEL).register(self.server)
        Health(channel=WEB_CHANNEL).register(self.server)
        self.guard = None
        if config.users:
            self.guard = BasicAuthGuard(config.users, f"gateway {gateway_name}",
                                        channel=WEB_CHANNEL).register(self.server)
        self.ws = WebSocketsDispatcher("/ws", wschannel=WS_CHANNEL, channel=WEB_CHANNEL,
                                       max_send_buffer=max_send_buffer, same_origin=True,
                                       origins=config.allowed_origins).register(self.server)
        Static(path="/static", docroot=str(STATIC_DIR), channel=WEB_CHANNEL).register(self.server)
        Index().register(self.server)
        Api(parts, gateway_name, self.history).register(self.server)
        self.thresholds = ThresholdCounter(link.config for link in parts.links.values())
        Metrics(parts, self.ws, self.thresholds, web_access=self.access).register(self.server)
        self.traffic = TrafficFeed(parts).register(self)
        DevicePage(parts).register(self.server)
        self.device_api = DeviceApi(parts, users=bool(config.users), ws=self.ws,
                                    watchers=self.traffic).register(self.server)
        self.feed = LiveFeed(parts, self.ws, self.history, counters_interval=counters_interval,
                             thresholds=self.thresholds).register(self)

    def _body_limit(self, request: Any) -> int | None:
        """Asked on each head with a body: with [web.users], none is read before its sender is known.

        (The parser's own max_body would answer 413 before authentication.)
        """
        guard = self.guard
        if guard is not None and not guard.knows(request):
            return 0
        return MAX_BODY

    @property
    def address(self) -> Address:
        return Address(str(self.server.host or ""), int(self.server.port or 0))

    @property
    def url(self) -> str:
        host, port = self.address
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else ("::1" if host == "::" else host)
        return f"{self.config.scheme}://{Address(shown, port)}/"

    @handler("ready", channel=WEB_CHANNEL)
    def _on_ready(self, server: Any, bind: Any = None) -> None:
        if server is self.server.server:
            log.info("dashboard on %s%s", self.url, " (basic auth)" if self.guard is not None else "")
            self.fire(part_ready(PART), BUS)

    def close(self) -> None:
        """Write the buffered history and close it (idempotent)."""
        self.history.close()

    def stop(self) -> None:
        """Close the listener, every connection (WebSockets too) and the history
        while the gateway goes on (a reload changed ``[web]``)."""
        self.server.server.close()
        self.feed.stop()
        self.traffic.stop()
        self.close()

    def statistics(self) -> dict[str, Any]:  # type: ignore[override]
        return {"url": self.url, "websocket": self.ws.statistics(), "feed": self.feed.statistics(),
                "traffic": self.traffic.statistics(), "device_api": self.device_api.statistics(),
                "history": self.history.statistics(),
                "auth": self.guard.statistics() if self.guard is not None else None}
