"""gateway.reload.plan_reload: what a reload does, from two validated configurations (no I/O)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import GatewayConfig, parse_config
from gateway.readings import check_profile
from gateway.reload import KNOWN_FIELDS, plan_reload

BASE = """
[gateway]
name = "gw"
state_dir = "/tmp/state"

[[device]]
name = "a"
port = "/dev/ttyUSB0"
profile = "raw"
tcp = "127.0.0.1:4001"

[[device]]
name = "b"
port = "/dev/ttyUSB1"
profile = "raw"
tcp = "127.0.0.1:4002"
"""


def config(text: str) -> GatewayConfig:
    return parse_config(text, "gw.toml", base_dir=Path("/tmp"), check_profile=check_profile)


def edit(after: str, key_line: str = 'name = "a"') -> GatewayConfig:
    """BASE with ``after`` inserted under device a."""
    return config(BASE.replace(key_line, f"{key_line}\n{after}", 1))


def test_the_same_file_changes_nothing() -> None:
    plan = plan_reload(config(BASE), config(BASE))
    assert plan.empty and plan.devices == () and plan.unchanged == ("a", "b")
    assert plan.summary() == "reloaded: nothing changed"


@pytest.mark.parametrize(("lines", "action", "changed", "parts"), [
    ("baudrate = 9600", "update", {"baudrate"}, {"serial"}),
    ('parity = "E"\nstopbits = 2', "update", {"parity", "stopbits"}, {"serial"}),
    (("/dev/ttyUSB0", "/dev/ttyUSB7"), "update", {"port"}, {"reopen"}),
    ("exclusive = false", "update", {"exclusive"}, {"reopen"}),
    ('framing = "slip"', "update", {"framing"}, {"parser"}),
    (('"raw"\ntcp', '"keyvalue"\ntcp'), "update", {"profile", "framing"}, {"parser"}),
    ('idle_reopen = "30s"', "update", {"idle_reopen"}, set()),
    ("read_only = true", "update", {"read_only"}, set()),
    ("max_clients = 2", "update", {"max_clients"}, {"retune"}),
    ('tcp_mode = "read-only"', "update", {"tcp_mode"}, {"retune"}),
    ('allow = ["10.0.0.0/8"]', "update", {"allow"}, {"retune"}),
    ("client_buffer = 4096", "update", {"client_buffer"}, {"tcp", "rfc2217"}),
    ('rfc2217 = "127.0.0.1:5001"', "update", {"rfc2217"}, {"rfc2217"}),
    ('udp = "127.0.0.1:5005"', "update", {"udp"}, set()),
], ids=lambda v: str(v) if isinstance(v, str | tuple) else None)
def test_each_change_touches_only_its_part(lines: str | tuple[str, str], action: str, changed: set[str],
                                           parts: set[str]) -> None:
    old = config(BASE)
    new = edit(lines) if isinstance(lines, str) else config(BASE.replace(*lines, 1))
    plan = plan_reload(old, new)
    assert plan.unchanged == ("b",)
    (step,) = plan.devices
    assert (step.name, step.action, set(step.changed)) == ("a", action, changed)
    for part in ("serial", "reopen", "parser", "tcp", "rfc2217", "retune"):
        assert getattr(step, part) == (part in parts), part
    assert not (plan.web or plan.mqtt)


def test_a_moved_listener_is_an_update_of_its_listener() -> None:
    plan = plan_reload(config(BASE), config(BASE.replace("4001", "4011")))
    (step,) = plan.devices
    assert step.action == "update" and step.tcp and not step.serial and not step.reopen
    assert plan.changes() == ["a: tcp"]


def test_added_removed_and_disabled_devices_removals_first() -> None:
    new = config(BASE.replace('name = "a"', 'name = "c"') + '\n[[device]]\nname = "b2"\nport = "/dev/ttyS0"\nprofile = "raw"\n')
    plan = plan_reload(config(BASE), new)
    assert [(s.name, s.action) for s in plan.devices] == [("a", "remove"), ("c", "add"), ("b2", "add")]
    disabled = edit("enabled = false")
    assert [(s.name, s.action) for s in plan_reload(config(BASE), disabled).devices] == [("a", "remove")]
    assert [(s.name, s.action) for s in plan_reload(disabled, config(BASE)).devices] == [("a", "add")]


def test_modbus_and_unknown_fields_restart_the_device() -> None:
    modbus = BASE.replace('"raw"\ntcp = "127.0.0.1:4001"', '"modbus"\nmodbus_tcp = "127.0.0.1:5020"', 1)
    plan = plan_reload(config(modbus), config(modbus.replace("5020", "5021")))
    assert [(s.name, s.action) for s in plan.devices] == [("a", "restart")]
    assert plan.summary() == "reloaded: a: restarted (modbus_tcp)"
    # Every field of DeviceConfig is either handled in place or restarts the device.
    assert "modbus" not in KNOWN_FIELDS and "modbus_tcp" not in KNOWN_FIELDS


def test_web_mqtt_log_level_and_the_gateway_name() -> None:
    web = BASE + '\n[web]\nlisten = "127.0.0.1:8080"\n\n[mqtt]\nhost = "broker"\n'
    plan = plan_reload(config(web), config(web.replace("8080", "8081")))
    assert plan.web and not plan.mqtt and plan.devices == ()
    plan = plan_reload(config(web), config(web.replace('"broker"', '"broker2"')))
    assert plan.mqtt and not plan.web
    plan = plan_reload(config(web), config(web.replace('name = "gw"', 'name = "gw2"')))
    assert plan.web and plan.mqtt  # both show the gateway's name
    plan = plan_reload(config(BASE), config(BASE.replace('name = "gw"', 'name = "gw2"')))
    assert not (plan.web or plan.mqtt)  # neither is configured
    plan = plan_reload(config(BASE), config(BASE.replace("[gateway]", '[gateway]\nlog_level = "debug"')))
    assert plan.log_level and plan.changes() == ["log_level: DEBUG"]


def test_a_new_state_dir_waits_for_a_restart() -> None:
    plan = plan_reload(config(BASE), config(BASE.replace("/tmp/state", "/tmp/other")))
    assert plan.empty and plan.config.state_dir == Path("/tmp/state")
    assert plan.ignored and "next restart" in plan.ignored[0]
