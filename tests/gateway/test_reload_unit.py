"""The unit's reload: Type=notify + ExecReload=kill -HUP on systemd < 253, Type=notify-reload from 253
(switched by the line `gateway install --print` prints, run here by sh against a stand-in systemctl)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.install import UNIT, install_commands, share_path

SHIPPED = share_path(UNIT)


def test_the_shipped_unit_reloads_with_sighup() -> None:
    lines = SHIPPED.read_text().splitlines()
    assert "Type=notify" in lines
    assert "ExecReload=/bin/kill -HUP $MAINPID" in lines


def switched(tmp_path: Path, version: int) -> list[str]:
    """The unit after the install's version switch, with ``systemctl --version`` saying ``version``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "systemctl"
    fake.write_text(f"#!/bin/sh\necho 'systemd {version} ({version}.1-1)'\necho '+PAM +AUDIT'\n")
    fake.chmod(0o755)
    unit = tmp_path / f"unit-{version}"
    shutil.copy(SHIPPED, unit)
    (line,) = [c for c in install_commands("/usr/bin/gateway") if "notify-reload" in c]
    line = line.replace(f"/etc/systemd/system/{UNIT}", str(unit))
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    subprocess.run(["sh", "-ec", line], check=True, env=env, timeout=10)
    return unit.read_text().splitlines()


def test_install_switches_to_notify_reload_from_systemd_253(tmp_path: Path) -> None:
    old = switched(tmp_path, 252)
    assert old == SHIPPED.read_text().splitlines()
    new = switched(tmp_path, 253)
    assert "Type=notify-reload" in new and "Type=notify" not in new
    assert not [line for line in new if line.startswith("ExecReload=")]
    assert len(new) == len(old) - 1


def _systemd_version() -> int:
    try:
        out = subprocess.run(["systemctl", "--version"], capture_output=True, text=True, timeout=10).stdout
        return int(out.split()[1])
    except (OSError, IndexError, ValueError):
        return 0


@pytest.mark.skipif(_systemd_version() < 253, reason="Type=notify-reload needs systemd 253")
def test_the_notify_reload_unit_verifies(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("gateway")
    unit = tmp_path / UNIT
    text = "\n".join(switched(tmp_path, _systemd_version())) + "\n"
    unit.write_text(text.replace("/opt/circuits-gateway/.venv/bin/gateway", str(exe)))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and UNIT not in result.stderr, result.stderr
