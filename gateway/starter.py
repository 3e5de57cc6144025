"""`gateway init`: a commented starter configuration written from the ports found.

Each detected port becomes a ``[[device]]`` with profile ``raw`` (bytes both
ways, like ser2net) and its own TCP port, found by its USB identity (``match``)
when it has one so it keeps working whichever socket it is plugged into, else
by a stable by-id path or its device node.  The text is checked by the same
validation as ``gateway check`` before it is written: what ``init`` writes,
``run`` starts.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Sequence

from .config import GatewayConfig, parse_config
from .ports import PortInfo
from .readings import check_profile

__all__ = ["FIRST_TCP_PORT", "starter_config", "device_name"]

FIRST_TCP_PORT = 7001
_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]+")

HEADER = """\
# circuits-gateway configuration written by `gateway init`.
# Check it with `gateway check FILE`, run it with `gateway run -c FILE`.
# Every key is described in docs/gateway.md.

[gateway]
name = "gateway"                         # dashboard title, MQTT client id and topics
state_dir = "/var/lib/circuits-gateway"  # spool, history and sequence numbers live here

# The dashboard, /ws, /api, /metrics and /healthz.  For the LAN use
# "0.0.0.0:8080" and set [web.users] (gateway hash-password) and certfile/keyfile.
[web]
listen = "127.0.0.1:8080"

# The MQTT uplink (readings wait in a spool while the broker is down).
# [mqtt]
# host = "127.0.0.1"
# port = 1883
"""

NO_PORTS = """
# No serial port was found.  Plug a device in and run `gateway init` again, or
# edit this example and set enabled = true (a configuration needs one device).
[[device]]
name = "sensor"
enabled = false
port = "/dev/ttyUSB0"                    # or match = { vid = "0403", pid = "6001" }
baudrate = 9600
profile = "raw"                          # raw | keyvalue | csv | json | nmea | modbus
tcp = "0.0.0.0:7001"                     # bytes both ways, any number of clients
"""

def device_name(port: PortInfo, taken: set[str]) -> str:
    """A config name from the port's node (``ttyUSB0`` -> ``ttyUSB0``), unique among ``taken``."""
    base = _NOT_NAME.sub("_", port.device.rsplit("/", 1)[-1]).strip("_")[:56] or "device"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def port_is_free(port: int) -> bool:
    """True when nothing on this machine listens on the TCP port (so the starter does not collide)."""
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _tcp_ports(count: int, free: Callable[[int], bool]) -> list[int]:
    ports: list[int] = []
    candidate = FIRST_TCP_PORT
    while len(ports) < count and candidate < 65536:
        if free(candidate):
            ports.append(candidate)
        candidate += 1
    return ports


def _locator(port: PortInfo) -> str:
    if port.vid and port.pid:
        match = {"vid": port.vid, "pid": port.pid} | ({"serial": port.serial} if port.serial else {})
        inner = ", ".join(f"{k} = {json.dumps(v)}" for k, v in match.items())
        return f"match = {{ {inner} }}"
    return f"port = {json.dumps(port.by_id or port.device)}"


def _device(port: PortInfo, name: str, tcp: int) -> str:
    about = port.description or "no description"
    seen = f"{port.device}" + (f", {port.by_id}" if port.by_id else "")
    return f"""
# {about} ({seen})
[[device]]
name = {json.dumps(name)}
{_locator(port)}
baudrate = 9600                          # and bytesize, parity, stopbits, rtscts, xonxoff
profile = "raw"                          # raw | keyvalue | csv | json | nmea | modbus
{f'tcp = "0.0.0.0:{tcp}"'.ljust(40)} # bytes both ways, any number of clients
"""


def starter_config(ports: Sequence[PortInfo], free: Callable[[int], bool] = port_is_free) -> str:
    """The commented configuration for these ports; raises ValueError if it would not validate."""
    taken: set[str] = set()
    text = HEADER
    if not ports:
        text += NO_PORTS
    for port, tcp in zip(ports, _tcp_ports(len(ports), free), strict=True):
        text += _device(port, device_name(port, taken), tcp)
    check(text)
    return text


def check(text: str) -> GatewayConfig:
    """Validate exactly as `gateway check` does."""
    return parse_config(text, "<gateway init>", check_profile=check_profile)
