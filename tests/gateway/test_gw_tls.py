"""``tls = true`` on a device's raw TCP listener with ``[tls]``, against a running
gateway and Python's ssl client: bytes both ways over TLS; with ``client_ca``
a client without a certificate is refused and one with it gets through; a
plain-TCP client gets nothing and is closed once the handshake timeout passes,
and a TLS client is served while the plain one sits in its handshake (the
poller drives handshakes; none blocks the loop).
"""

from __future__ import annotations

import json
import os
import socket
import ssl
from pathlib import Path

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest
from ptyio import read_fd

from gateway.config import ConfigError, GatewayConfig, parse_config
from gateway.demo import free_port
from gateway.readings import check_profile
from gateway.socat import SocatPair

TIMEOUT = 10.0
pytestmark = pytest.mark.timeout(90)


def build(tmp_path: Path, device: Path, port: int, tls: str) -> GatewayConfig:
    text = "\n".join([
        "[gateway]", 'name = "test"', f"state_dir = {json.dumps(str(tmp_path / 'state'))}", tls,
        "[[device]]", 'name = "dev"', f"port = {json.dumps(str(device))}", 'profile = "raw"',
        f'tcp = "127.0.0.1:{port}"', "tls = true", ""])
    return parse_config(text, "<test>", check_profile=check_profile)



def tls_client(port: int, cert: Path, client: tuple[Path, Path] | None = None) -> ssl.SSLSocket:
    ctx = ssl.create_default_context(cafile=str(cert))
    if client is not None:
        ctx.load_cert_chain(str(client[0]), str(client[1]))
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def test_tls_listener_carries_bytes_both_ways_and_plain_clients_time_out(tmp_path: Path, pair: SocatPair) -> None:
    cert, key = fx.certificate(tmp_path, "server", "gateway.test")
    port = free_port(0)
    config = build(tmp_path, pair.dev, port, f'[tls]\ncertfile = "{cert}"\nkeyfile = "{key}"\n'
                   "handshake_timeout = 0.5\n")
    with fx.running_gateway(config, TIMEOUT) as (gateway, bus):
        plain = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        client = tls_client(port, cert)
        local = client.getsockname()[1]
        bus.wait("client_connected", lambda d, peer, n: peer[1] == local)
        peer = pair.open_peer()
        try:
            client.sendall(b"over tls\n")
            assert read_fd(peer, 9) == b"over tls\n"
            os.write(peer, b"back\n")
            assert client.recv(5) == b"back\n"
        finally:
            os.close(peer)
        # The plain client never handshakes: it is sent nothing and closed.
        assert plain.recv(100) == b""
        plain.close()
        client.close()


def test_client_ca_requires_a_client_certificate(tmp_path: Path, pair: SocatPair) -> None:
    cert, key = fx.certificate(tmp_path, "server", "gateway.test")
    client_cert, client_key = fx.certificate(tmp_path, "client", "client.test")
    port = free_port(0)
    config = build(tmp_path, pair.dev, port,
                   f'[tls]\ncertfile = "{cert}"\nkeyfile = "{key}"\nclient_ca = "{client_cert}"\n')
    with fx.running_gateway(config, TIMEOUT) as (gateway, bus):
        with pytest.raises((ssl.SSLError, ConnectionError)):
            anonymous = tls_client(port, cert)
            # TLS 1.3: the refusal may only show on the first read.
            anonymous.sendall(b"x")
            anonymous.recv(1)
        client = tls_client(port, cert, (client_cert, client_key))
        local = client.getsockname()[1]
        bus.wait("client_connected", lambda d, peer, n: peer[1] == local)
        peer = pair.open_peer()
        try:
            client.sendall(b"mutual\n")
            assert read_fd(peer, 7) == b"mutual\n"
        finally:
            os.close(peer)
        client.close()
        assert gateway.bridges["dev"].accepted == 1


@pytest.mark.parametrize(("tls", "device", "message"), [
    ("", "tls = true\n", "needs a [tls] table"),
    ('[tls]\ncertfile = "/nonexistent.pem"\n', "tls = true\n", "cannot read /nonexistent.pem"),
    ("", "tls = 1\n", "tls: must be a boolean"),
])
def test_bad_tls_settings_are_reported(tls: str, device: str, message: str) -> None:
    text = (f'[gateway]\nname = "t"\n{tls}[[device]]\nname = "d"\nport = "/dev/ttyX"\nprofile = "raw"\n'
            f'tcp = 4000\n{device}')
    with pytest.raises(ConfigError) as info:
        parse_config(text, "<t>", check_profile=check_profile)
    assert message in str(info.value) and "<t>:" in str(info.value)
