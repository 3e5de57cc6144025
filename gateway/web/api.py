"""``/api``: the JSON the dashboard loads when a page opens.

* ``GET /api/devices`` -> ``{"gateway": NAME, "devices": [{name, online,
  port, counters: {readings, parse_errors, tcp_clients}}]}``
* ``GET /api/readings?device=NAME&limit=N`` -> the last N readings of that
  device from the history, newest last. ``device`` must be a configured
  device (else 404), ``limit`` a whole number >= 1 (else 400); it is capped
  at the history's bound (default 100 when absent).

Errors are JSON too (``{"error": "..."}``): the caller is a script.
"""

from __future__ import annotations

import json

from circuits.web.controllers import BaseController, expose

from ..history import History
from .snapshot import GatewayParts, device_snapshots

__all__ = ["Api", "DEFAULT_LIMIT"]

DEFAULT_LIMIT = 100
_JSON = "application/json"


class Api(BaseController):
    channel = "/api"

    def __init__(self, parts: GatewayParts, gateway_name: str, history: History) -> None:
        super().__init__()
        self.parts = parts
        self.gateway_name = gateway_name
        self.history = history

    @expose("devices")
    def devices(self) -> str:
        body = {"gateway": self.gateway_name, "devices": [d.as_dict() for d in device_snapshots(self.parts)]}
        return self._json(json.dumps(body))

    @expose("readings")
    def readings(self, device: str | None = None, limit: str | None = None) -> str:
        if not device or not isinstance(device, str):
            return self._error(400, "the device parameter is required")
        if device not in self.parts.links:
            return self._error(404, f"no device named {device!r}")
        count = DEFAULT_LIMIT
        if limit is not None:
            # isdecimal, not int(): int() takes " 5", "+5", "5_0" and "٥".
            if not isinstance(limit, str) or not limit.isascii() or not limit.isdecimal() or len(limit) > 9:
                return self._error(400, "limit must be a whole number >= 1")
            count = int(limit)
            if count < 1:
                return self._error(400, "limit must be a whole number >= 1")
        count = min(count, self.history.per_device)
        # Stored as JSON text already: joined, not decoded and encoded again.
        return self._json("[" + ",".join(self.history.latest(device, count)) + "]")

    def _json(self, text: str) -> str:
        self.response.headers["Content-Type"] = _JSON
        self.response.headers["Cache-Control"] = "no-store"
        return text

    def _error(self, status: int, message: str) -> str:
        self.response.status = status
        return self._json(json.dumps({"error": message}))
