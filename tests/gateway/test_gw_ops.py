"""The small things an operator meets: --version, hash-password at EOF,
ports --json, install --print, the shipped files and the unit's hardening
(checked with systemd-analyze on the installed layout)."""

from __future__ import annotations

import functools
import json
import os
import pty
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from mqtt_fixtures import gateway_cli

from gateway.install import share_path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30.0

pytestmark = pytest.mark.timeout(60)


gateway = functools.partial(gateway_cli, timeout=TIMEOUT)


def test_version_prints_the_package_version() -> None:
    result = gateway("--version")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert result.returncode == 0
    assert result.stdout.strip() == f"gateway {project['version']}"


def test_hash_password_ctrl_d_at_the_prompt_exits_with_a_message() -> None:
    # A real terminal, so the prompt path (getpass) is taken; Ctrl-D is EOF.
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "gateway", "hash-password", "--user", "bob"])
    out = b""
    try:
        while b"Password for bob" not in out:
            out += os.read(fd, 1024)
        os.write(fd, b"\x04")
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # EIO: the child has gone
                break
            if not chunk:
                break
            out += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    text = out.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 1
    assert "no password given" in text and "Traceback" not in text


def test_ports_json_is_one_array() -> None:
    result = gateway("ports", "--json")
    assert result.returncode == 0
    ports = json.loads(result.stdout)
    assert isinstance(ports, list)
    for port in ports:
        assert {"device", "vid", "pid", "serial", "by_id"} <= port.keys()


def test_install_print_names_the_shipped_files_which_exist() -> None:
    result = gateway("install", "--print")
    assert result.returncode == 0
    for name in ("circuits-gateway.service", "99-circuits-gateway.rules", "gateway.toml"):
        path = share_path(name)
        assert path.is_file()
        assert str(path) in result.stdout
    assert "systemctl enable --now circuits-gateway" in result.stdout
    assert "gateway check /etc/circuits-gateway/gateway.toml" in result.stdout


def test_the_repository_paths_are_the_shipped_files() -> None:
    for repo_path, name in (("systemd/circuits-gateway.service", "circuits-gateway.service"),
                            ("udev/99-circuits-gateway.rules", "99-circuits-gateway.rules"),
                            ("examples/gateway.toml", "gateway.toml")):
        assert (ROOT / repo_path).resolve() == (ROOT / "gateway/share" / name).resolve()


def test_the_wheel_ships_the_unit_rules_and_example(tmp_path: Path) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["gateway"]
    shipped = {p.name for pattern in patterns for p in (ROOT / "gateway").glob(pattern)}
    assert {"circuits-gateway.service", "99-circuits-gateway.rules", "gateway.toml"} <= shipped
    assert pyproject["project"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_example_enables_the_dashboard_and_promises_nothing() -> None:
    text = (ROOT / "examples/gateway.toml").read_text()
    assert "later release" not in text
    assert tomllib.loads(text)["web"]["listen"]


def test_docs_list_every_demo_flag() -> None:
    docs = (ROOT / "docs/gateway.md").read_text()
    for flag in ("--web-port", "--web-host", "--no-web", "--mqtt", "--log-level", "--tcp-base",
                 "--udp-port", "--interval", "--noise", "--print-config"):
        assert flag in docs, flag


UNIT = share_path("circuits-gateway.service")


def test_the_unit_header_names_gateway_check_and_the_hardening_is_there() -> None:
    text = UNIT.read_text()
    header = text.split("[Unit]")[0]
    assert "gateway check" in header
    for line in ("ProtectProc=invisible", "ProcSubset=pid", "RemoveIPC=yes", "PrivateMounts=yes",
                 "SystemCallFilter=@system-service"):
        assert f"\n{line}\n" in text, line


def _installed_unit(tmp_path: Path) -> Path:
    # The installed layout: ExecStart names this environment's gateway command
    # (as `gateway install --print` writes it).
    exe = Path(sys.executable).with_name("gateway")
    if not exe.exists():
        pytest.skip(f"{exe} is not installed (pip install -e .)")
    unit = tmp_path / "circuits-gateway.service"
    unit.write_text(UNIT.read_text().replace("/opt/circuits-gateway/.venv/bin/gateway", str(exe)))
    return unit


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_passes_on_the_installed_layout(tmp_path: Path) -> None:
    unit = _installed_unit(tmp_path)
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    # verify prints warnings (unknown keys, bad values) without failing.
    assert "circuits-gateway.service" not in result.stderr, result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_security_rates_the_unit_ok(tmp_path: Path) -> None:
    unit = _installed_unit(tmp_path)
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit)],
                            capture_output=True, text=True, timeout=TIMEOUT)
    if result.returncode != 0 and "offline" in result.stderr:
        pytest.skip("this systemd-analyze has no --offline")
    line = next(ln for ln in result.stdout.splitlines() if "Overall exposure level" in ln)
    exposure = float(line.split(":")[-1].split()[0])
    assert exposure <= 2.0, line
    for setting in ("ProtectProc=", "ProcSubset=", "RemoveIPC=", "PrivateMounts="):
        flagged = [ln for ln in result.stdout.splitlines() if setting in ln and ln.lstrip().startswith("✗")]
        assert not flagged, flagged
