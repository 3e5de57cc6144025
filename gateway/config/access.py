"""The access keys of a device and of ``[web]``: ``allow`` (who may connect), ``tcp_mode`` (who may write)."""

from __future__ import annotations

from typing import Any

from ..access import Network, parse_network
from .fields import Table
from .model import TCP_MODES

_LISTENER_KEYS = ("tcp", "rfc2217", "modbus_tcp")


def read_allow(t: Table) -> tuple[Network, ...] | None:
    """``allow = ["192.168.1.0/24", "::1/128"]``: None when not given (everyone may connect)."""
    items = t.string_list("allow")
    if items is None:
        return None
    if not items:
        # An empty list would lock everyone out, surely not what was meant.
        t.error("allow", "must list at least one network (leave allow out to let everyone connect)")
        return None
    networks: list[Network] = []
    for i, item in enumerate(items):
        network = parse_network(item)
        if isinstance(network, str):
            t.ctx.report(t.path + ("allow", i), t.section, t.label("allow"), f"item {i + 1}: {network}")
            return None
        networks.append(network)
    return tuple(networks)


def read_device_access(t: Table, kw: dict[str, Any]) -> None:
    """A device's ``allow`` and ``tcp_mode``: only where it has a listener to guard."""
    kw["allow"] = read_allow(t)
    if t.has("allow") and not any(t.has(key) for key in _LISTENER_KEYS):
        t.error("allow", "only valid with tcp, rfc2217 or modbus_tcp")
    kw["tcp_mode"] = t.choice("tcp_mode", TCP_MODES, "shared", fold=str.lower)
    if t.has("tcp_mode") and not t.has("tcp"):
        t.error("tcp_mode", "only valid with tcp")
