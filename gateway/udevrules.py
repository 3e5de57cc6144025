"""udev rules that give each configured USB serial device a stable name.

ttyUSB numbers follow plug-in order, so a device configured by USB identity
(``match = { vid, pid, serial }``) gets a rule that adds the symlink
``/dev/gateway/<device name>``, hands the node to the dialout group and tags it
for systemd (which then creates a ``dev-gateway-<name>.device`` unit a service
can depend on).  Devices configured by ``port`` need no rule.

Install the output as ``/etc/udev/rules.d/99-circuits-gateway-devices.rules``
and run ``udevadm control --reload && udevadm trigger -s tty``.
"""

from __future__ import annotations

from .config import DeviceConfig, GatewayConfig

__all__ = ["rule_for", "rules_for"]

# Characters udev cannot escape inside a "..." value.
_UNSAFE = frozenset('"\\\n\r')


def rule_for(device: DeviceConfig) -> str:
    """The one-line rule for ``device``; it must be configured with ``match``."""
    match = device.match
    if match is None:
        raise ValueError(f"device {device.name!r} has no match table")
    for value in (device.name, match.vid, match.pid, match.serial or ""):
        # The config validator refuses these already; a rule with a stray
        # quote would silently break every rule after it in the file.
        if _UNSAFE & set(value):
            raise ValueError(f"device {device.name!r}: {value!r} cannot be written into a udev rule")
    keys = [
        'SUBSYSTEM=="tty"',
        # ATTRS{} walks up to the USB device, where the ids live.
        f'ATTRS{{idVendor}}=="{match.vid}"',
        f'ATTRS{{idProduct}}=="{match.pid}"',
    ]
    if match.serial is not None:
        keys.append(f'ATTRS{{serial}}=="{match.serial}"')
    keys += [
        f'SYMLINK+="gateway/{device.name}"',
        'TAG+="systemd"',
        'GROUP="dialout"',
        'MODE="0660"',
    ]
    return ", ".join(keys)


def rules_for(config: GatewayConfig, source: str | None = None) -> str:
    """A complete rules file for every device of ``config`` that uses match.

    ``source`` (the configuration file name) is only quoted in the header.
    """
    origin = f" from {source}" if source else ""
    lines = [
        f"# udev rules for circuits-gateway {config.name!r}, generated{origin}.",
        "# Do not edit: regenerate after changing [[device]] match tables.",
        "# Install as /etc/udev/rules.d/99-circuits-gateway-devices.rules, then run",
        "#   udevadm control --reload && udevadm trigger -s tty",
        "",
    ]
    matched = [d for d in config.devices if d.match is not None]
    if not matched:
        lines.append("# (no device uses match; nothing to do)")
    for device in matched:
        assert device.match is not None
        serial = f" serial {device.match.serial}" if device.match.serial else " (any serial)"
        state = "" if device.enabled else " (disabled in the configuration)"
        lines.append(f"# {device.name}: USB {device.match.vid}:{device.match.pid}{serial}{state}")
        lines.append(rule_for(device))
    return "\n".join(lines) + "\n"
