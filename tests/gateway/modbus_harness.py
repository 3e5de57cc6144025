"""Shared by the Modbus gateway tests: a pymodbus RTU slave on a socat pair,
and a gateway whose ``profile = "modbus"`` device is the master on the other end.

Loaded by this folder's conftest (as ``modbus_harness``): with
``--import-mode=importlib`` test modules cannot import each other.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gateway.config import GatewayConfig, parse_config
from gateway.readings import check_profile
from gateway.socat import SocatPair

SLAVE = Path(__file__).with_name("modbus_slave.py")
TIMEOUT = 15.0


class Slave:
    """``modbus_slave.py`` (pymodbus's RTU server) on ``port``, once it says ready."""

    def __init__(self, port: Path, *args: str) -> None:
        self.port = port
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Slave:
        process = subprocess.Popen([sys.executable, str(SLAVE), str(self.port), *self.args],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout is not None
        deadline = time.monotonic() + TIMEOUT
        seen = b""
        while b"ready" not in seen:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([process.stdout], [], [], max(left, 0))
            chunk = os.read(process.stdout.fileno(), 4096) if ready else b""
            if not chunk:
                process.kill()
                _, err = process.communicate(timeout=TIMEOUT)
                raise RuntimeError(f"the Modbus slave did not start: {err.decode(errors='replace')[-800:]}")
            seen += chunk
        self.process = process
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.communicate(timeout=TIMEOUT)


@contextmanager
def rtu_bus(directory: Path, *slave_args: str) -> Iterator[tuple[SocatPair, Slave]]:
    """A socat pair with the slave on its peer end; the gateway opens ``pair.dev``."""
    pair = SocatPair(directory, "bus").start()
    slave = Slave(pair.peer, *slave_args)
    try:
        slave.start()
        yield pair, slave
    finally:
        slave.stop()
        pair.unplug()


def modbus_config(state_dir: Path, port: Path, *, modbus_tcp: int | None = None, modbus: str = "",
                  extra: str = "") -> GatewayConfig:
    """A gateway with one ``profile = "modbus"`` device "bus" at 115200 8N1."""
    text = "\n".join([
        "[gateway]", 'name = "test"', f"state_dir = {json.dumps(str(state_dir))}", extra, "",
        "[[device]]", 'name = "bus"', f"port = {json.dumps(str(port))}", "baudrate = 115200",
        'profile = "modbus"',
        f'modbus_tcp = "127.0.0.1:{modbus_tcp}"' if modbus_tcp is not None else "",
        "[device.modbus]", modbus, "",
    ])
    return parse_config(text, "<test>", check_profile=check_profile)


@contextmanager
def polled_over_mqtt(tmp_path: Path, modbus: str, topics: list[str], *slave_args: str,
                     mqtt: str = "") -> Iterator[tuple[Any, Any, Any, int]]:
    """A mosquitto, a subscriber to ``topics``, the slave and the gateway publishing to it.

    Yields ``(gateway, bus log, subscriber, broker port)``; the MQTT prefix is
    ``test/gw`` and ``mqtt`` adds keys to ``[mqtt]``.  The subscriber's
    messages stay readable after the block (it is closed, its list kept).
    """
    import mqtt_fixtures as fx  # registered before this module by the conftest

    broker = fx.Broker(tmp_path / "broker").start()
    try:
        subscriber = fx.Subscriber(broker.port, topics)
        try:
            section = f'[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\ntopic_prefix = "test/gw"\n{mqtt}'
            with rtu_bus(tmp_path, *slave_args) as (pair, _slave):
                config = modbus_config(tmp_path / "state", pair.dev, modbus=modbus, extra=section)
                with fx.running_gateway(config, TIMEOUT) as (gateway, bus):
                    yield gateway, bus, subscriber, broker.port
        finally:
            subscriber.close()
    finally:
        broker.stop()
