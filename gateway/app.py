"""The gateway: every part a component under one root, on one poller.

::

    Gateway (channel "gateway": the public bus, see gateway.events)
    +- Readiness             which parts are up; gateway_ready
    +- Hotplug               udev monitor + inotify -> ports_changed
    |  +- Notify
    +- DeviceLink x N        open/reopen one port, readings    ("device.<name>")
    |  +- Serial
    +- TcpBridge x N         clients <-> device                ("device.<name>")
    |  +- BridgeServer                                         ("tcp.<name>")
    +- ModbusDevice x N      profile "modbus": RTU master, Modbus TCP (gateway.modbus)
    +- Rfc2217Bridge x N     remote COM port clients <-> device ("device.<name>")
    |  +- Rfc2217Server                                        ("rfc2217.<name>")
    +- UdpPublisher          readings as JSON datagrams        ("udp")
    +- MqttUplink            [mqtt]: readings via the spool; {prefix}/{device}/write -> device_write
    +- WebDashboard          [web]: /, /ws, /api, /metrics, /healthz  ("web")
    +- SystemdService        READY / WATCHDOG / STATUS / STOPPING

The uplink and the dashboard handle ``reading`` and ``device_status`` on
the bus like anyone else. READY=1 waits for the web server too
(``expect("web")``, then its ``part_ready``), never for the broker: a
broker that is down is what the spool is for.

The optional parts (Modbus, RFC 2217, [mqtt], [web]) are imported by
gateway.features when the configuration first uses them: a gateway that
only bridges serial ports never loads circuits.web or an MQTT client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from circuits import BaseComponent, handler

from . import features
from .backoff import Backoff
from .bridge import TcpBridge
from .config import Address, DeviceConfig, GatewayConfig
from .device import DeviceLink
from .diskwriter import DiskWriter
from .events import BUS
from .hotplug import Hotplug
from .memory import release_free_memory
from .readiness import Readiness
from .sdnotify import SystemdNotifier
from .seqstore import SeqStore, SeqStoreError
from .service import SystemdService
from .status import DeviceStatuses
from .udp import UdpPublisher

if TYPE_CHECKING:
    # Types only: the parts themselves are imported by gateway.features when
    # the configuration uses them, so a gateway without [web] never loads
    # circuits.web, one without [mqtt] no MQTT client.
    from .modbus import ModbusDevice
    from .mqtt import MqttUplink
    from .rfc2217.bridge import Rfc2217Bridge
    from .web import WebDashboard

log = logging.getLogger(__name__)


#: MQTT publishes in flight at once. Larger than the uplink's own default:
#: in the gateway one loop pass also parses and feeds the dashboard, so
#: passes are longer and more must be in flight per pass to keep the broker
#: link busy. During a burst the PUBACKs of a window came back about once
#: per spool commit, so at 400 the broker got ~400 readings per commit while
#: thousands were accepted (bench/gateway_pipeline.py); 2,000 keeps up. A
#: reconnect resends at most this many (QoS 1 duplicates, told apart by seq).
MQTT_WINDOW = 2000


class StartError(Exception):
    """The gateway cannot start (a listener cannot bind, no state directory)."""

    #: EX_UNAVAILABLE from sysexits.h: systemd's Restart=on-failure retries.
    exit_code = 69


class Gateway(BaseComponent):
    """Builds and owns every part described by a :class:`GatewayConfig`."""

    channel = BUS

    def __init__(self, config: GatewayConfig, *, notifier: SystemdNotifier | None = None,
                 seqstore: SeqStore | None = None, hotplug: bool = True,
                 use_udev: bool | None = None, backoff: Callable[[], Backoff] = Backoff,
                 ws_send_buffer: int | None = None) -> None:
        super().__init__(channel=BUS)
        self.config = config
        #: Unsent bytes after which a dashboard WebSocket client is dropped
        #: (None: the dashboard's own default, gateway.web.dashboard.DEFAULT_SEND_BUFFER).
        self.ws_send_buffer = ws_send_buffer
        self.mqtt: MqttUplink | None = None
        self.web: WebDashboard | None = None
        #: Makes each device's reopen schedule (tests shorten or stretch it).
        self.backoff = backoff
        #: The thread that commits the SQLite files, so the loop never waits on the disk.
        self.writer = DiskWriter()
        #: The sequence store's own: a reservation queued behind the spool's
        #: batches (an fsync each, 10-100 ms on an SD card) could let a busy
        #: device use up its half block and stall in next().
        self.seq_writer = DiskWriter("gateway-seq")
        try:
            # Made here, before any store: SeqStore, the spool and the history
            # each take an existing directory to mean "put my file in it", and
            # a missing one would be taken for a file name.
            config.state_dir.mkdir(parents=True, exist_ok=True)
            self.seqs = seqstore if seqstore is not None else SeqStore(config.state_dir)
            self.seqs.use_writer(self.seq_writer, lambda: self.loop)
        except (OSError, SeqStoreError) as exc:
            raise StartError(f"cannot open the sequence store in {config.state_dir}: {exc}") from exc
        try:
            self._build(notifier, hotplug, use_udev)
        except BaseException:
            self.close()
            raise

    def _build(self, notifier: SystemdNotifier | None, hotplug: bool, use_udev: bool | None) -> None:
        #: Every device's state, kept once: the links write it, everyone reads it.
        self.statuses = DeviceStatuses()
        self.readiness = Readiness(self.statuses).register(self)
        self.hotplug = Hotplug(use_udev).register(self) if hotplug else None
        self.links: dict[str, DeviceLink] = {}
        self.seqs.count_with(lambda: {name: link.persisted_counters() for name, link in self.links.items()})
        self.bridges: dict[str, TcpBridge] = {}
        self.modbus: dict[str, ModbusDevice] = {}
        self.rfc2217: dict[str, Rfc2217Bridge] = {}
        for device in self.config.devices:
            if not device.enabled:
                log.info("%s: disabled in the configuration", device.name)
                continue
            self.start_device(device)
        targets = {d.name: d.udp for d in self.config.devices if d.enabled and d.udp is not None}
        self.udp: UdpPublisher | None = None
        if targets:
            self.start_udp(targets)
        if self.config.mqtt is not None:
            self.start_mqtt(self.config)
        if self.config.web is not None:
            self.start_web(self.config)
        self.notifier = notifier if notifier is not None else SystemdNotifier(unset_environment=True)
        self.service = SystemdService(self.notifier, self.readiness).register(self)

    # -- one device's parts (also used by gateway.reloader) --------------------

    def start_device(self, device: DeviceConfig, counters: dict[str, int] | None = None) -> DeviceLink:
        """Build and register the link and listeners of one enabled device.

        ``counters`` continue a link's :meth:`DeviceLink.persisted_counters`
        (a reload restarting the device); by default the saved ones. A
        running gateway (a reload) also opens the port at once; at start-up
        the ``started`` event does that."""
        link = self.links[device.name] = DeviceLink(device, self.seqs.next, backoff=self.backoff(),
                                                   statuses=self.statuses,
                                                   traffic=self.web is not None).register(self)
        # Counters survive restarts of the gateway and of the device.
        link.restore_counters(counters if counters is not None else self.seqs.saved_counters(device.name))
        self._expect(f"device:{device.name}")
        if self.hotplug is not None:
            self.hotplug.watch(link.watch_dir)
        if device.tcp is not None:
            self.start_tcp(device)
        if device.modbus is not None:
            modbus_device, tcp_part = features.modbus_device()
            try:
                self.modbus[device.name] = modbus_device(device, link, self.seqs.next).register(self)
            except OSError as exc:
                raise StartError(f"{device.name}: cannot listen on modbus_tcp {device.modbus_tcp}: "
                                 f"{exc.strerror or exc}") from exc
            if device.modbus_tcp is not None:
                self._expect(tcp_part(device.name))
        if device.rfc2217 is not None:
            self.start_rfc2217(device)
        if self.running:
            link.attempt()
        return link

    # -- [mqtt] and [web] (also restarted on their own by gateway.reloader) -----

    def start_mqtt(self, config: GatewayConfig) -> None:
        assert config.mqtt is not None
        # On the bus: it hears ``reading``/``device_status`` and fires
        # ``device_write`` there (handled below).
        mqtt_uplink = features.mqtt_uplink()
        self.mqtt = mqtt_uplink(config.mqtt, config.name, config.state_dir, channel=BUS, window=MQTT_WINDOW,
                                writer=self.writer, statuses=self.statuses,
                                hints=self.discovery_hints).register(self)
        if self.running:
            self.mqtt.client.start()  # at start-up the ``started`` event does it

    def discovery_hints(self, device: str, field: str) -> dict[str, str]:
        """Home Assistant keys of one field from the (current) configuration."""
        found = next((d for d in self.config.devices if d.name == device), None)
        if found is None:
            return {}
        hints: dict[str, str] = {}
        shown = found.presentation(field)
        if shown is not None and shown.unit:
            hints["unit_of_measurement"] = shown.unit
        if found.modbus is not None:
            read = next((r for r in found.modbus.reads if r.name == field), None)
            if read is not None and read.device_class:
                hints["device_class"] = read.device_class
            if read is not None and read.state_class:
                hints["state_class"] = read.state_class
        return hints

    def stop_mqtt(self) -> None:
        """Say "offline", commit and close the spool (its rows stay for the next uplink), disconnect."""
        uplink, self.mqtt = self.mqtt, None
        if uplink is not None:
            uplink.close()
            uplink.client.disconnect()
            uplink.unregister()

    def start_web(self, config: GatewayConfig) -> None:
        assert config.web is not None
        web_dashboard, part = features.web_dashboard()
        options = {} if self.ws_send_buffer is None else {"max_send_buffer": self.ws_send_buffer}
        try:
            self.web = web_dashboard(config.web, self, config.name, config.state_dir, writer=self.writer,
                                     **options).register(self)
        except OSError as exc:
            raise StartError(f"cannot serve the dashboard on {config.web.scheme}://"
                             f"{config.web.listen}: {exc.strerror or exc}") from exc
        for link in self.links.values():  # the hex view has something to show from now on
            link.keep_traffic()
        self._expect(part)

    def stop_web(self) -> None:
        """Close the dashboard's listener and connections and write its history."""
        web, self.web = self.web, None
        if web is not None:
            web.stop()
            web.unregister()

    def start_udp(self, targets: dict[str, Address]) -> None:
        self.udp = UdpPublisher(targets).register(self)

    def start_tcp(self, device: DeviceConfig) -> None:
        try:
            bridge = TcpBridge(device, self.links[device.name])
        except OSError as exc:
            raise StartError(f"{device.name}: cannot listen on tcp://{device.tcp}: "
                             f"{exc.strerror or exc}") from exc
        self.bridges[device.name] = bridge.register(self)
        self._expect(f"tcp:{device.name}")

    def start_rfc2217(self, device: DeviceConfig) -> None:
        rfc2217_bridge, rfc2217_part = features.rfc2217_bridge()
        try:
            remote = rfc2217_bridge(device, self.links[device.name])
        except OSError as exc:
            raise StartError(f"{device.name}: cannot listen on rfc2217://{device.rfc2217}: "
                             f"{exc.strerror or exc}") from exc
        self.rfc2217[device.name] = remote.register(self)
        self._expect(rfc2217_part(device.name))

    def stop_tcp(self, name: str) -> None:
        bridge = self.bridges.pop(name, None)
        if bridge is not None:
            bridge.stop()
            bridge.unregister()

    def stop_rfc2217(self, name: str) -> None:
        remote = self.rfc2217.pop(name, None)
        if remote is not None:
            remote.stop()
            remote.unregister()

    def stop_device(self, name: str) -> None:
        """Close a device's listeners, their clients and its port, and forget it."""
        self.stop_tcp(name)
        self.stop_rfc2217(name)
        part = self.modbus.pop(name, None)
        if part is not None:
            part.stop()
            part.unregister()
        link = self.links.pop(name, None)
        if link is not None:
            link.stop()
            link.unregister()
        self.statuses.forget(name)

    def _expect(self, part: str) -> None:
        # A part started by a reload is not waited for: READY=1 was sent long ago.
        if not self.readiness.ready:
            self.readiness.expect(part)

    @handler("gateway_ready", channel=BUS, priority=1.0)
    def _on_ready(self, summary: str) -> None:
        # Before SystemdService sends READY=1 (priority 0): start-up is over,
        # what it freed goes back to the kernel (gateway.memory).
        release_free_memory()

    @handler("device_write")
    def _on_device_write(self, device: str, data: bytes) -> None:
        """A payload published to ``{prefix}/{device}/write``: to the device."""
        link = self.links.get(device)
        if link is None:
            log.warning("MQTT write for %r ignored: no such device (or it is disabled)", device)
        elif device in self.modbus:
            # Raw bytes would collide with the master's frames on the bus.
            log.warning("%s: MQTT write of raw bytes ignored: a Modbus bus takes JSON on .../modbus/write",
                        device)
        elif not link.send(bytes(data)):
            log.warning("%s: MQTT write of %d bytes dropped: the device is offline", device, len(data))

    def close(self) -> None:
        """Release what outlives the loop: the sequence store (exact last
        numbers, so a restart continues without a gap), the spool and the
        readings history (their last batch)."""
        if self.mqtt is not None:
            self.mqtt.close()
        if self.web is not None:
            self.web.close()
        self.seqs.close()
        self.seq_writer.close()
        self.writer.close()

    def statistics(self) -> dict[str, Any]:
        return {
            "loop": super().statistics(),
            "ready": self.readiness.ready,
            "devices": {name: link.statistics() for name, link in self.links.items()},
            "tcp": {name: bridge.statistics() for name, bridge in self.bridges.items()},
            "modbus": {name: part.statistics() for name, part in self.modbus.items()},
            "rfc2217": {name: bridge.statistics() for name, bridge in self.rfc2217.items()},
            "udp": self.udp.statistics() if self.udp is not None else None,
            "hotplug": self.hotplug.statistics() if self.hotplug is not None else None,
            "mqtt": self.mqtt.statistics() if self.mqtt is not None else None,
            "web": self.web.statistics() if self.web is not None else None,
            "systemd": self.notifier.statistics(),
            "disk": self.writer.statistics(),
            "seq": {**self.seqs.statistics(), "writer": self.seq_writer.statistics()},
        }
