"""gateway.sdnotify against real AF_UNIX datagram sockets standing in for systemd,
and the systemd unit that runs the gateway."""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.sdnotify import SystemdNotifier


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A bound datagram socket, like systemd's, and its NOTIFY_SOCKET value."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify"
    sock.bind(os.fspath(path))
    sock.settimeout(5)
    yield sock, os.fspath(path)
    sock.close()


def test_messages_arrive_as_systemd_expects(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    with SystemdNotifier({"NOTIFY_SOCKET": path}) as notifier:
        assert notifier.enabled
        assert notifier.ready()
        assert notifier.ready("listening on :4001")
        assert notifier.status("2 devices\nREADY=1")  # a newline cannot forge a field
        assert notifier.watchdog()
        assert notifier.stopping()
        received = [sock.recv(4096) for _ in range(5)]
        assert notifier.statistics()["sent"] == 5
    assert received == [
        b"READY=1",
        b"READY=1\nSTATUS=listening on :4001",
        b"STATUS=2 devices READY=1",
        b"WATCHDOG=1",
        b"STOPPING=1",
    ]


def test_abstract_socket() -> None:
    name = f"circuits-gateway-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        with SystemdNotifier({"NOTIFY_SOCKET": "@" + name}) as notifier:
            assert notifier.ready("up")
        assert sock.recv(4096) == b"READY=1\nSTATUS=up"


def test_no_op_without_notify_socket() -> None:
    notifier = SystemdNotifier({})
    assert not notifier.enabled
    assert not notifier.ready() and not notifier.watchdog() and not notifier.stopping()
    assert notifier.statistics() == {"enabled": False, "sent": 0, "failed": 0, "watchdog_interval": None}


def test_unset_environment_hides_variables_from_children(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid()), "HOME": "/x"}
    with SystemdNotifier(env, unset_environment=True) as notifier:
        assert env == {"HOME": "/x"}
        assert notifier.ready() and notifier.watchdog_interval() == 5.0
    assert sock.recv(4096) == b"READY=1"


def test_send_errors_are_logged_once_and_never_raised(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway.sdnotify")
    with SystemdNotifier({"NOTIFY_SOCKET": os.fspath(tmp_path / "gone")}) as notifier:
        assert [notifier.watchdog() for _ in range(3)] == [False, False, False]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "No such file or directory" in warnings[0].getMessage()
    assert notifier.failed == 3


def test_full_receiver_does_not_block_or_raise(listener: tuple[socket.socket, str],
                                               caplog: pytest.LogCaptureFixture) -> None:
    # Nobody reads the socket: its queue fills and a blocking send would hang.
    _, path = listener
    with SystemdNotifier({"NOTIFY_SOCKET": path}) as notifier:
        results = [notifier.watchdog() for _ in range(10_000)]
    assert results[0] and not results[-1]
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_unsupported_socket_kind_disables_notifications(caplog: pytest.LogCaptureFixture) -> None:
    notifier = SystemdNotifier({"NOTIFY_SOCKET": "vsock:2:1234"})
    assert not notifier.enabled and not notifier.ready()
    assert "not an AF_UNIX socket" in caplog.text


PID = str(os.getpid())


@pytest.mark.parametrize(("usec", "pid", "interval"), [
    ("30000000", None, 15.0),         # WatchdogSec=30 -> ping every 15 s
    ("30000000", PID, 15.0),
    ("1000000", PID, 0.5),
    ("30000000", str(os.getpid() + 1), None),  # meant for another process
    ("30000000", "abc", None),
    ("0", None, None),
    ("-5", None, None),
    ("abc", None, None),
    ("²", None, None),
    (None, PID, None),
])
def test_watchdog_interval_follows_sd_watchdog_enabled(usec: str | None, pid: str | None,
                                                       interval: float | None) -> None:
    env = {k: v for k, v in {"WATCHDOG_USEC": usec, "WATCHDOG_PID": pid}.items() if v is not None}
    notifier = SystemdNotifier(env)
    assert notifier.watchdog_interval() == interval
    assert notifier.watchdog_timeout() == (None if interval is None else interval * 2)


# -- systemd/circuits-gateway.service: the unit that provides NOTIFY_SOCKET --

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "circuits-gateway.service"


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """systemd.syntax(7): [Section], Key=Value, repeated keys accumulate."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in text.replace("\\\n", " ").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"assignment outside a section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not an assignment: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_unit_file_settings() -> None:
    unit = parse_unit(UNIT.read_text())
    service = {k: v[-1] for k, v in unit["Service"].items()}
    expected = {
        "Type": "notify",
        "NotifyAccess": "main",
        "ExecStart": "/opt/circuits-gateway/.venv/bin/gateway run -c /etc/circuits-gateway/gateway.toml",
        "WatchdogSec": "30",
        "Restart": "on-failure",
        "RestartSec": "2",
        "User": "circuits-gateway",
        "Group": "circuits-gateway",
        "SupplementaryGroups": "dialout",
        "StateDirectory": "circuits-gateway",
        "ConfigurationDirectory": "circuits-gateway",
        "ProtectSystem": "strict",
        "ProtectHome": "true",
        "PrivateTmp": "true",
        "NoNewPrivileges": "true",
        "ProtectKernelTunables": "true",
        "ProtectKernelModules": "true",
        "ProtectControlGroups": "true",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        "DevicePolicy": "closed",
        "LockPersonality": "true",
        "MemoryDenyWriteExecute": "true",
        "SystemCallArchitectures": "native",
        "KillSignal": "SIGTERM",
        "TimeoutStopSec": "15",
        "RestartPreventExitStatus": "78",  # ConfigError.exit_code
    }
    assert {k: service.get(k) for k in expected} == expected
    assert unit["Service"]["DeviceAllow"] == ["char-ttyUSB rw", "char-ttyACM rw", "char-ttyAMA rw"]
    assert unit["Install"] == {"WantedBy": ["multi-user.target"]}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    # verify insists the ExecStart binary exists, and the venv is only there
    # on an installed appliance: check everything else against /bin/true.
    copy = tmp_path / UNIT.name
    copy.write_text(re.sub(r"(?m)^ExecStart=\S+", "ExecStart=/bin/true", UNIT.read_text()))
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    ours = [line for line in (result.stdout + result.stderr).splitlines() if UNIT.name in line]
    assert result.returncode == 0 and ours == [], result.stdout + result.stderr
