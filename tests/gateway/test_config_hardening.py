"""Configurations that once ended in tracebacks, hangs or a crash at run time.

Each is given to the real ``gateway check`` / ``gateway run`` process: the
answer must be exit 78 (EX_CONFIG, so systemd stops restarting) with the
file and line, never a traceback.
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path

import pytest
from mqtt_fixtures import gateway_cli

from gateway.config import Address, load_config
from gateway.passwords import hash_password
from gateway.socat import SocatPair

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30.0

pytestmark = pytest.mark.timeout(90)

HEAD = '[gateway]\nname = "gw"\n'
DEVICE = '[[device]]\nname = "d"\nport = "/dev/ttyUSB0"\nprofile = "raw"\n'


gateway = functools.partial(gateway_cli, timeout=TIMEOUT)


def check_fails(path: Path, needle: str) -> str:
    result = gateway("check", str(path))
    assert result.returncode == 78, result.stderr
    assert "Traceback" not in result.stderr
    assert needle in result.stderr, result.stderr
    return result.stderr


# Each case: the file's text and what the error must say, including the line.
CASES = [
    ("huge integer", HEAD + DEVICE + "baudrate = " + "9" * 5000 + "\n", ":7: number with more than 30 digits"),
    ("deep nesting", HEAD + DEVICE + "x = " + "[" * 3000 + "]" * 3000 + "\n",
     ":7: arrays or tables nested more than 32 deep"),
    ("non-ASCII digits", HEAD + DEVICE + 'tcp = "127.0.0.1:²³"\n', ':7: [device "d"] tcp: must be "host:port"'),
    ("baudrate overflow", HEAD + DEVICE + "baudrate = 4000000000\n",
     ':7: [device "d"] baudrate: must be at most 12000000'),
    ("state_dir NUL", HEAD + 'state_dir = "\\u0000"\n' + DEVICE, ":3: [gateway] state_dir: must not contain a NUL"),
    ("missing ca_file", HEAD + DEVICE + '[mqtt]\nhost = "h"\ntls = true\nca_file = "/nonexistent/ca.pem"\n',
     ":10: [mqtt] ca_file: cannot read /nonexistent/ca.pem"),
    ("absurd iterations", HEAD + DEVICE + '[web.users]\nalice = "pbkdf2_sha256$1000000000$c2FsdA==$aGFzaA=="\n',
     ":8: [web] users.alice: iteration count must be a number from 1 to 10000000"),
    ("client_buffer", HEAD + DEVICE + "client_buffer = 99999999999\n", ':7: [device "d"] client_buffer: must be at most'),
]


@pytest.mark.parametrize(("text", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_values_exit_78_with_their_line(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "gw.toml"
    path.write_text(text)
    check_fails(path, needle)


def test_special_files_are_refused_without_reading_them(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    # A FIFO with no writer once blocked check forever; /dev/zero ate memory.
    check_fails(fifo, f"{fifo}: not a regular file")
    check_fails(Path("/dev/zero"), "/dev/zero: not a regular file")
    check_fails(tmp_path, "not a regular file")


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text(HEAD + DEVICE + "# padding\n" * 200_000)
    check_fails(path, "larger than 1048576 bytes")


def test_a_sane_iteration_count_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    path.write_text(HEAD + DEVICE + f'[web.users]\nalice = "{hash_password("pw", iterations=1000)}"\n')
    assert load_config(path).web is not None


def test_web_without_listen_gets_the_documented_default(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    path.write_text(HEAD + DEVICE + "[web]\nhistory = 10\n")
    config = load_config(path)
    assert config.web is not None and config.web.listen == Address("127.0.0.1", 8080)
    result = gateway("check", str(path))
    assert result.returncode == 0, result.stderr


def test_run_with_web_without_listen_uses_127_0_0_1_8080(tmp_path: Path) -> None:
    # Occupy the default port so the run ends at once, and by its message
    # shows which address it used (before, it died with a TypeError, exit 1).
    busy = socket.socket()
    try:
        busy.bind(("127.0.0.1", 8080))
    except OSError:
        busy.close()
        pytest.skip("127.0.0.1:8080 is in use by something else")
    busy.listen()
    with busy, SocatPair(tmp_path, "dev") as pair:
        path = tmp_path / "gw.toml"
        path.write_text(f'{HEAD}state_dir = "{tmp_path / "state"}"\n'
                        f'[[device]]\nname = "d"\nport = "{pair.dev}"\nprofile = "raw"\n[web]\n')
        result = gateway("run", "-c", str(path))
    assert result.returncode == 69, result.stderr
    assert "127.0.0.1:8080" in result.stderr and "Traceback" not in result.stderr
