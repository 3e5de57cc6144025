"""``/metrics``: the gateway's figures in the Prometheus text format (0.0.4).

Format rules (https://prometheus.io/docs/instrumenting/exposition_formats/):
one ``# HELP`` and one ``# TYPE`` line per metric family, before its
samples; label values escape backslash, double quote and line feed;
counters end in ``_total``; the body ends with a line feed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from circuits.web.controllers import BaseController, expose

from .. import features
from .snapshot import DeviceSnapshot, GatewayParts, device_snapshots, uplink_state
from .thresholds import ThresholdCounter

__all__ = ["CONTENT_TYPE", "Metrics", "render_metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Sample = tuple[dict[str, str], float | int]


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(name: str, kind: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        label_text = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
        lines.append(f"{name}{{{label_text}}} {value}" if label_text else f"{name} {value}")
    return lines


def render_metrics(devices: Sequence[DeviceSnapshot], uplink: dict[str, Any], web: dict[str, Any],
                   warnings: Iterable[Sample] = (), rfc2217: Mapping[str, dict[str, Any]] | None = None,
                   modbus: tuple[Iterable[Sample], Iterable[Sample]] = ((), ()),
                   access: Iterable[Sample] = (), discarded: Iterable[Sample] = (),
                   reopens: Iterable[Sample] = ()) -> str:
    """The whole exposition for one scrape."""

    def per_device(getter: Any) -> list[Sample]:
        return [({"device": d.name}, getter(d)) for d in devices]

    lines: list[str] = []
    lines += _family("gateway_readings_total", "counter", "Readings parsed since the gateway started.",
                     per_device(lambda d: d.counters.readings))
    lines += _family("gateway_parse_errors_total", "counter",
                     "Messages that could not be parsed or were dropped by the framer (too long, malformed).",
                     per_device(lambda d: d.counters.parse_errors))
    lines += _family("gateway_device_online", "gauge", "1 while the device's port is open.",
                     per_device(lambda d: int(d.online)))
    lines += _family("gateway_tcp_clients", "gauge", "TCP clients connected to the device's port.",
                     per_device(lambda d: d.counters.tcp_clients))
    lines += _family("gateway_tcp_clients_dropped_total", "counter",
                     "TCP clients dropped because they read too slowly.",
                     per_device(lambda d: d.tcp_dropped_slow))
    lines += _family("gateway_mqtt_configured", "gauge", "1 if an MQTT uplink is configured.",
                     [({}, int(uplink["configured"]))])
    lines += _family("gateway_mqtt_connected", "gauge", "1 while connected to the MQTT broker.",
                     [({}, int(uplink["connected"]))])
    lines += _family("gateway_spool_depth", "gauge",
                     "Readings durable in the spool and not yet acknowledged by the broker.",
                     [({}, uplink["spool_depth"])])
    lines += _family("gateway_spool_accepted_total", "counter",
                     "Readings accepted: written to the spool by a finished commit (fsync) since the start.",
                     [({}, uplink["accepted"])])
    lines += _family("gateway_spool_commits_total", "counter",
                     "Spool transactions finished on the disk writer thread (one fsync each, however "
                     "many readings: a slow disk makes fewer, larger ones).",
                     [({}, uplink.get("commits", 0))])
    lines += _family("gateway_spool_unaccepted", "gauge",
                     "Readings handed to the spool's writer thread and not yet durable.",
                     [({}, uplink["unaccepted"])])
    lines += _family("gateway_spool_dropped_total", "counter",
                     "Readings lost before the broker took them: the full spool's oldest, and those dropped "
                     "unaccepted because the disk could not keep up.",
                     [({}, uplink["dropped"])])
    lines += _family("gateway_spool_overflow_dropped_total", "counter",
                     "Readings dropped before they were accepted: the disk could not keep up and the "
                     "in-memory hand-over was full (included in gateway_spool_dropped_total).",
                     [({}, uplink["overflow_dropped"])])
    lines += _family("gateway_websocket_clients", "gauge", "Dashboard WebSocket connections.",
                     [({}, web["clients"])])
    lines += _family("gateway_websocket_clients_dropped_total", "counter",
                     "WebSocket clients dropped because they read too slowly.", [({}, web["dropped_slow"])])
    lines += _family("gateway_field_warnings_total", "counter",
                     "Readings with a field past its warn_above/warn_below ([device.fields.NAME]).", warnings)
    if rfc2217:
        # Only devices with an ``rfc2217`` listener (their summary()).
        lines += _family("gateway_rfc2217_clients", "gauge", "RFC 2217 clients connected to the device.",
                         [({"device": name}, len(s["clients"])) for name, s in rfc2217.items()])
        lines += _family("gateway_rfc2217_settings_changes_total", "counter",
                         "Line settings changed by RFC 2217 clients.",
                         [({"device": name}, s["changes"]) for name, s in rfc2217.items()])
        lines += _family("gateway_rfc2217_settings_refused_total", "counter",
                         "Changes refused by rfc2217_settings (lock, limits).",
                         [({"device": name}, s["refused"]) for name, s in rfc2217.items()])
    requests, stale = modbus
    lines += _family("gateway_modbus_requests_total", "counter",
                     "Modbus RTU requests by unit and result (ok, exception, timeout, invalid, offline, "
                     "busy, broadcast).", requests)
    lines += _family("gateway_modbus_unit_stale", "gauge",
                     "1 while a polled unit's last cycle failed (its values are stale).", stale)
    lines += _family("gateway_tcp_discarded_bytes_total", "counter",
                     "Bytes from TCP clients not allowed to write (tcp_mode one-writer, read-only), discarded.",
                     discarded)
    lines += _family("gateway_device_reopens_total", "counter",
                     "Ports the gateway closed and reopened itself, by reason (idle: idle_reopen).", reopens)
    lines += _family("gateway_connections_denied_total", "counter",
                     "Connections closed unread because the peer is not in the listener's allow list.", access)
    return "\n".join(lines) + "\n"


def access_samples(parts: GatewayParts, web_access: Any = None) -> list[Sample]:
    """Refusals of every listener with an ``allow`` list (gateway.access.AccessGuard)."""
    samples: list[Sample] = []
    for listener, group in (("tcp", parts.bridges), ("rfc2217", parts.rfc2217)):
        for name, part in group.items():
            guard = getattr(part, "access", None)
            if guard is not None:
                samples.append(({"device": name, "listener": listener}, guard.refused))
    for name, device in getattr(parts, "modbus", {}).items():
        guard = getattr(getattr(device, "tcp", None), "access", None)
        if guard is not None:
            samples.append(({"device": name, "listener": "modbus_tcp"}, guard.refused))
    if web_access is not None:
        samples.append(({"listener": "web"}, web_access.refused))
    return samples


class Metrics(BaseController):
    """``GET /metrics`` (behind the same authentication as the rest, when configured)."""

    channel = "/metrics"

    def __init__(self, parts: GatewayParts, ws: Any, thresholds: ThresholdCounter | None = None, *,
                 web_access: Any = None) -> None:
        super().__init__()
        self.web_access = web_access
        self.parts = parts
        self.ws = ws
        self.thresholds = thresholds

    @expose("index")
    def index(self) -> str:
        ws = self.ws.statistics()
        self.response.headers["Content-Type"] = CONTENT_TYPE
        self.response.headers["Cache-Control"] = "no-store"
        return render_metrics(device_snapshots(self.parts), uplink_state(self.parts),
                              {"clients": ws["clients"], "dropped_slow": ws["dropped_slow"]},
                              self.thresholds.samples() if self.thresholds is not None else (),
                              {name: part.summary() for name, part in self.parts.rfc2217.items()},
                              features.modbus_samples(getattr(self.parts, "modbus", {})),
                              access_samples(self.parts, self.web_access),
                              [({"device": name}, getattr(bridge, "discarded", 0))
                               for name, bridge in self.parts.bridges.items()],
                              [({"device": name, "reason": reason}, count)
                               for name, link in self.parts.links.items()
                               for reason, count in getattr(link, "reopens", {}).items()])
