"""``gateway install --print``: the commands that set a Raspberry Pi up
from the files shipped in the wheel (``gateway/share``).

It prints rather than runs them: installing a service, a user and udev
rules is root's decision, and a printed list can be read, pasted or put in
a provisioning script.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

UNIT = "circuits-gateway.service"
RULES = "99-circuits-gateway.rules"
EXAMPLE = "gateway.toml"
USER = "circuits-gateway"
CONFIG_DIR = Path("/etc/circuits-gateway")
#: The first systemd with Type=notify-reload.
NOTIFY_RELOAD_SYSTEMD = 253


def share_path(name: str) -> Path:
    """Where a shipped file is (inside the installed package)."""
    # Here, not at the top: every ``gateway`` command imports this module for
    # CONFIG_DIR, and importlib.resources is five modules only install needs.
    from importlib import resources

    return Path(str(resources.files("gateway") / "share" / name))


def install_commands(gateway_bin: str | None = None) -> list[str]:
    """Shell commands, in order; every path is the installed one."""
    exe = gateway_bin or str(Path(sys.executable).with_name("gateway"))
    q = shlex.quote
    unit, rules, example = (q(str(share_path(n))) for n in (UNIT, RULES, EXAMPLE))
    config = CONFIG_DIR / "gateway.toml"
    return [
        f"id -u {USER} >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin {USER}",
        f"install -d -m 0750 -g {USER} {CONFIG_DIR}",
        f"test -e {config} || install -m 0640 -g {USER} {example} {config}",
        f"{q(exe)} check {config}",
        f"install -m 0644 {rules} /etc/udev/rules.d/{RULES}",
        f"{q(exe)} udev-rules -c {config} > /etc/udev/rules.d/99-circuits-gateway-devices.rules",
        "udevadm control --reload && udevadm trigger -s tty",
        # The unit names /opt/circuits-gateway/.venv/bin/gateway; point it at
        # this installation's command.
        f"sed 's|/opt/circuits-gateway/.venv/bin/gateway|{exe}|' {unit} > /etc/systemd/system/{UNIT}",
        # systemd 253+ knows Type=notify-reload: it sends SIGHUP and waits for
        # RELOADING=1 ... READY=1 itself, so the kill in ExecReload= goes.
        f"if [ \"$(systemctl --version | awk 'NR==1 {{print $2}}')\" -ge {NOTIFY_RELOAD_SYSTEMD} ]; then "
        f"sed -i -e 's/^Type=notify$/Type=notify-reload/' -e '/^ExecReload=/d' /etc/systemd/system/{UNIT}; fi",
        "systemctl daemon-reload",
        f"systemctl enable --now {UNIT.removesuffix('.service')}",
    ]


def render(gateway_bin: str | None = None) -> str:
    lines = ["# Run as root (sudo sh) to set this machine up as a gateway:", "set -e"]
    lines += install_commands(gateway_bin)
    return "\n".join(lines) + "\n"
