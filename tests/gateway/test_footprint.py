"""A gateway imports only what its configuration uses (issue 15, "Footprint").

Every module a process imports stays in memory while it runs, so a gateway
that only bridges a serial port to TCP must not carry the dashboard, the
MQTT uplink or the Modbus/RFC 2217 parts. Checked on the real product path:
``python -X importtime -m gateway run -c FILE`` on a socat pair, until
READY=1 and a byte has crossed the bridge both ways; the interpreter lists
every module it imported on stderr. RSS itself is measured by
bench/gateway_footprint.py, not here (too noisy to assert).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from gwrun import ROOT, NotifyListener
from mqtt_fixtures import free_port
from ptyio import read_fd, write_fd

from gateway.cli import main as gateway_main
from gateway.demo import DEFAULT_TCP_BASE, DEFAULT_UDP_PORT, DEFAULT_WEB_PORT
from gateway.ports import udev_running
from gateway.socat import SocatPair

TIMEOUT = 30.0
#: Module prefixes a gateway without [web], [mqtt], Modbus or RFC 2217 never needs.
NOT_WITHOUT_FEATURES = ("circuits.web", "gateway.web", "gateway.mqtt", "paho", "gateway.modbus",
                        "gateway.rfc2217", "circuits.protocols.telnet", "circuits.protocols.irc", "hashlib", "importlib.metadata",
                        "gateway.spool", "gateway.history",
                        # What only other commands use: ``gateway run`` runs for months.
                        "gateway.demo", "gateway.simdevice", "gateway.socat", "gateway.starter",
                        "gateway.udevrules", "gateway.reloadverb", "importlib.resources",
                        # Only for an unknown key in the file, or [web]'s HTTP dates.
                        "difflib", "email",
                        # circuits.io's other components, inotify's old binding
                        # (pyinotify: asyncore, ctypes.util -> subprocess, shutil)
                        # and argparse's terminal-width lookup (shutil: bz2, lzma).
                        "circuits.io.process", "circuits.io.file", "circuits.io.stdio", "pyinotify",
                        "asyncore", "subprocess", "shutil",
                        # SQLite serves the spool and the history; the sequence
                        # numbers are a state file (a seq.sqlite3 is migrated once).
                        "sqlite3", "_sqlite3", "gateway.sqlitedb",
                        # The profiles the configuration does not name (the
                        # Modbus one brings its protocol; csv its C module).
                        "devices.modbus", "circuits.protocols.modbus", "devices.csvline", "csv",
                        "devices.nmea", "devices.jsonl", "devices.keyvalue",
                        # Simulators (random) and the process bridge (pickle).
                        "devices.simulator", "random", "pickle")
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", re.M)


def imported(stderr: str) -> set[str]:
    """The modules named by ``-X importtime`` lines."""
    return set(_IMPORTED.findall(stderr))


def loaded(names: set[str], prefix: str) -> list[str]:
    return sorted(n for n in names if n == prefix or n.startswith(prefix + "."))


def config_text(tmp_path: Path, pair: SocatPair, tcp: int, extra: str = "") -> str:
    return (f'[gateway]\nname = "footprint"\nstate_dir = "{tmp_path / "state"}"\nlog_level = "warning"\n\n'
            f"{extra}"
            f'[[device]]\nname = "dev"\nport = "{pair.dev}"\nprofile = "raw"\ntcp = "127.0.0.1:{tcp}"\n')


def run_gateway(tmp_path: Path, pair: SocatPair, tcp: int, extra: str = "") -> set[str]:
    """Run the product until READY=1 and a round trip through the bridge; what it imported."""
    config = tmp_path / "gateway.toml"
    config.write_text(config_text(tmp_path, pair, tcp, extra))
    notify = NotifyListener(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT), NOTIFY_SOCKET=notify.path)
    stderr = tmp_path / "stderr"
    with stderr.open("w") as err:
        process = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "gateway", "run", "-c", str(config)],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, env=env)
    try:
        notify.wait_for("READY", "1", timeout=TIMEOUT)
        peer = pair.open_peer()
        try:
            with socket.create_connection(("127.0.0.1", tcp), timeout=TIMEOUT) as client:
                client.sendall(b"to the device\n")
                assert read_fd(peer, 14, TIMEOUT) == b"to the device\n"
                write_fd(peer, b"to the client\n", TIMEOUT)
                back = b""
                while not back.endswith(b"\n"):
                    chunk = client.recv(100)
                    assert chunk, "the bridge closed the connection"
                    back += chunk
                assert back == b"to the client\n"
        finally:
            os.close(peer)
    finally:
        process.terminate()
        assert process.wait(TIMEOUT) == 0, stderr.read_text()[-3000:]
        notify.close()
    return imported(stderr.read_text())


def test_a_bridge_only_gateway_loads_no_optional_part(tmp_path, pair):
    names = run_gateway(tmp_path, pair, free_port())
    assert "gateway.app" in names and "gateway.bridge" in names  # the list is the real one
    # pyudev serves the udev monitor and the udev database: only where udevd runs.
    unused = NOT_WITHOUT_FEATURES + (() if udev_running() else ("pyudev",))
    found = {prefix: loaded(names, prefix) for prefix in unused}
    assert not any(found.values()), {prefix: mods for prefix, mods in found.items() if mods}


def test_a_gateway_without_tls_loads_no_ssl(tmp_path, pair):
    names = run_gateway(tmp_path, pair, free_port())
    assert "gateway.app" in names
    assert not loaded(names, "ssl") and not loaded(names, "_ssl")


def test_web_and_mqtt_are_loaded_when_configured_and_paho_never(tmp_path, pair):
    # No broker listens: the uplink keeps retrying, which READY=1 does not wait for.
    extra = (f'[web]\nlisten = "127.0.0.1:{free_port()}"\n\n'
             f'[mqtt]\nhost = "127.0.0.1"\nport = {free_port()}\n\n')
    names = run_gateway(tmp_path, pair, free_port(), extra)
    assert loaded(names, "gateway.web") and loaded(names, "circuits.web")
    assert loaded(names, "gateway.mqtt")
    assert not loaded(names, "email"), "HTTP dates are circuits.web.httpdate's own"
    assert not loaded(names, "paho"), "the product uses gateway.mqtt's own protocol, never paho"
    # The dashboard reads a port's real settings (gateway.rfc2217.port), nothing more of RFC 2217.
    assert not loaded(names, "gateway.modbus") and not loaded(names, "gateway.rfc2217.bridge")
    assert "circuits.protocols.telnet.comport" not in names  # only its constants
    # OpenSSL's libcrypto (~3.7 MB) comes with hashlib, hmac and secrets: only
    # [web.users] (pbkdf2) needs it. Nor are file-upload, error-page and
    # file-type helpers loaded before they are used.
    unused = ("_hashlib", "hashlib", "hmac", "secrets", "tempfile", "shutil", "html", "mimetypes", "gzip")
    assert not [m for m in unused if m in names], [m for m in unused if m in names]


def test_a_websocket_handshake_needs_no_openssl() -> None:
    # The dashboard's every client makes one: SHA-1 comes from CPython's own _sha1.
    script = ("import sys\n"
              "import gateway.web.dashboard\n"
              "from circuits.protocols.websocket.handshake import accept_key\n"
              "assert accept_key('dGhlIHNhbXBsZSBub25jZQ==') == 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='\n"  # RFC 6455 1.3
              "print([m for m in ('_hashlib', 'hashlib', 'hmac', 'secrets') if m in sys.modules])\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=TIMEOUT)
    assert done.returncode == 0 and done.stdout == "[]\n", done.stderr[-2000:]


def check_imports(tmp_path: Path, text: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    config = tmp_path / "check.toml"
    config.write_text(text)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "gateway", "check", str(config)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=TIMEOUT)
    return done, imported(done.stderr)


@pytest.mark.parametrize("names, ok", [('["gateway.local", "*"]', True), ('["gateway.local:8080"]', False)])
def test_check_validates_web_server_names_without_the_web_stack(tmp_path, names, ok):
    text = (f'[gateway]\nname = "footprint"\nstate_dir = "{tmp_path / "state"}"\n\n'
            f'[web]\nlisten = "127.0.0.1:8080"\nserver_names = {names}\n'
            'allowed_origins = ["https://gateway.local:8443"]\n\n'
            '[[device]]\nname = "dev"\nport = "/dev/ttyUSB9"\nprofile = "raw"\n')
    done, names_loaded = check_imports(tmp_path, text)
    assert "gateway.config.validate" in names_loaded
    assert not loaded(names_loaded, "circuits.web"), loaded(names_loaded, "circuits.web")
    if ok:
        assert done.returncode == 0, done.stderr[-2000:]
    else:
        assert done.returncode == 78
        assert "is not a host name (no port, no scheme)" in done.stderr


def test_the_demos_help_names_the_demos_own_defaults(capsys):
    # gateway.cli leaves the demo's ports to gateway.demo (not imported by
    # other commands), so its help text repeats them: keep the two equal.
    with pytest.raises(SystemExit):
        gateway_main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in (DEFAULT_TCP_BASE, DEFAULT_UDP_PORT, DEFAULT_WEB_PORT):
        assert f"default {default}" in text
