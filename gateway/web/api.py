"""``/api``: the JSON the dashboard loads when a page opens.

* ``GET /api/devices`` -> ``{"gateway": NAME, "devices": [{name, online,
  port, counters: {readings, parse_errors, tcp_clients}}]}``
  plus per device its ``status``, the ``detail`` the gateway logged (the
  path opened, or why it is offline) and ``fields``: the
  ``[device.fields.NAME]`` presentation (label, unit, chart, ...).
  A Modbus device with polled units adds ``modbus_units``: per unit id
  ``{stale, last_error}`` (stale: its last poll cycle failed).
* ``GET /api/history?limit=N`` -> ``{"NAME": [readings, newest last], ...}``
  for every device in one request: a page fills all its charts at once.
* ``GET /api/readings?device=NAME&limit=N`` -> the last N readings of that
  device from the history, newest last. ``device`` must be a configured
  device (else 404), ``limit`` a whole number >= 1 (else 400); it is capped
  at the history's bound (default 100 when absent).
* ``GET /api/readings.csv?device=NAME&since=T`` -> that device's history
  as CSV (:mod:`.csvexport`), all of it or from ``since`` (ISO 8601 or
  Unix seconds), as a download named ``NAME.csv``.

Errors are JSON too (``{"error": "..."}``): the caller is a script.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from circuits.web.controllers import BaseController, expose

from ..history import History
from .csvexport import parse_since, readings_csv
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
        listed = []
        for snapshot in device_snapshots(self.parts):
            entry = snapshot.as_dict()
            link = self.parts.links[snapshot.name]
            entry["status"] = getattr(link, "status", "online" if snapshot.online else "offline")
            entry["detail"] = getattr(link, "detail", "")
            entry["fields"] = {name: shown.as_dict() for name, shown in link.config.fields}
            modbus = getattr(self.parts, "modbus", {}).get(snapshot.name)
            poller = getattr(modbus, "poller", None)
            if poller is not None:
                entry["modbus_units"] = {str(unit): {"stale": stats["stale"], "last_error": stats["last_error"]}
                                         for unit, stats in poller.units().items()}
            remote = self.parts.rfc2217.get(snapshot.name)
            if remote is not None:
                entry["rfc2217"] = remote.summary()
            listed.append(entry)
        return self._json(json.dumps({"gateway": self.gateway_name, "devices": listed}))

    @expose("history")
    def history_all(self, limit: str | None = None) -> str:
        count = self._limit(limit)
        if count is None:
            return self._error(400, "limit must be a whole number >= 1")
        parts = [f"{json.dumps(name)}:[{','.join(self.history.latest(name, count))}]" for name in self.parts.links]
        return self._json("{" + ",".join(parts) + "}")

    @expose("readings")
    def readings(self, device: str | None = None, limit: str | None = None) -> str:
        refused = self._unknown_device(device)
        if refused is not None:
            return refused
        count = self._limit(limit)
        if count is None:
            return self._error(400, "limit must be a whole number >= 1")
        # Stored as JSON text already: joined, not decoded and encoded again.
        return self._json("[" + ",".join(self.history.latest(device, count)) + "]")

    @expose("readings.csv")
    def readings_csv(self, device: str | None = None, since: str | None = None) -> str | Iterator[str]:
        refused = self._unknown_device(device)
        if refused is not None:
            return refused
        if since is not None and not isinstance(since, str):
            return self._error(400, "since may be given once")
        try:
            start = parse_since(since) if since is not None else None
        except ValueError as exc:
            return self._error(400, str(exc))
        headers = self.response.headers
        headers["Content-Type"] = "text/csv; charset=utf-8"
        headers["Cache-Control"] = "no-store"
        # The name is a configured device name ([A-Za-z0-9_-]): safe in the header as it is.
        headers["Content-Disposition"] = f'attachment; filename="{device}.csv"'
        return readings_csv(self.history.latest(device, self.history.per_device), start)

    def _unknown_device(self, device: object) -> str | None:
        """The error answer when ``device`` is missing, repeated or not configured; None when it is fine."""
        if not device or not isinstance(device, str):
            return self._error(400, "the device parameter is required")
        if device not in self.parts.links:
            return self._error(404, f"no device named {device!r}")
        return None

    def _limit(self, limit: object) -> int | None:
        """``limit`` capped at the history's bound, or None when it is not a whole number >= 1."""
        if limit is None:
            return min(DEFAULT_LIMIT, self.history.per_device)
        # isdecimal, not int(): int() takes " 5", "+5", "5_0" and "٥".
        if not isinstance(limit, str) or not limit.isascii() or not limit.isdecimal() or len(limit) > 9:
            return None
        count = int(limit)
        return min(count, self.history.per_device) if count >= 1 else None

    def _json(self, text: str) -> str:
        self.response.headers["Content-Type"] = _JSON
        self.response.headers["Cache-Control"] = "no-store"
        return text

    def _error(self, status: int, message: str) -> str:
        self.response.status = status
        return self._json(json.dumps({"error": message}))
