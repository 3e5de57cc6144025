"""``gateway check`` (a real process) beyond validation: a warning, exit 0,
when [web.users] is served without TLS on a listener other than loopback;
exit 78 when state_dir cannot be used (a file, or under a file).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from mqtt_fixtures import gateway_cli

from gateway.config.checks import is_loopback
from gateway.passwords import hash_password

TIMEOUT = 15.0
pytestmark = pytest.mark.timeout(60)
gateway = functools.partial(gateway_cli, timeout=TIMEOUT)


def write(path: Path, state_dir: Path, web: str = "") -> Path:
    path.write_text(f'[gateway]\nname = "chk"\nstate_dir = {json.dumps(str(state_dir))}\n{web}\n'
                    '[[device]]\nname = "d"\nport = "/dev/ttyUSB0"\nprofile = "raw"\n')
    return path


@pytest.fixture(scope="module")
def users() -> str:
    return f'[web.users]\nbob = "{hash_password("correct horse")}"\n'


def test_users_without_tls_on_a_lan_listener_warn_and_pass(tmp_path: Path, users: str) -> None:
    config = write(tmp_path / "g.toml", tmp_path / "state", f'[web]\nlisten = "0.0.0.0:8080"\n{users}')
    result = gateway("check", str(config))
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "0.0.0.0:8080" in warning[0] and "certfile" in warning[0]


@pytest.mark.parametrize("listen", ["127.0.0.1:8080", "[::1]:8080", "localhost:8080"])
def test_users_on_loopback_need_no_tls(tmp_path: Path, users: str, listen: str) -> None:
    config = write(tmp_path / "g.toml", tmp_path / "state", f'[web]\nlisten = "{listen}"\n{users}')
    result = gateway("check", str(config))
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stdout


def test_a_state_dir_that_is_a_file_fails(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("not a directory")
    config = write(tmp_path / "g.toml", tmp_path / "state")
    result = gateway("check", str(config))
    assert result.returncode == 78
    assert f"error: state_dir {tmp_path / 'state'} is not a directory" in result.stderr


def test_a_state_dir_under_a_file_fails(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    config = write(tmp_path / "g.toml", tmp_path / "file" / "state")
    result = gateway("check", str(config))
    assert result.returncode == 78
    assert f"cannot be created: {tmp_path / 'file'} is not a directory" in result.stderr


def test_a_state_dir_still_to_be_created_is_fine(tmp_path: Path) -> None:
    config = write(tmp_path / "g.toml", tmp_path / "a" / "b" / "state")
    result = gateway("check", str(config))
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "a").exists()  # check changes nothing


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.3.0.1", True), ("::1", True),
                                                 ("localhost", True), ("", False), ("0.0.0.0", False),
                                                 ("192.168.1.10", False), ("gateway.local", False)])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
