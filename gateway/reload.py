"""What a configuration reload changes: a plan computed from the old and the new file.

Pure: no I/O, no components.  :func:`plan_reload` compares two validated
:class:`GatewayConfig` values device by device and says, for each part of
the gateway, the least that has to happen for the new file to be in force:

* an unchanged device is left alone (its clients never notice);
* serial line settings are applied to the open port (``apply_settings``);
* a new ``port``/``match`` reopens the port, the listeners stay;
* the parser (profile, framing, ...) and ``idle_reopen`` change in place;
* ``max_clients``, ``allow`` and ``tcp_mode`` change on the running
  listeners (a client the new ``allow`` refuses is closed);
* a listener whose address, TLS or buffer changed is rebuilt (``tcp``,
  ``rfc2217``): its clients are closed, the other listener stays;
* anything else (Modbus, a field this module does not know) restarts the
  whole device: it is stopped and started again under the same name, so
  its sequence numbers continue;
* ``[web]`` and ``[mqtt]`` are restarted only when their section (or the
  gateway's name, which both show) changed.

``state_dir`` cannot move while the stores in it are open: a new value is
reported and ignored until the next restart (:attr:`ReloadPlan.ignored`).

:mod:`gateway.reloader` carries a plan out on a running gateway.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from .config import DeviceConfig, GatewayConfig

__all__ = ["DevicePlan", "ReloadPlan", "plan_reload"]

#: Line settings pyserial changes on an open port.
SERIAL_FIELDS = frozenset({"baudrate", "bytesize", "parity", "stopbits", "rtscts", "xonxoff"})
#: Which port to open: a change closes it and opens the new one.
PORT_FIELDS = frozenset({"port", "match", "exclusive"})
#: How bytes become readings: a new ReadingMaker, the port stays open.
PARSER_FIELDS = frozenset({"profile", "columns", "delimiter", "options", "framing", "max_line"})
#: Read by the link or the dashboard when they need it: the new value is simply used.
IN_PLACE_FIELDS = frozenset({"idle_reopen", "read_only", "fields"})
#: What a listener was built with (both the raw TCP one and the RFC 2217 one):
#: a change rebuilds it.
LISTENER_FIELDS = frozenset({"client_buffer", "tls"})
TCP_FIELDS = frozenset({"tcp"}) | LISTENER_FIELDS
RFC2217_FIELDS = frozenset({"rfc2217", "rfc2217_settings", "rfc2217_baudrates", "rfc2217_revert"}) | LISTENER_FIELDS
#: Who may connect and write: changed on the running listeners, their
#: clients stay (except those the new ``allow`` no longer admits).
RETUNE_FIELDS = frozenset({"max_clients", "allow", "tcp_mode"})
UDP_FIELDS = frozenset({"udp"})
#: Everything handled without a restart of the device; any other field
#: (Modbus, or one added later that nobody taught this module) restarts it.
KNOWN_FIELDS = SERIAL_FIELDS | PORT_FIELDS | PARSER_FIELDS | IN_PLACE_FIELDS | TCP_FIELDS | RFC2217_FIELDS \
    | RETUNE_FIELDS | UDP_FIELDS | {"name", "enabled"}

Action = Literal["add", "remove", "restart", "update"]


@dataclass(frozen=True, slots=True)
class DevicePlan:
    """What happens to one device."""

    name: str
    action: Action
    #: The configuration fields that differ (``update`` and ``restart``).
    changed: frozenset[str] = frozenset()

    @property
    def serial(self) -> bool:
        return bool(self.changed & SERIAL_FIELDS)

    @property
    def reopen(self) -> bool:
        return bool(self.changed & PORT_FIELDS)

    @property
    def parser(self) -> bool:
        return bool(self.changed & PARSER_FIELDS)

    @property
    def tcp(self) -> bool:
        return bool(self.changed & TCP_FIELDS)

    @property
    def rfc2217(self) -> bool:
        return bool(self.changed & RFC2217_FIELDS)

    @property
    def retune(self) -> bool:
        return bool(self.changed & RETUNE_FIELDS)

    def describe(self) -> str:
        """One line for the log, the status and ``gateway reload``."""
        if self.action == "add":
            return f"{self.name}: added"
        if self.action == "remove":
            return f"{self.name}: removed"
        what = ", ".join(sorted(self.changed))
        return f"{self.name}: restarted ({what})" if self.action == "restart" else f"{self.name}: {what}"


@dataclass(frozen=True, slots=True)
class ReloadPlan:
    """The difference between the running configuration and the new one."""

    #: The configuration the gateway runs once the plan is applied (the new
    #: file, with what cannot change live kept as it was).
    config: GatewayConfig
    devices: tuple[DevicePlan, ...] = ()
    unchanged: tuple[str, ...] = ()
    web: bool = False
    mqtt: bool = False
    log_level: bool = False
    #: Changes that need a restart, each a line saying so.
    ignored: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.devices or self.web or self.mqtt or self.log_level)

    def changes(self) -> list[str]:
        """Every change, one line each, in configuration order."""
        lines = [plan.describe() for plan in self.devices]
        if self.web:
            lines.append("[web]: restarted")
        if self.mqtt:
            lines.append("[mqtt]: restarted")
        if self.log_level:
            lines.append(f"log_level: {self.config.log_level}")
        return lines

    def summary(self) -> str:
        """A short line for systemd's STATUS=."""
        if self.empty:
            return "reloaded: nothing changed"
        return "reloaded: " + "; ".join(self.changes())


def _enabled(config: GatewayConfig) -> dict[str, DeviceConfig]:
    return {d.name: d for d in config.devices if d.enabled}


def _differences(old: DeviceConfig, new: DeviceConfig) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(DeviceConfig)
                     if getattr(old, f.name) != getattr(new, f.name))


def _device_plan(old: DeviceConfig, new: DeviceConfig) -> DevicePlan | None:
    changed = _differences(old, new)
    if not changed:
        return None
    modbus = "modbus" in (old.profile, new.profile)
    if modbus or not changed <= KNOWN_FIELDS:
        return DevicePlan(new.name, "restart", changed)
    return DevicePlan(new.name, "update", changed)


def plan_reload(old: GatewayConfig, new: GatewayConfig) -> ReloadPlan:
    """The plan that takes a gateway running ``old`` to ``new`` (see module doc)."""
    ignored: list[str] = []
    if new.state_dir != old.state_dir:
        ignored.append(f"state_dir: {new.state_dir} takes effect at the next restart "
                       f"(still {old.state_dir})")
        new = dataclasses.replace(new, state_dir=old.state_dir)
    before, after = _enabled(old), _enabled(new)
    plans: list[DevicePlan] = []
    unchanged: list[str] = []
    for name in before.keys() - after.keys():
        plans.append(DevicePlan(name, "remove"))
    for name, device in after.items():
        if name not in before:
            plans.append(DevicePlan(name, "add"))
            continue
        plan = _device_plan(before[name], device)
        if plan is None:
            unchanged.append(name)
        else:
            plans.append(plan)
    # Removals first (they free addresses a new device may take), then in
    # the new file's order.
    order = {name: i for i, name in enumerate(after)}
    plans.sort(key=lambda p: (p.action != "remove", order.get(p.name, -1), p.name))
    renamed = new.name != old.name
    return ReloadPlan(
        config=new, devices=tuple(plans), unchanged=tuple(unchanged),
        web=(new.web != old.web or renamed) and (new.web is not None or old.web is not None),
        mqtt=(new.mqtt != old.mqtt or renamed) and (new.mqtt is not None or old.mqtt is not None),
        log_level=new.log_level != old.log_level, ignored=tuple(ignored),
    )
