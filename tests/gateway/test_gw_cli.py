"""The ``gateway`` command as users and systemd run it: real subprocesses.

``run`` with a fake NOTIFY_SOCKET (READY=1 only once the TCP port accepts,
WATCHDOG=1 pings from the loop, STOPPING=1 on SIGTERM, a clean exit), a
port in use failing start-up without READY=1, ``check`` exit codes and
messages, ``demo`` serving parsed-looking lines, and the small commands.
"""

from __future__ import annotations

import functools
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from mqtt_fixtures import free_port, gateway_cli

from devices import get_profile
from gateway.passwords import verify_password
from gateway.socat import SocatPair

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 15.0

pytestmark = pytest.mark.timeout(60)


gateway = functools.partial(gateway_cli, timeout=TIMEOUT)


def write_config(path: Path, device_port: str, tcp_port: int) -> Path:
    path.write_text(
        '[gateway]\nname = "cli"\n'
        f'state_dir = "{path.parent / "state"}"\n\n'
        '[[device]]\nname = "thermo"\n'
        f'port = "{device_port}"\nprofile = "keyvalue"\ntcp = "127.0.0.1:{tcp_port}"\n'
    )
    return path


class NotifySocket:
    """A stand-in for systemd's notification socket."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))

    def next(self, timeout: float = TIMEOUT) -> str:
        if not select.select([self.sock], [], [], timeout)[0]:
            raise AssertionError("no notification within the deadline")
        return self.sock.recv(4096).decode()

    def wait_for(self, assignment: str, timeout: float = TIMEOUT) -> list[str]:
        """Messages up to and including the first containing ``assignment``."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            message = self.next(max(0.0, deadline - time.monotonic()))
            seen.append(message)
            if assignment in message.splitlines():
                return seen


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(tmp_path / "notify")
    yield sock
    sock.sock.close()


# -- gateway run -------------------------------------------------------------


def test_run_notifies_ready_after_the_port_accepts_then_watchdog_then_stopping(
        tmp_path: Path, notify: NotifySocket) -> None:
    port = free_port(0)
    with SocatPair(tmp_path, "dev") as pair:
        config = write_config(tmp_path / "gateway.toml", str(pair.dev), port)
        env = dict(os.environ, NOTIFY_SOCKET=str(notify.path), WATCHDOG_USEC="200000")
        proc = subprocess.Popen([sys.executable, "-m", "gateway", "run", "-c", str(config)], cwd=ROOT,
                                env=env, stderr=subprocess.PIPE, text=True)
        try:
            before = notify.wait_for("READY=1")
            # The moment READY=1 arrives the listener must already accept.
            with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT):
                pass
            assert not any("STOPPING=1" in m for m in before)
            assert "STATUS=1/1 devices online" in before[-1].splitlines()
            # WatchdogSec=0.2 s: pings every 0.1 s from the loop's timer.
            pings = [m for m in notify.wait_for("WATCHDOG=1") if m == "WATCHDOG=1"]
            pings += [m for m in notify.wait_for("WATCHDOG=1") if m == "WATCHDOG=1"]
            assert len(pings) >= 2
            proc.send_signal(signal.SIGTERM)
            notify.wait_for("STOPPING=1")
            assert proc.wait(TIMEOUT) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr = proc.stderr.read() if proc.stderr else ""
        assert "thermo: online" in stderr and "stopped" in stderr
        assert "Traceback" not in stderr


def test_run_with_its_port_in_use_fails_without_ready(tmp_path: Path, notify: NotifySocket) -> None:
    with socket.socket() as busy, SocatPair(tmp_path, "dev") as pair:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        config = write_config(tmp_path / "gateway.toml", str(pair.dev), busy.getsockname()[1])
        env = dict(os.environ, NOTIFY_SOCKET=str(notify.path))
        result = gateway("run", "-c", str(config), env=env)
    assert result.returncode == 69
    assert "cannot listen on tcp://127.0.0.1:" in result.stderr and "Address already in use" in result.stderr
    assert not select.select([notify.sock], [], [], 0)[0], "nothing may be notified"


def test_run_with_a_bad_config_exits_78(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[gateway]\nname = "x"\n')
    result = gateway("run", "-c", str(config))
    assert result.returncode == 78
    assert "at least one [[device]] table is required" in result.stderr


# -- gateway check -------------------------------------------------------------


def test_check_accepts_a_valid_file(tmp_path: Path) -> None:
    config = write_config(tmp_path / "ok.toml", "/dev/ttyUSB0", 7001)
    result = gateway("check", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{config}: ok, gateway 'cli', 1 of 1 devices enabled, 1 TCP listeners\n"


@pytest.mark.parametrize(("text", "message"), [
    ('[gateway]\nname = "x"\n[[device]]\nname = "a"\nport = "/dev/x"\nprofile = "keyvalu"\n',
     ':6: [device "a"] profile: must be one of keyvalue, csv, json, nmea, raw, modbus; got "keyvalu"'),
    ('[gateway]\nname = "x"\n[[device]]\nname = "a"\nport = "/dev/x"\nprofile = "keyvalue"\n'
     '[device.options]\nseparator = ","\n',
     "profile 'keyvalue' has no option 'separator'"),
    ('[gateway]\nname = "x"\n[[device]]\nname = "a"\nport = "/dev/x"\nprofile = "raw"\ntcp = "1.2.3.4"\n',
     ':7: [device "a"] tcp: must be "host:port"'),
    ("[gateway\n", ":1: TOML syntax error"),
])
def test_check_reports_problems_with_their_line_and_exits_78(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    result = gateway("check", str(config))
    assert result.returncode == 78
    assert result.stdout == ""
    assert message in result.stderr
    assert result.stderr.startswith(str(config))


def test_check_of_a_missing_file_exits_78(tmp_path: Path) -> None:
    result = gateway("check", str(tmp_path / "nope.toml"))
    assert result.returncode == 78
    assert "cannot read: No such file or directory" in result.stderr


def test_the_example_configuration_is_valid() -> None:
    result = gateway("check", str(ROOT / "examples" / "gateway.toml"))
    assert result.returncode == 0, result.stderr


# -- gateway demo ----------------------------------------------------------------


def test_demo_serves_parsed_looking_lines_and_stops_on_sigterm(tmp_path: Path) -> None:
    with open(tmp_path / "stderr", "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "gateway", "demo", "--tcp-base", "0", "--udp-port", "0",
                                 "--interval", "0.1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr)
    try:
        served: dict[str, tuple[int, str]] = {}
        for line in output_lines(proc, until=lambda: len(served) == 4):
            found = re.match(r"\s+tcp://127\.0\.0\.1:(\d+)\s+(\w+) \((\w+)\)", line)
            if found:
                served[found.group(2)] = (int(found.group(1)), found.group(3))
        assert set(served) == {"env", "logger", "gps", "plug"}
        port, profile = served["env"]
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as client:
            stream = client.makefile("rb")
            stream.readline()  # the first line may start mid-message
            line = stream.readline()
        fields = get_profile(profile).parser()(line.rstrip(b"\r\n"))
        assert {"temp", "hum"} <= set(fields)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in (tmp_path / "stderr").read_text()


def output_lines(proc: subprocess.Popen[bytes], until: Callable[[], bool]) -> Iterator[str]:
    """Lines of ``proc``'s stdout as they come, until ``until()`` or the deadline."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + TIMEOUT
    pending = b""
    while not until():
        assert select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0], "no output in time"
        chunk = os.read(fd, 4096)
        assert chunk, "the process closed its output"
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.decode()
            if until():
                return


def test_demo_print_config_is_a_valid_configuration(tmp_path: Path) -> None:
    result = gateway("demo", "--print-config", "--tcp-base", "0")
    assert result.returncode == 0, result.stderr
    config = tmp_path / "demo.toml"
    config.write_text(result.stdout)
    checked = gateway("check", str(config))
    assert checked.returncode == 0, checked.stderr
    assert "5 of 5 devices enabled, 4 TCP listeners" in checked.stdout
    assert "meter: Modbus RTU master" in checked.stdout  # the fifth: a Modbus TCP listener instead


# -- the small commands --------------------------------------------------------------


def test_udev_rules_names_the_matched_devices(tmp_path: Path) -> None:
    config = tmp_path / "usb.toml"
    config.write_text('[gateway]\nname = "x"\n[[device]]\nname = "thermo"\n'
                      'match = { vid = "0403", pid = "6001", serial = "A50285BI" }\nprofile = "keyvalue"\n')
    result = gateway("udev-rules", "-c", str(config))
    assert result.returncode == 0, result.stderr
    assert ('ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", ATTRS{serial}=="A50285BI", '
            'SYMLINK+="gateway/thermo"') in result.stdout


def test_hash_password_reads_stdin_and_prints_a_verifiable_hash() -> None:
    result = gateway("hash-password", "--user", "bob", input="s3cret\n")
    assert result.returncode == 0, result.stderr
    user, _, quoted = result.stdout.strip().partition(" = ")
    hashed = quoted.strip('"')
    assert user == "bob" and quoted == f'"{hashed}"'
    assert hashed.startswith("pbkdf2_sha256$") and verify_password("s3cret", hashed)


def test_ports_lists_without_failing() -> None:
    result = gateway("ports")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(("no serial ports found", "# "))


@pytest.mark.skipif(shutil.which("gateway", path=str(Path(sys.executable).parent)) is None,
                    reason="the console script is not installed in this environment")
def test_the_console_script_is_the_same_command() -> None:
    script = str(Path(sys.executable).parent / "gateway")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0 and "demo" in result.stdout
