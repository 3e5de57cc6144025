"""/api/device/NAME lists the clients of every kind with their address,
since when and bytes each way: real RFC 2217 and Modbus TCP listeners, raw
sockets as their clients (a client need not speak the protocol to be listed)."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import modbus_harness as mh  # registered by this folder's conftest
import mqtt_fixtures as fx
import pytest

from gateway.config import parse_config
from gateway.readings import check_profile
from gateway.socat import SocatPair

pytestmark = pytest.mark.timeout(120)
TIMEOUT = 20.0


def device_info(address: tuple[str, int], name: str) -> dict[str, Any]:
    conn = http.client.HTTPConnection(*address, timeout=TIMEOUT)
    try:
        conn.request("GET", f"/api/device/{name}")
        response = conn.getresponse()
        assert response.status == 200
        return json.loads(response.read())
    finally:
        conn.close()


def wait_for_client(address: tuple[str, int], name: str, kind: str,
                    test: Callable[[dict[str, Any]], bool] = lambda c: True) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for client in device_info(address, name)["clients"]:
            if client["kind"] == kind and test(client):
                return client
        time.sleep(0.02)
    raise AssertionError(f"no {kind} client listed for {name}")


def test_rfc2217_clients_are_listed(tmp_path: Path, pair: SocatPair) -> None:
    text = f"""
[gateway]
name = "greenhouse"
state_dir = {json.dumps(str(tmp_path / "state"))}

[web]
listen = "127.0.0.1:{fx.free_port(0)}"

[[device]]
name = "thermo"
port = {json.dumps(str(pair.dev))}
profile = "raw"
rfc2217 = "127.0.0.1:{fx.free_port(0)}"
"""
    config = parse_config(text, "<test>", check_profile=check_profile)
    with fx.running_gateway(config, TIMEOUT) as (gateway, _):
        assert gateway.web is not None
        listener = gateway.rfc2217["thermo"].address
        before = time.time()
        with socket.create_connection(tuple(listener), timeout=TIMEOUT) as client:
            # The Telnet negotiation the server starts with is counted as sent to it.
            entry = wait_for_client(gateway.web.address, "thermo", "RFC 2217", lambda c: c["bytes_to"] > 0)
            assert entry["address"] == f"127.0.0.1:{client.getsockname()[1]}"
            assert before <= entry["since"] <= time.time()
        info = device_info(gateway.web.address, "thermo")
        assert info["settings"]["source"] == "port" and info["read_only"] is False


def test_modbus_tcp_clients_are_listed(tmp_path: Path, pair: SocatPair) -> None:
    port = fx.free_port(0)
    web = f'\n[web]\nlisten = "127.0.0.1:{fx.free_port(0)}"\n'
    config = mh.modbus_config(tmp_path / "state", pair.dev, modbus_tcp=port, extra=web)
    with fx.running_gateway(config, TIMEOUT) as (gateway, _):
        assert gateway.web is not None
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as client:
            entry = wait_for_client(gateway.web.address, "bus", "Modbus TCP")
            assert entry["address"] == f"127.0.0.1:{client.getsockname()[1]}"
            assert entry["bytes_from"] == 0 and entry["since"] is not None
