"""Live reload: SIGHUP (``systemctl reload``) re-reads the configuration file.

The order, which systemd's notify-reload protocol expects:

1. ``RELOADING=1`` with ``MONOTONIC_USEC`` (sd_notify(3));
2. the file is read and validated; if it is invalid nothing changes: every
   problem is logged as ``gateway check`` prints it (``FILE:LINE: ...``)
   and the old configuration keeps running;
3. otherwise :func:`gateway.reload.plan_reload` says what differs and
   :func:`apply_plan` does just that, device by device;
4. ``READY=1`` with ``STATUS=`` saying what changed (or why nothing did).

The outcome is also written to ``reload.json`` in the state directory
(replaced atomically), which ``gateway reload`` waits for; the gateway's
pid is in ``gateway.pid`` there, for ``gateway reload`` outside systemd.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from circuits import BaseComponent, handler

from .app import Gateway, StartError
from .config import ConfigError, DeviceConfig, GatewayConfig, WebConfig, load_config
from .readings import check_profile
from .reload import DevicePlan, ReloadPlan, plan_reload

__all__ = ["PID_FILE", "RESULT_FILE", "Reloader", "apply_plan"]

log = logging.getLogger(__name__)

PID_FILE = "gateway.pid"
RESULT_FILE = "reload.json"


class Reloader(BaseComponent):
    """Reloads ``path`` into ``gateway`` on SIGHUP (see module doc)."""

    channel = "reload"

    def __init__(self, gateway: Gateway, path: str | os.PathLike[str]) -> None:
        super().__init__(channel="reload")
        self.gateway = gateway
        self.path = os.fspath(path)
        self.reloads = 0
        self.failed = 0
        self._previous_handler: Any = None
        self._pid_file = gateway.config.state_dir / PID_FILE

    # -- lifetime ----------------------------------------------------------

    @handler("started", channel="*")
    def _on_started(self, component: Any) -> None:
        if component is not self.root:
            return
        if threading.current_thread() is threading.main_thread():
            # Python's handler only queues the work: the loop's wake-up fd
            # (set by the runner) wakes the poller at once.
            self._previous_handler = signal.signal(signal.SIGHUP, self._on_sighup)
        _write_atomically(self._pid_file, f"{os.getpid()}\n")

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is not self.root:
            return
        if self._previous_handler is not None:
            signal.signal(signal.SIGHUP, self._previous_handler)
            self._previous_handler = None
        try:
            if self._pid_file.read_text().strip() == str(os.getpid()):
                self._pid_file.unlink()
        except OSError:
            pass

    def _on_sighup(self, signo: int, frame: Any) -> None:
        # Runs between bytecodes: hand the work to the loop.
        self.loop.call_soon_threadsafe(self.reload)

    # -- the reload --------------------------------------------------------

    def reload(self) -> dict[str, Any]:
        """Re-read the file and apply it; the outcome (also in ``reload.json``)."""
        notifier = self.gateway.notifier
        notifier.notify({"RELOADING": "1",
                         "MONOTONIC_USEC": str(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)})
        self.reloads += 1
        log.info("reloading %s", self.path)
        result: dict[str, Any] = {"pid": os.getpid(), "reload": self.reloads, "file": self.path,
                                  "ok": False, "refused": False, "changes": [], "unchanged": [], "errors": [], "warnings": []}
        try:
            new = load_config(self.path, check_profile=check_profile)
        except ConfigError as exc:
            self.failed += 1
            log.error("reload of %s refused, the running configuration is unchanged: %d problem(s)",
                      self.path, len(exc.problems))
            for problem in exc.problems:
                log.error("%s", problem)
            result.update(errors=exc.problems, refused=True)
            status = f"reload refused: {len(exc.problems)} problem(s) in {self.path}; configuration unchanged"
        else:
            plan = plan_reload(self.gateway.config, new)
            errors = apply_plan(self.gateway, plan)
            for line in plan.ignored:
                log.warning("reload: %s", line)
            result.update(ok=not errors, changes=plan.changes(), unchanged=list(plan.unchanged),
                          errors=errors, warnings=list(plan.ignored))
            status = plan.summary() if not errors else f"reloaded with {len(errors)} error(s): {errors[0]}"
            if errors:
                self.failed += 1
            log.info("%s", status)
        result["status"] = status
        try:
            _write_atomically(self.gateway.config.state_dir / RESULT_FILE, json.dumps(result, indent=2) + "\n")
        except OSError as exc:
            log.warning("cannot write the reload result to %s: %s", self.gateway.config.state_dir, exc)
        notifier.notify({"READY": "1", "STATUS": f"{status} | {self.gateway.readiness.summary()}"})
        return result

    def statistics(self) -> dict[str, Any]:  # type: ignore[override]
        return {"reloads": self.reloads, "failed": self.failed}


def apply_plan(gateway: Gateway, plan: ReloadPlan) -> list[str]:
    """Carry ``plan`` out on a running ``gateway``; the errors (a listener
    that cannot bind, say), each also logged. What could not be applied
    keeps running as before where it can."""
    old, new = gateway.config, plan.config
    errors: list[str] = []
    failed: set[str] = set()
    for step in plan.devices:
        try:
            _apply_device(gateway, step, old, new)
        except StartError as exc:
            log.error("reload: %s", exc)
            errors.append(str(exc))
            failed.add(step.name)
        except Exception as exc:  # a bug must not leave systemd waiting for READY=1
            log.exception("reload: %s failed", step.describe())
            errors.append(f"{step.describe()}: failed: {exc}")
            failed.add(step.name)
    if plan.mqtt:
        log.info("[mqtt] changed: restarting the uplink (its spool is kept)")
        gateway.stop_mqtt()
        if new.mqtt is not None:
            gateway.start_mqtt(new)
    if plan.web:
        errors += _restart_web(gateway, old, new)
    targets = {d.name: d.udp for d in new.devices if d.enabled and d.udp is not None and d.name in gateway.links}
    if gateway.udp is not None:
        gateway.udp.retarget(targets)
    elif targets:
        gateway.start_udp(targets)
    if plan.log_level:
        logging.getLogger().setLevel(new.log_level.upper())
    gateway.config = _in_force(old, new, failed, gateway.web.config if gateway.web is not None else None)
    if gateway.mqtt is not None and not plan.mqtt:
        # The hints come from gateway.config, so this follows its update. (A
        # restarted uplink starts its discovery afresh from the readings.)
        changed = {step.name: discovered_fields(gateway.config, step.name)
                   for step in plan.devices if step.action != "add"}
        if gateway.mqtt.rediscover(changed):
            log.info("reload: Home Assistant discovery updated")
    return errors


def discovered_fields(config: GatewayConfig, name: str) -> frozenset[str] | None:
    """The sensor fields device ``name`` can report under ``config``: none if
    it is gone, its numeric reads' names for a Modbus device (a bool is no
    sensor), None (the readings decide) for a parsing profile."""
    device = next((d for d in config.devices if d.name == name and d.enabled), None)
    if device is None:
        return frozenset()
    if device.modbus is not None:
        return frozenset(read.name for read in device.modbus.reads if read.type != "bool")
    return None


def _in_force(old: GatewayConfig, new: GatewayConfig, failed: set[str], web: WebConfig | None) -> GatewayConfig:
    """The configuration the gateway runs now: the new one, except that what
    failed to apply keeps its old entry (a failed new device counts as not
    there), so reloading the same file again retries exactly that."""
    before = {d.name: d for d in old.devices if d.enabled}
    devices = []
    for device in new.devices:
        if device.name in failed:
            device = before.get(device.name) or dataclasses.replace(device, enabled=False)
        devices.append(device)
    kept = [before[name] for name in failed if name in before and name not in {d.name for d in devices}]
    return dataclasses.replace(new, devices=tuple(devices + kept), web=web)


def _restart_web(gateway: Gateway, old: GatewayConfig, new: GatewayConfig) -> list[str]:
    log.info("[web] changed: restarting the dashboard")
    gateway.stop_web()
    if new.web is None:
        return []
    try:
        gateway.start_web(new)
    except StartError as exc:
        log.error("reload: %s", exc)
        if old.web is not None:
            try:
                gateway.start_web(old)
                log.warning("the dashboard stays on %s", old.web.listen)
            except StartError as again:
                log.error("the dashboard is down: %s", again)
        return [str(exc)]
    return []


def _apply_device(gateway: Gateway, step: DevicePlan, old: GatewayConfig, new: GatewayConfig) -> None:
    name = step.name
    if step.action == "remove":
        log.info("%s: removed from the configuration: closing its port, listeners and clients", name)
        gateway.stop_device(name)
        return
    device = new.device(name)
    if step.action == "add":
        log.info("%s: added to the configuration", name)
        try:
            gateway.start_device(device)
        except StartError:
            gateway.stop_device(name)
            raise
        return
    if step.action == "restart":
        log.info("%s: %s: restarting the device", name, ", ".join(sorted(step.changed)))
        counters = gateway.links[name].persisted_counters()
        gateway.stop_device(name)
        try:
            gateway.start_device(device, counters)
        except StartError:
            gateway.stop_device(name)
            raise
        return
    log.info("%s: %s changed", name, ", ".join(sorted(step.changed)))
    gateway.links[name].reconfigure(device)
    remote = gateway.rfc2217.get(name)
    if remote is not None and not step.rfc2217:
        remote.control.config = device  # what a client's change is reverted to
    if step.tcp:
        _replace_listener(gateway, "tcp", old.device(name), device)
    elif step.retune and name in gateway.bridges:
        gateway.bridges[name].retune(device)
    if step.rfc2217:
        _replace_listener(gateway, "rfc2217", old.device(name), device)
    elif step.retune and remote is not None:
        remote.retune(device)


def _replace_listener(gateway: Gateway, kind: str, before: DeviceConfig, after: DeviceConfig) -> None:
    """Move or rebuild one listener. A new address is bound before the old
    listener closes, so a bind failure leaves the old one serving."""
    table: dict[str, Any] = gateway.bridges if kind == "tcp" else gateway.rfc2217
    start = gateway.start_tcp if kind == "tcp" else gateway.start_rfc2217
    current = table.pop(after.name, None)
    old_address, new_address = getattr(before, kind), getattr(after, kind)
    if current is not None and (new_address is None or new_address == old_address):
        current.stop()  # the same address: it must be free for the new listener
        current.unregister()
        current = None
    if new_address is not None:
        try:
            start(after)
        except StartError:
            if current is not None:
                table[after.name] = current
                log.warning("%s: the %s listener stays on %s", after.name, kind, old_address)
            raise
    if current is not None:
        current.stop()
        current.unregister()


def _write_atomically(path: Path, text: str) -> None:
    # Written then renamed: a reader sees the old file or the new one, never half.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
