"""``gateway demo``: the whole gateway with simulated devices, nothing to set up.

No configuration, no root, no hardware, no socat: four simulated devices
(one per parsing profile) and a Modbus RTU energy meter
(:mod:`gateway.simmodbus`, polled and served on a Modbus TCP port) run
in-process on ``os.openpty()`` pairs, and the
real gateway -- device links, hot-plug, TCP bridges, UDP, the web
dashboard -- runs on the other ends, all on one loop.  The MQTT uplink runs
only when a broker is named (``--mqtt HOST[:PORT]``).  The configuration it
uses is ordinary TOML, validated like a user's (``gateway demo
--print-config`` shows it).
"""

from __future__ import annotations

import errno
import json
import shutil
import socket
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from circuits import BaseComponent, handler
from devices import get_profile

from .app import Gateway
from .config import GatewayConfig, parse_config
from .events import BUS
from .readings import check_profile
from .simdevice import SimulatedDevice
from .simmodbus import SimulatedMeter

DEFAULT_TCP_BASE = 7001
DEFAULT_UDP_PORT = 7100
DEFAULT_WEB_PORT = 8080


@dataclass(frozen=True)
class DemoDevice:
    name: str
    profile: str
    options: dict[str, Any] = field(default_factory=dict)
    columns: tuple[str, ...] = ()


DEVICES: tuple[DemoDevice, ...] = (
    DemoDevice("env", "keyvalue"),
    DemoDevice("logger", "csv", columns=("voltage", "current", "temp")),
    DemoDevice("gps", "nmea"),
    DemoDevice("plug", "json"),
)


#: Ports free_port() handed out: several are picked before any is bound, and
#: the kernel may offer a port again once its probe socket is closed.
_handed_out: set[tuple[int, int]] = set()


def free_port(preferred: int, host: str = "127.0.0.1", kind: int = socket.SOCK_STREAM) -> int:
    """``preferred`` if it can be bound now, else a free port the kernel picks
    (never one this process was given before)."""
    candidates = [preferred] if preferred else []
    candidates += [0] * 16
    for port in candidates:
        with socket.socket(socket.AF_INET, kind) as probe:
            if kind == socket.SOCK_STREAM:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                continue
            found = int(probe.getsockname()[1])
            if port == 0 and (kind, found) in _handed_out:
                continue
            _handed_out.add((kind, found))
            return found
    raise OSError(errno.EADDRINUSE, "no free port")


def render_config(paths: Sequence[str], state_dir: str, tcp_ports: Sequence[int], udp_port: int,
                  host: str = "127.0.0.1", *, web: str | None = None, mqtt: str | None = None,
                  meter: tuple[str, int] | None = None) -> str:
    """The demo's configuration as TOML, one [[device]] per simulated device.

    ``web`` is the dashboard's "host:port" (None: no dashboard); ``mqtt``
    a broker's "host[:port]" (None: no uplink).
    """
    lines = ['[gateway]', 'name = "demo"', f"state_dir = {json.dumps(state_dir)}", ""]
    if web is not None:
        lines += ["[web]", f"listen = {json.dumps(web)}", ""]
    if mqtt is not None:
        broker, _, port = mqtt.rpartition(":") if mqtt.count(":") == 1 else (mqtt, "", "")
        lines += ["[mqtt]", f"host = {json.dumps(broker)}"]
        if port:
            lines.append(f"port = {int(port)}")
        lines += ['topic_prefix = "gateway/demo"', 'client_id = "gateway-demo"', ""]
    for demo, path, port in zip(DEVICES, paths, tcp_ports, strict=True):
        lines += [
            "[[device]]",
            f'name = "{demo.name}"',
            f"port = {json.dumps(path)}",
            f"baudrate = {get_profile(demo.profile).baudrate}",
            f'profile = "{demo.profile}"',
        ]
        if demo.columns:
            lines.append(f"columns = {json.dumps(list(demo.columns))}")
        lines += [f'tcp = "{host}:{port}"', f'udp = "{host}:{udp_port}"', ""]
    if meter is not None:
        lines += _meter_config(*meter, host, udp_port)
    return "\n".join(lines)


def _meter_config(path: str, modbus_port: int, host: str, udp_port: int) -> list[str]:
    """The simulated energy meter: a Modbus bus, polled, and served as Modbus TCP."""
    lines = ["[[device]]", 'name = "meter"', f"port = {json.dumps(path)}", "baudrate = 9600", 'parity = "E"',
             'profile = "modbus"', f'modbus_tcp = "{host}:{modbus_port}"', f'udp = "{host}:{udp_port}"', "",
             "[device.modbus]", "timeout = 0.5", "poll = 1", ""]
    for name, address, kind, scale in (("voltage", 0, "float32", None), ("current", 2, "float32", None),
                                       ("power", 4, "float32", None), ("energy_kwh", 6, "uint32", 0.001)):
        lines += ["[[device.modbus.read]]", "unit = 1", f'name = "{name}"', 'table = "input"',
                  f"address = {address}", f'type = "{kind}"']
        lines += [f"scale = {scale}"] if scale is not None else []
        lines.append("")
    return lines


class DemoAnnouncer(BaseComponent):
    """Prints what the demo serves once the gateway is ready."""

    channel = BUS

    def __init__(self, gateway: Gateway, udp: str, out: TextIO) -> None:
        super().__init__(channel=BUS)
        self.gateway = gateway
        self.udp = udp
        self.out = out

    @handler("gateway_ready")
    def _on_ready(self, summary: str) -> None:
        print(f"gateway demo ready: {summary}", file=self.out)
        if self.gateway.web is not None:
            print(f"  {self.gateway.web.url}  the live dashboard (open it in a browser)", file=self.out)
        for name, bridge in self.gateway.bridges.items():
            host, port = bridge.address
            link = self.gateway.links[name]
            print(f"  tcp://{host}:{port}  {name} ({link.config.profile}) on {link.path}", file=self.out)
        for name, part in self.gateway.modbus.items():
            if part.tcp is not None:
                host, port = part.tcp.address
                print(f"  modbus-tcp://{host}:{port}  {name} (Modbus RTU energy meter, unit 1) on "
                      f"{self.gateway.links[name].path}", file=self.out)
        print(f"  udp://{self.udp}  every reading as one JSON datagram", file=self.out)
        if self.gateway.mqtt is not None:
            mqtt = self.gateway.config.mqtt
            assert mqtt is not None
            print(f"  mqtt://{mqtt.host}:{mqtt.port}  readings on {mqtt.topic_prefix}/<device>/reading",
                  file=self.out)
        print("try: nc 127.0.0.1 <port>  or  socat - tcp:127.0.0.1:<port>   (Ctrl-C stops the demo)",
              file=self.out)
        self.out.flush()


class Demo:
    """Builds the demo gateway; ``run()`` runs it until SIGINT/SIGTERM."""

    def __init__(self, *, tcp_base: int = DEFAULT_TCP_BASE, udp_port: int = DEFAULT_UDP_PORT,
                 interval: float | None = None, noise: float = 0.0, out: TextIO = sys.stdout,
                 hotplug: bool = True, web_port: int | None = DEFAULT_WEB_PORT, web_host: str = "127.0.0.1",
                 mqtt: str | None = None) -> None:
        self.state_dir = tempfile.mkdtemp(prefix="gateway-demo-")
        self.sims = [SimulatedDevice(d.name, get_profile(d.profile), {"columns": d.columns} if d.columns else None,
                                     interval=interval, seed=i, noise=noise)
                     for i, d in enumerate(DEVICES)]
        ports = [free_port(tcp_base + i) if tcp_base else free_port(0) for i in range(len(DEVICES))]
        self.meter = SimulatedMeter("meter", interval=interval or 1.0, seed=len(DEVICES))
        modbus_port = free_port(tcp_base + len(DEVICES)) if tcp_base else free_port(0)
        udp = free_port(udp_port, kind=socket.SOCK_DGRAM)
        # None: no dashboard; 0: any free port; else that one, or a free one if busy.
        web = None if web_port is None else f"{web_host}:{free_port(web_port, web_host)}"
        self.text = render_config([s.path for s in self.sims], self.state_dir, ports, udp, web=web, mqtt=mqtt,
                                  meter=(self.meter.path, modbus_port))
        self.config: GatewayConfig = parse_config(self.text, "<demo>", check_profile=check_profile)
        try:
            self.gateway = Gateway(self.config, hotplug=hotplug)
        except BaseException:
            self.close()
            raise
        for sim in self.sims:
            sim.register(self.gateway)
        self.meter.register(self.gateway)
        DemoAnnouncer(self.gateway, f"127.0.0.1:{udp}", out).register(self.gateway)

    def run(self) -> int:
        try:
            self.gateway.run()
        finally:
            self.close()
        return 0

    def close(self) -> None:
        gateway = getattr(self, "gateway", None)
        if gateway is not None:
            gateway.close()
        for sim in self.sims:
            sim.close()
        meter = getattr(self, "meter", None)
        if meter is not None:
            meter.close()
        shutil.rmtree(self.state_dir, ignore_errors=True)
