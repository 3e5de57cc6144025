"""The dashboard's server against the attacks of issue 12, on a real gateway (loopback, socat pair).

Short deadlines are configured through ``[web]``; tests wait for the
gateway to close a socket or answer, with deadlines.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest

from gateway.app import Gateway
from gateway.config import ConfigError, GatewayConfig
from gateway.passwords import hash_password
from gateway.socat import SocatPair
from tests.web.helpers import wait_closed

TIMEOUT = 10.0
pytestmark = pytest.mark.timeout(60)


def make_config(tmp_path: Path, pair: SocatPair, web: str = "") -> GatewayConfig:
    return fx.web_gateway_config(tmp_path, fx.device_toml("thermo", pair.dev), name="lab", web=web)


@contextmanager
def running(config: GatewayConfig, **kwargs: Any) -> Iterator[tuple[Gateway, tuple[str, int]]]:
    with fx.running_gateway(config, TIMEOUT, **kwargs) as (gateway, _bus):
        assert gateway.web is not None
        host, port = gateway.web.address
        yield gateway, (host, port)


def exchange(address: tuple[str, int], data: bytes, timeout: float = TIMEOUT) -> tuple[bytes, bool]:
    """Send ``data``; everything received, and whether the gateway closed before ``timeout``."""
    sock = socket.create_connection(address, timeout=timeout)
    try:
        if data:
            sock.sendall(data)
        return wait_closed(sock, timeout)
    finally:
        sock.close()


def status_of(data: bytes) -> int:
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0


def test_the_deadlines_are_configured_in_web(tmp_path: Path, pair: SocatPair) -> None:
    config = make_config(tmp_path, pair, "header_timeout = 0.5\nbody_timeout = 0.5\nbody_min_rate = 10\n"
                                          "keepalive_timeout = 2\nmax_connections = 20\nsend_timeout = 3")
    web = config.web
    assert web is not None
    assert (web.header_timeout, web.body_timeout, web.body_min_rate, web.keepalive_timeout,
            web.max_connections, web.send_timeout) == (0.5, 0.5, 10, 2.0, 20, 3.0)


@pytest.mark.parametrize("line", ["header_timeout = 0", "body_timeout = -1", "max_connections = 0",
                                  "body_min_rate = -5", "keepalive_timeout = 1e9",
                                  "send_timeout = 0"])
def test_bad_deadlines_are_configuration_errors(tmp_path: Path, pair: SocatPair, line: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_config(tmp_path, pair, line)
    assert line.split(" ")[0] in str(info.value)


def test_a_silent_connection_and_a_stalled_body_are_closed(tmp_path: Path, pair: SocatPair) -> None:
    config = make_config(tmp_path, pair, "header_timeout = 0.3\nbody_timeout = 0.3")
    with running(config) as (gateway, address):
        data, closed = exchange(address, b"")
        assert closed and data == b""
        data, closed = exchange(address, b"POST /api/devices HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                         b"Content-Length: 100\r\n\r\nabc")
        assert closed and status_of(data) == 408
        data, closed = exchange(address, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert closed and status_of(data) == 200


def _ws_status(address: tuple[str, int], host: str, origin: str | None) -> int:
    head = (f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + (f"Origin: {origin}\r\n" if origin else "") + "\r\n")
    sock = socket.create_connection(address, timeout=TIMEOUT)
    try:
        sock.sendall(head.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    return status_of(data)


def test_ws_checks_origin_and_the_server_checks_host(tmp_path: Path, pair: SocatPair) -> None:
    config = make_config(tmp_path, pair, 'allowed_origins = ["https://ha.example:8123"]')
    with running(config) as (gateway, address):
        own = f"127.0.0.1:{address[1]}"
        # A page elsewhere cannot read the feed (cross-site WebSocket hijacking) ...
        assert _ws_status(address, own, "http://evil.example") == 403
        assert _ws_status(address, own, f"http://{own}") == 101
        assert _ws_status(address, own, "https://ha.example:8123") == 101
        # ... nor through a name rebound to 127.0.0.1 (DNS rebinding).
        rebound = f"evil.example:{address[1]}"
        assert _ws_status(address, rebound, f"http://{rebound}") == 421
        data, _ = exchange(address, f"GET /api/devices HTTP/1.1\r\nHost: {rebound}\r\nConnection: close\r\n\r\n"
                           .encode())
        assert status_of(data) == 421
        data, _ = exchange(address, f"GET /api/devices HTTP/1.1\r\nHost: localhost:{address[1]}\r\n"
                                    "Connection: close\r\n\r\n".encode())
        assert status_of(data) == 200


def test_server_names_replace_the_default_names(tmp_path: Path, pair: SocatPair) -> None:
    config = make_config(tmp_path, pair, 'server_names = ["gw.lan"]')
    with running(config) as (gateway, address):
        for host, status in (("gw.lan", 200), ("localhost", 421), ("127.0.0.1", 200)):
            data, _ = exchange(address, f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                               .encode())
            assert status_of(data) == status, host


@pytest.mark.parametrize("line", ['server_names = ["gw.lan:80"]', 'allowed_origins = ["ha.example"]',
                                  'allowed_origins = ["https://ha.example/"]'])
def test_bad_names_and_origins_are_configuration_errors(tmp_path: Path, pair: SocatPair, line: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_config(tmp_path, pair, line)
    assert line.split(" ")[0] in str(info.value)


# -- no body before authentication, small bodies (issue 12, item 2) ----------------


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_an_unauthenticated_body_is_never_read_and_bodies_are_small(tmp_path: Path, pair: SocatPair) -> None:
    users = f'[web.users]\nalice = "{hash_password("pw", iterations=1000)}"\n'
    with running(make_config(tmp_path, pair, users)) as (gateway, address):
        # 10 MiB announced and none sent: 401 at once, then EOF (nothing spooled).
        data, closed = exchange(address, b"POST /api/devices HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                         b"Content-Length: 10485760\r\n\r\n")
        assert closed and status_of(data) == 401
        # Credentials verified once (a GET) ...
        auth = _basic("alice", "pw")
        data, _ = exchange(address, f"GET /api/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n"
                                    "Connection: close\r\n\r\n".encode())
        assert status_of(data) == 200
        # ... still get 413 on the head for a body beyond the dashboard's limit.
        data, closed = exchange(address, f"POST /api/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n"
                                         "Content-Length: 120000\r\n\r\n".encode())
        assert closed and status_of(data) == 413
