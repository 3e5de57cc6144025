"""The ``rfc2217*`` keys of a ``[[device]]``: a remote COM port listener.

::

    rfc2217 = "0.0.0.0:7101"        # the listener (next to or instead of tcp)
    rfc2217_settings = "limits"     # "allow" (default), "lock" or "limits"
    rfc2217_baudrates = [9600, 115200]   # with "limits": the rates clients may set
    rfc2217_revert = true           # configured settings back when the last client leaves
"""

from __future__ import annotations

from typing import Any

from .fields import Table
from .model import RFC2217_POLICIES, DeviceConfig

__all__ = ["RFC2217_KEYS", "describe_rfc2217", "read_rfc2217"]

#: Keys that mean nothing without ``rfc2217``.
RFC2217_KEYS = ("rfc2217_settings", "rfc2217_baudrates", "rfc2217_revert")


def read_rfc2217(t: Table, kw: dict[str, Any], max_baudrate: int) -> None:
    """Read the RFC 2217 keys of device table ``t`` into ``kw``."""
    kw["rfc2217"] = t.address("rfc2217")
    policy = kw["rfc2217_settings"] = t.choice("rfc2217_settings", RFC2217_POLICIES, "allow", fold=str.lower)
    rates = _baudrates(t, max_baudrate)
    kw["rfc2217_baudrates"] = rates
    kw["rfc2217_revert"] = t.boolean("rfc2217_revert", True)
    if not t.has("rfc2217"):
        for key in RFC2217_KEYS:
            if t.has(key):
                t.error(key, "only valid with rfc2217")
        return
    if kw.get("profile") == "modbus":
        # Like tcp: a remote program's bytes would collide with the master's frames.
        t.error("rfc2217", 'not valid with profile = "modbus": the gateway is the bus master; '
                "give modbus_tcp for Modbus TCP clients")
    if policy == "limits" and not t.has("rfc2217_baudrates"):
        t.error("rfc2217_settings", '"limits" needs rfc2217_baudrates = [...], the rates clients may set')
    elif t.has("rfc2217_baudrates") and policy not in ("limits", None):
        t.error("rfc2217_baudrates", 'only valid with rfc2217_settings = "limits"')


def _baudrates(t: Table, max_baudrate: int) -> tuple[int, ...] | None:
    value = t.raw("rfc2217_baudrates")
    if value is None:
        return ()
    if not isinstance(value, list):
        t.error("rfc2217_baudrates", f"must be an array of baud rates, got {t.show_type(value)}")
        return None
    if not value:
        t.error("rfc2217_baudrates", "must list at least one baud rate")
        return None
    for i, item in enumerate(value):
        if type(item) is not int or not 1 <= item <= max_baudrate:
            t.ctx.report(t.path + ("rfc2217_baudrates", i), t.section, t.label("rfc2217_baudrates"),
                         f"item {i + 1} must be a baud rate from 1 to {max_baudrate}, got {t.show_type(item)}")
            return None
    return tuple(sorted(set(value)))


def describe_rfc2217(device: DeviceConfig) -> str:
    """One line for ``gateway check``: the listener and its policy."""
    policy = device.rfc2217_settings
    if policy == "limits":
        policy += " " + ", ".join(map(str, device.rfc2217_baudrates))
    revert = ", reverted when the last client leaves" if device.rfc2217_revert else ""
    return f"rfc2217://{device.rfc2217} (settings: {policy}{revert})"
