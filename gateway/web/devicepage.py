"""The device page: ``/device/NAME`` and the JSON and writes behind it.

* ``GET /device/NAME`` -> the page (``static/device.html``; 404 for a
  device that is not configured).
* ``GET /api/device/NAME`` -> ``{name, status, detail, port, read_only,
  write: {allowed, why}, settings, clients, errors, traffic}``: the serial
  settings in force (read from the open port, else the configured ones),
  every connected client of every kind (TCP, RFC 2217, Modbus TCP,
  WebSocket) with its address, since when and bytes each way, and the
  last parse errors with the offending bytes in hex.
* ``POST /api/device/NAME/write`` with ``{"data": TEXT, "mode": "text"|"hex",
  "eol": "none"|"lf"|"cr"|"crlf"}`` -> the bytes go to the device through
  ``device_write``, the path MQTT writes take.

Writing is refused on the server, whatever the page shows: without
``[web.users]`` (nobody is known, so nobody may write), for a device with
``read_only = true`` (or issue 16's ``tcp_mode = "read-only"``), and for a
request that is not JSON from this origin (a cross-site form cannot send
``application/json`` without a CORS preflight, which is never answered, and
basic credentials would otherwise ride along with it).
"""

from __future__ import annotations

import json
import logging
import termios
from collections.abc import Iterator, Mapping
from typing import Any

from circuits.web.controllers import BaseController, expose
from circuits.web.hosts import same_origin as is_same_origin

from ..events import BUS, device_write
from ..rfc2217.port import read_settings
from .pages import STATIC_DIR, security_headers
from .snapshot import GatewayParts

__all__ = ["DeviceApi", "DevicePage", "MAX_WRITE", "encode_write", "is_read_only"]

#: Largest write the console sends in one request.
MAX_WRITE = 4096
log = logging.getLogger(__name__)

EOLS = {"none": b"", "lf": b"\n", "cr": b"\r", "crlf": b"\r\n"}


def is_read_only(config: Any) -> bool:
    """``read_only = true``, or ``tcp_mode = "read-only"`` where issue 16's key exists."""
    return bool(getattr(config, "read_only", False)) or getattr(config, "tcp_mode", None) == "read-only"


def encode_write(body: Mapping[str, Any]) -> bytes:
    """The bytes a console request asks for (ValueError saying why when it is malformed)."""
    data = body.get("data")
    mode = body.get("mode", "text")
    eol = body.get("eol", "none")
    if not isinstance(data, str):
        raise ValueError("data must be a string")
    if mode == "hex":
        digits = "".join(data.split())
        try:
            payload = bytes.fromhex(digits)
        except ValueError:
            raise ValueError("hex must be pairs of hex digits (spaces allowed)") from None
    elif mode == "text":
        if eol not in EOLS:
            raise ValueError(f"eol must be one of {', '.join(EOLS)}")
        payload = data.encode("utf-8") + EOLS[eol]
    else:
        raise ValueError('mode must be "text" or "hex"')
    if not payload:
        raise ValueError("nothing to send")
    if len(payload) > MAX_WRITE:
        raise ValueError(f"at most {MAX_WRITE} bytes per write")
    return payload


class DevicePage(BaseController):
    """``/device/NAME``: the page (its data comes from :class:`DeviceApi` and /ws)."""

    channel = "/device"

    def __init__(self, parts: GatewayParts) -> None:
        super().__init__()
        self.parts = parts

    @expose("index")
    def index(self, name: str | None = None) -> Any:
        if name is None or name not in self.parts.links:
            return self.notfound(f"no device named {name!r}" if name else "which device?")
        security_headers(self.response)
        self.response.headers["Cache-Control"] = "no-cache"
        return self.serve_file(str(STATIC_DIR / "device.html"), type="text/html; charset=utf-8")


class DeviceApi(BaseController):
    """``/api/device/NAME[/write]`` (see module doc)."""

    channel = "/api/device"

    def __init__(self, parts: GatewayParts, *, users: bool, ws: Any = None, watchers: Any = None) -> None:
        super().__init__()
        self.parts = parts
        #: ``[web.users]`` is set: requests that get here are authenticated.
        self.users = users
        self.ws = ws
        self.watchers = watchers
        self.writes = 0
        self.refused = 0

    @expose("index")
    def index(self, name: str | None = None, action: str | None = None) -> str:
        link = self.parts.links.get(name or "")
        if link is None:
            return self._error(404, f"no device named {name!r}")
        if action == "write":
            return self._write(name or "", link)
        if action is not None:
            return self._error(404, f"no such action {action!r}")
        if self.request.method not in ("GET", "HEAD"):
            return self._error(405, "GET only (writes go to /api/device/NAME/write)")
        allowed, why = self._may_write(link.config)
        body = {"name": name, "status": link.status, "detail": link.detail, "port": link.path,
                "read_only": is_read_only(link.config), "write": {"allowed": allowed, "why": why},
                "settings": _settings(link), "clients": list(self._clients(name or "")),
                "errors": [{"ts": ts, "reason": why, "hex": data.hex()} for ts, why, data in link.readings.errors],
                "traffic": link.traffic.statistics()}
        return self._json(json.dumps(body))

    # -- writing -----------------------------------------------------------

    def _may_write(self, config: Any) -> tuple[bool, str]:
        if not self.users:
            return False, "Writing needs [web.users] in the configuration: nobody is logged in."
        if not getattr(self.request, "login", None):
            return False, "Log in to write."
        if is_read_only(config):
            return False, "This device is read-only: nothing is written to it from here."
        return True, ""

    def _write(self, name: str, link: Any) -> str:
        request = self.request
        if request.method != "POST":
            self.response.headers["Allow"] = "POST"
            return self._error(405, "POST a JSON body to write")
        allowed, why = self._may_write(link.config)
        if not allowed:
            self.refused += 1
            return self._error(403, why)
        ctype = str(request.headers.get("Content-Type", "")).split(";")[0].strip().lower()
        if ctype != "application/json":
            return self._error(415, "the body must be application/json")
        origin = request.headers.get("Origin")
        if origin is not None and not is_same_origin(origin, request.headers.get("Host", ""), request.scheme):
            self.refused += 1
            return self._error(403, "writes come from this gateway's own page")
        raw = request.body.read(MAX_WRITE * 4 + 1024)
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            payload = encode_write(body)
        except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            return self._error(400, str(exc))
        if not link.online:
            return self._error(409, f"{name} is offline: {link.detail or 'not open'}")
        self.writes += 1
        # Who wrote what to a device is worth a line: the console is a remote control.
        log.info("%s: %d bytes written from the dashboard by %s (%s)", name, len(payload),
                 getattr(request, "login", "?"), request.remote.ip)
        self.fire(device_write(name, payload), BUS)
        return self._json(json.dumps({"sent": len(payload)}))

    # -- what is connected -------------------------------------------------

    def _clients(self, name: str) -> Iterator[dict[str, Any]]:
        for kind, bridge in (("TCP", self.parts.bridges.get(name)), ("RFC 2217", self.parts.rfc2217.get(name))):
            if bridge is None:
                continue
            for sock, (host, port) in list(bridge.clients.items()):
                yield _client(kind, host, port, getattr(bridge, "since", {}).get(sock),
                              bridge.server.transport_for(sock))
        modbus = getattr(self.parts, "modbus", {}).get(name)
        tcp = getattr(modbus, "tcp", None)
        if tcp is not None:
            for sock, client in list(tcp.clients.items()):
                host, port = client.peer
                yield _client("Modbus TCP", host, port, client.since, tcp.server.transport_for(sock))
        if self.watchers is not None and self.ws is not None:
            for sock, (host, port, since, watching) in list(self.watchers.sockets.items()):
                entry = _client("WebSocket", host, port, since, self.ws.transport_of(sock))
                entry["watching"] = watching == name
                yield entry

    def _json(self, text: str) -> str:
        self.response.headers["Content-Type"] = "application/json"
        self.response.headers["Cache-Control"] = "no-store"
        return text

    def _error(self, status: int, message: str) -> str:
        self.response.status = status
        return self._json(json.dumps({"error": message}))

    def statistics(self) -> dict[str, int]:  # type: ignore[override]
        return {"writes": self.writes, "refused": self.refused}


def _client(kind: str, host: Any, port: Any, since: float | None, transport: Any) -> dict[str, Any]:
    # The transport's view: bytes_in came from the client, bytes_out went to it.
    return {"kind": kind, "address": f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}",
            "since": since, "bytes_from": getattr(transport, "bytes_in", None),
            "bytes_to": getattr(transport, "bytes_out", None)}


def _settings(link: Any) -> dict[str, Any]:
    """What the kernel has for the open port, else what is configured."""
    config = link.config
    device = getattr(link.serial, "device", None)
    if device is not None:
        try:
            return read_settings(device.fileno()).as_dict() | {"source": "port"}
        except (OSError, termios.error, ValueError):
            pass
    return {"baudrate": config.baudrate, "bytesize": config.bytesize, "parity": config.parity,
            "stopbits": config.stopbits, "xonxoff": config.xonxoff, "rtscts": config.rtscts,
            "source": "configuration"}
