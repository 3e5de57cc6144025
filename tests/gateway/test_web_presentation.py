"""``[device.fields.NAME]`` presentation: validation, /api/devices, the
thresholds counted in /metrics, and /api/history for all devices at once.

HTTP against a real gateway on a socat pair; waits on the gateway's events.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest

from gateway.config import ConfigError, GatewayConfig
from gateway.config.presentation import FieldPresentation
from gateway.socat import SocatPair

TIMEOUT = 10.0
pytestmark = pytest.mark.timeout(60)

FIELDS = """
[device.fields.temp]
label = "Temperature"
unit = "°C"
decimals = 1
warn_above = 30
warn_below = 5
min = -10
max = 50

[device.fields.uptime]
chart = false
"""


def make_config(tmp_path: Path, port: str, fields: str = FIELDS) -> GatewayConfig:
    return fx.web_gateway_config(tmp_path, fx.device_toml("thermo", port, fields), name="lab")


def problems(tmp_path: Path, fields: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        make_config(tmp_path, "/dev/ttyUSB0", fields)
    return [f"{p.key}: {p.message}" for p in info.value.issues]


def test_field_presentation_is_read_from_the_config(tmp_path: Path) -> None:
    device = make_config(tmp_path, "/dev/ttyUSB0").device("thermo")
    temp = device.presentation("temp")
    assert temp == FieldPresentation(label="Temperature", unit="°C", decimals=1, warn_above=30.0,
                                     warn_below=5.0, min=-10.0, max=50.0)
    assert device.presentation("uptime") == FieldPresentation(chart=False)
    assert device.presentation("hum") is None
    assert temp.as_dict() == {"label": "Temperature", "unit": "°C", "min": -10.0, "max": 50.0,
                              "decimals": 1, "warn_above": 30.0, "warn_below": 5.0}


@pytest.mark.parametrize(("fields", "expected"), [
    ('[device.fields.t]\nunit = 5\n', "fields.t.unit: must be a string"),
    ('[device.fields.t]\nchart = "yes"\n', "fields.t.chart: must be a boolean"),
    ('[device.fields.t]\nmin = 5\nmax = 1\n', "fields.t.min: must be less than max (1)"),
    ('[device.fields.t]\nwarn_below = 9\nwarn_above = 3\n', "fields.t.warn_below: must not be greater"),
    ('[device.fields.t]\ndecimals = 11\n', "fields.t.decimals: must be at most 10"),
    ('[device.fields.t]\nwarn_above = nan\n', "fields.t.warn_above: must be a finite number"),
    ('[device.fields.t]\nunits = "V"\n', 'fields.t.units: unknown key, did you mean "unit"?'),
    ('[device.fields]\nt = 3\n', "fields.t: must be a table"),
])
def test_bad_field_presentation_is_reported(tmp_path: Path, fields: str, expected: str) -> None:
    found = problems(tmp_path, fields)
    assert any(p.startswith(expected) for p in found), found


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        assert response.headers["Content-Type"] == "application/json"
        return json.loads(response.read())


def test_api_shows_presentation_history_for_all_and_metrics_count_thresholds(tmp_path: Path,
                                                                            pair: SocatPair) -> None:
    with fx.running_gateway(make_config(tmp_path, str(pair.dev)), TIMEOUT) as (gateway, bus):
        base = fx.web_base(gateway)
        fd = pair.open_peer()
        try:
            os.write(fd, b"temp=20 uptime=1\ntemp=31.5 uptime=2\ntemp=2 uptime=3\ntemp=40 uptime=4\n")
            bus.wait("reading", count=4)
        finally:
            os.close(fd)
        devices = get_json(base + "/api/devices")["devices"]  # type: ignore[index]
        assert devices[0]["fields"]["temp"]["unit"] == "°C"
        assert devices[0]["fields"]["uptime"] == {"chart": False}
        history = get_json(base + "/api/history?limit=3")
        assert list(history) == ["thermo"]  # type: ignore[arg-type]
        assert [r["fields"]["temp"] for r in history["thermo"]] == [31.5, 2, 40]  # type: ignore[index]
        with urllib.request.urlopen(base + "/metrics", timeout=TIMEOUT) as response:
            metrics = response.read().decode().splitlines()
        assert 'gateway_field_warnings_total{device="thermo",field="temp",direction="above"} 2' in metrics
        assert 'gateway_field_warnings_total{device="thermo",field="temp",direction="below"} 1' in metrics
        assert "# TYPE gateway_field_warnings_total counter" in metrics
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(base + "/api/history?limit=0", timeout=TIMEOUT)
        assert bad.value.code == 400
