"""``gateway demo`` end to end: it prints the dashboard's URL, the dashboard
answers with the five simulated devices and their readings (the Modbus
meter also over Modbus TCP), MQTT is off
unless asked for, and SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from pymodbus.client import ModbusTcpClient

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 15.0
pytestmark = pytest.mark.timeout(60)


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        return json.loads(response.read())


def test_demo_serves_the_dashboard_and_prints_its_url() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("NOTIFY_SOCKET", None)
    demo = subprocess.Popen([sys.executable, "-m", "gateway", "demo", "--web-port", "0", "--tcp-base", "0",
                             "--udp-port", "0", "--interval", "0.05"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert demo.stdout is not None
        fd = demo.stdout.fileno()
        seen = b""
        deadline = time.monotonic() + TIMEOUT
        while b"Ctrl-C" not in seen:
            left = deadline - time.monotonic()
            assert left > 0 and select.select([fd], [], [], left)[0], f"demo printed: {seen!r}"
            chunk = os.read(fd, 65536)
            assert chunk, f"demo exited: {seen!r}"
            seen += chunk
        out = seen.decode()
        found = re.search(r"(http://127\.0\.0\.1:\d+/)\s+the live dashboard", out)
        assert found, out
        assert "mqtt://" not in out  # no broker named: no uplink
        url = found.group(1)
        devices = get_json(url + "api/devices")
        assert isinstance(devices, dict) and devices["gateway"] == "demo"
        assert [d["name"] for d in devices["devices"]] == ["env", "logger", "gps", "plug", "meter"]
        assert all(d["online"] for d in devices["devices"])
        # The simulators write every 50 ms: wait for a reading in the history.
        deadline = time.monotonic() + TIMEOUT
        while not get_json(url + "api/readings?device=env&limit=1"):
            assert time.monotonic() < deadline, "no reading from the simulated env device"
        with urllib.request.urlopen(url, timeout=TIMEOUT) as page:
            assert b"dashboard.js" in page.read()
        # The fifth device: a simulated Modbus energy meter, polled, and served as Modbus TCP.
        modbus = re.search(r"modbus-tcp://127\.0\.0\.1:(\d+)\s+meter", out)
        assert modbus, out
        client = ModbusTcpClient("127.0.0.1", port=int(modbus.group(1)), timeout=TIMEOUT, retries=0)
        assert client.connect()
        try:
            words = client.read_input_registers(0, count=2, device_id=1).registers
            assert 210 <= struct.unpack(">f", struct.pack(">HH", *words))[0] <= 250
        finally:
            client.close()
        deadline = time.monotonic() + TIMEOUT
        while not (meter := get_json(url + "api/readings?device=meter&limit=1")):
            assert time.monotonic() < deadline, "no reading polled from the simulated meter"
        assert set(meter[0]["fields"]) == {"voltage", "current", "power", "energy_kwh"}  # type: ignore[index]
    finally:
        demo.send_signal(signal.SIGTERM)
        code = demo.wait(TIMEOUT)
    assert code == 0
