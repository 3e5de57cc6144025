"""Where serial ports are: list them, and find the one a device is configured for.

Two sources give the same :class:`PortInfo` records:

* pyudev, when udevd runs (``/run/udev/control`` exists): the udev database
  knows USB ids, serial numbers and the ``/dev/serial/by-id`` links it made.
* sysfs otherwise (containers, minimal images): ``/sys/class/tty`` plus a
  walk up to the USB device for its ids; by-id links are read from ``/dev``.

A device is configured by ``port`` (a path, or a glob expanded here) or by
``match = {vid, pid, serial}`` (resolved against the list).  Nothing here
opens a port; :mod:`gateway.device` does.
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .config import DeviceConfig, MatchConfig

log = logging.getLogger(__name__)

UDEV_CONTROL = Path("/run/udev/control")
SYS_TTY = Path("/sys/class/tty")
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class PortInfo:
    """One serial port; USB fields are None for on-board UARTs."""

    device: str  # /dev/ttyUSB0
    vid: str | None = None  # lowercase hex, as udev and the config use
    pid: str | None = None
    serial: str | None = None
    description: str | None = None  # manufacturer and product, when known
    links: tuple[str, ...] = ()  # /dev/serial/by-id/... and other stable names

    @property
    def by_id(self) -> str | None:
        return next((link for link in self.links if "/serial/by-id/" in link), None)

    def matches(self, match: MatchConfig) -> bool:
        return (self.vid == match.vid and self.pid == match.pid
                and (match.serial is None or self.serial == match.serial))


def udev_running() -> bool:
    """True when udevd runs: its control socket exists (what libudev checks)."""
    return UDEV_CONTROL.exists()


def list_ports(use_udev: bool | None = None) -> list[PortInfo]:
    """Every serial port with hardware behind it, sorted by device node."""
    if use_udev is None:
        use_udev = udev_running()
    ports = _from_udev() if use_udev else _from_sysfs()
    return sorted(ports, key=lambda p: p.device)


# -- udev --------------------------------------------------------------------


def _from_udev() -> list[PortInfo]:
    # Only when udevd runs (see list_ports): pyudev is 18 modules and loads
    # libudev; a gateway whose ports are plain paths never calls this.
    import pyudev

    ports = []
    for dev in pyudev.Context().list_devices(subsystem="tty"):
        node = dev.device_node
        # Virtual terminals and ptys have no parent device.
        if node is None or dev.parent is None or not _has_hardware(Path(dev.sys_path)):
            continue
        props = dev.properties
        vendor = props.get("ID_VENDOR_FROM_DATABASE") or props.get("ID_VENDOR")
        model = props.get("ID_MODEL_FROM_DATABASE") or props.get("ID_MODEL")
        ports.append(PortInfo(
            device=node,
            vid=_lower(props.get("ID_VENDOR_ID")),
            pid=_lower(props.get("ID_MODEL_ID")),
            serial=props.get("ID_SERIAL_SHORT"),
            description=" ".join(x.replace("_", " ") for x in (vendor, model) if x) or None,
            links=tuple(sorted(dev.device_links)),
        ))
    return ports


# -- sysfs -------------------------------------------------------------------


def _from_sysfs(sys_tty: Path = SYS_TTY, dev_dir: Path = Path("/dev")) -> list[PortInfo]:
    links = _stable_links(dev_dir)
    ports = []
    try:
        entries = sorted(sys_tty.iterdir())
    except OSError:
        return []
    for entry in entries:
        if not (entry / "device").exists() or not _has_hardware(entry):
            continue
        node = str(dev_dir / entry.name)
        usb = _usb_parent((entry / "device").resolve())
        info = PortInfo(device=node, links=tuple(sorted(links.get(node, ()))))
        if usb is not None:
            info = PortInfo(
                device=node,
                vid=_lower(_read(usb / "idVendor")),
                pid=_lower(_read(usb / "idProduct")),
                serial=_read(usb / "serial"),
                description=" ".join(x for x in (_read(usb / "manufacturer"), _read(usb / "product")) if x) or None,
                links=info.links,
            )
        ports.append(info)
    return ports


def _has_hardware(sys_entry: Path) -> bool:
    # 8250 drivers register ttyS0-31 whether or not a UART exists; their
    # "type" is 0 (PORT_UNKNOWN) when there is none, as setserial shows.
    port_type = _read(sys_entry / "type")
    return port_type is None or port_type != "0"


def _usb_parent(path: Path) -> Path | None:
    """The USB device directory above a tty's device (where idVendor lives)."""
    for parent in (path, *path.parents):
        if (parent / "idVendor").is_file():
            return parent
        if parent == Path("/sys/devices"):
            break
    return None


def _stable_links(dev_dir: Path) -> dict[str, list[str]]:
    """Device node -> the /dev/serial/by-* symlinks pointing at it."""
    found: dict[str, list[str]] = {}
    for folder in (dev_dir / "serial" / "by-id", dev_dir / "serial" / "by-path"):
        try:
            names = sorted(folder.iterdir())
        except OSError:
            continue
        for link in names:
            target = os.path.realpath(link)
            found.setdefault(target, []).append(str(link))
    return found


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace").strip() or None
    except OSError:
        return None


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


# -- resolving a configured device ------------------------------------------


def is_glob(pattern: str) -> bool:
    return bool(_GLOB_CHARS & set(pattern))


def resolve(device: DeviceConfig, ports: Iterable[PortInfo] | None = None) -> str | None:
    """The path to open for ``device`` now, or None when it is not there.

    A glob that matches several paths takes the first in sorted order (and
    says so once per call); a match table likewise.  ``ports`` defaults to
    :func:`list_ports` and is only consulted for match tables.
    """
    if device.port is not None:
        if not is_glob(device.port):
            return device.port if os.path.exists(device.port) else None
        found = sorted(glob.glob(device.port))
        if len(found) > 1:
            log.warning("%s: %s matches %d ports, using %s", device.name, device.port, len(found), found[0])
        return found[0] if found else None
    assert device.match is not None
    candidates = [p for p in (list_ports() if ports is None else ports) if p.matches(device.match)]
    if len(candidates) > 1:
        log.warning("%s: %d ports match %s:%s, using %s; add serial = to choose", device.name,
                    len(candidates), device.match.vid, device.match.pid, candidates[0].device)
    return candidates[0].device if candidates else None


def watch_directory(device: DeviceConfig) -> str:
    """The directory where ``device``'s port appears when it is plugged in.

    For a path or glob that is its (non-glob) parent directory -- which also
    covers socat ``link=`` names and /dev/serial/by-id links.  A match table
    is resolved to a node in /dev, where the kernel creates ttyUSB/ttyACM.
    """
    if device.port is None or "://" in device.port:
        return "/dev"
    parts = Path(device.port).parts
    fixed = []
    for part in parts[:-1]:
        if is_glob(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "/"


def describe(port: PortInfo) -> str:
    """One line for ``gateway ports``."""
    ids = f"{port.vid}:{port.pid}" if port.vid and port.pid else "-"
    parts = [port.device, ids, f"serial={port.serial or '-'}"]
    if port.by_id:
        parts.append(port.by_id)
    elif port.links:
        parts.append(port.links[0])
    if port.description:
        parts.append(f"({port.description})")
    return "  ".join(parts)
