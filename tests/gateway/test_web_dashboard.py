"""The dashboard in a real headless Chromium against a real gateway on a
socat pair: a value written on the device side shows up live in the
device's card, and a phone-size screenshot renders.

Skipped where Chromium, chromedriver or selenium are missing (the
bootstrap script installs them; see scripts/test.sh).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest
import serial  # pyserial's rfc2217:// client, the real peer of the RFC 2217 card test
from browser import CHROMEDRIVER, CHROMIUM, chromium
from mqtt_fixtures import free_port

from gateway.app import Gateway
from gateway.config import GatewayConfig, parse_config
from gateway.passwords import hash_password
from gateway.readings import check_profile
from gateway.socat import SocatPair

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

TIMEOUT = 20.0

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.skipif(not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
                       reason="chromium and chromedriver are needed"),
]


def make_config(tmp_path: Path, pair: SocatPair, web: str = "") -> GatewayConfig:
    return fx.web_gateway_config(tmp_path, fx.device_toml("thermo", pair.dev), web=web)


@contextmanager
def running(config: GatewayConfig) -> Iterator[Gateway]:
    with fx.running_gateway(config, TIMEOUT) as (gateway, _):
        yield gateway


def field_text(driver: Any, device: str, field: str) -> str:
    cells = driver.find_elements(By.CSS_SELECTOR, f'section[data-device="{device}"] dd[data-field="{field}"]')
    return cells[0].text if cells else ""


def test_a_value_written_to_the_serial_port_shows_up_live_in_the_browser(tmp_path: Path, pair: SocatPair) -> None:
    with running(make_config(tmp_path, pair)) as gateway, chromium() as driver:
        assert gateway.web is not None
        driver.get(gateway.web.url)
        wait = WebDriverWait(driver, TIMEOUT)
        # Loaded from /api/devices, then live: the card is there and says online.
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'section[data-device="thermo"][data-online="1"]'))
        wait.until(lambda d: d.find_element(By.ID, "link").text == "live")
        assert driver.title == "greenhouse"
        fd = pair.open_peer()
        try:
            os.write(fd, b"temp=42.5 hum=40\n")
            wait.until(lambda d: field_text(d, "thermo", "temp") == "42.5")
            assert field_text(driver, "thermo", "hum") == "40"
            os.write(fd, b"temp=43.25 hum=41\n")  # a second value: a chart has two points
            wait.until(lambda d: field_text(d, "thermo", "temp") == "43.25")
        finally:
            os.close(fd)
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, 'section[data-device="thermo"] .readings').text == "2")
        charts = driver.find_elements(By.CSS_SELECTOR, 'section[data-device="thermo"] .chart')
        assert len(charts) == 2  # one per numeric field
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []  # nothing failed to load: no CDN, no missing asset


def test_the_dashboard_renders_on_a_phone_sized_screen(tmp_path: Path, pair: SocatPair) -> None:
    with running(make_config(tmp_path, pair)) as gateway, chromium(390, 844) as driver:
        assert gateway.web is not None
        fd = pair.open_peer()
        try:
            for i in range(30):  # some history, so the charts have a curve
                os.write(fd, f"temp={20 + (i % 7) * 0.5} hum={40 + i % 5}\n".encode())
            driver.get(gateway.web.url)
            wait = WebDriverWait(driver, TIMEOUT)
            wait.until(lambda d: field_text(d, "thermo", "temp") != "")
        finally:
            os.close(fd)
        # Nothing wider than the screen: no sideways scrolling on a phone.
        widths = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1]
        shot = tmp_path / "phone.png"
        assert driver.save_screenshot(str(shot))
        data = shot.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000


def test_the_dashboard_works_behind_basic_auth(tmp_path: Path, pair: SocatPair) -> None:
    users = f'[web.users]\nalice = "{hash_password("s3cret", iterations=1000)}"\n'
    with running(make_config(tmp_path, pair, users)) as gateway, chromium() as driver:
        assert gateway.web is not None and gateway.web.guard is not None
        host, port = gateway.web.address
        # Credentials in the address stand in for the browser's login prompt;
        # the browser then sends them with every request, /ws included.
        driver.get(f"http://alice:s3cret@{host}:{port}/")
        wait = WebDriverWait(driver, TIMEOUT)
        wait.until(lambda d: d.find_element(By.ID, "link").text == "live")
        fd = pair.open_peer()
        try:
            os.write(fd, b"temp=42.5\n")
            wait.until(lambda d: field_text(d, "thermo", "temp") == "42.5")
        finally:
            os.close(fd)
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
        assert gateway.web.guard.checks == 1  # one pbkdf2 check, then remembered


PRESENTED = """
[device.fields.temp]
label = "Temperature"
unit = "°C"
decimals = 1
warn_above = 30
"""


def make_presented_config(tmp_path: Path, pair: SocatPair) -> GatewayConfig:
    return fx.web_gateway_config(tmp_path, fx.device_toml("thermo", pair.dev, PRESENTED),
                                 fx.device_toml("ghost", tmp_path / "no-such-tty"))


@pytest.mark.parametrize("size", [(1366, 900), (390, 844)], ids=["desktop", "phone"])
def test_units_thresholds_parse_problems_and_the_offline_reason(tmp_path: Path, pair: SocatPair,
                                                                size: tuple[int, int]) -> None:
    width, height = size
    with running(make_presented_config(tmp_path, pair)) as gateway, chromium(*size) as driver:
        assert gateway.web is not None
        driver.set_window_size(width, height)
        driver.get(gateway.web.url)
        wait = WebDriverWait(driver, TIMEOUT)
        wait.until(lambda d: d.find_element(By.ID, "link").text == "live")
        fd = pair.open_peer()
        try:
            os.write(fd, b"temp=21.25 hum=40\n")
            wait.until(lambda d: field_text(d, "thermo", "temp") == "21.3 °C")  # decimals = 1, the unit
            cell = driver.find_element(By.CSS_SELECTOR, 'section[data-device="thermo"] dd[data-field="temp"]')
            assert cell.get_attribute("data-warn") is None
            label = driver.find_element(By.CSS_SELECTOR, 'section[data-device="thermo"] dl.fields dt').text
            assert label == "Temperature"
            os.write(fd, b"temp=35 hum=41\n")
            wait.until(lambda d: cell.get_attribute("data-warn") == "above")
            os.write(fd, b"temp=abc hum=42\n")
            wait.until(lambda d: cell.get_attribute("data-problem") == "1")
            assert "abc" in cell.text
        finally:
            os.close(fd)
        ghost = driver.find_element(By.CSS_SELECTOR, 'section[data-device="ghost"]')
        assert ghost.get_attribute("data-online") == "0"
        reason = ghost.find_element(By.CSS_SELECTOR, ".reason")
        wait.until(lambda d: "not found" in reason.text)
        assert "no-such-tty" in reason.text
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        shot = tmp_path / f"presented-{width}.png"
        assert driver.save_screenshot(str(shot))
        os.makedirs("/tmp/dash-shots", exist_ok=True)
        shutil.copy(shot, f"/tmp/dash-shots/presented-{width}.png")
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []


def test_hovering_a_chart_reads_the_time_and_value_of_a_point(tmp_path: Path, pair: SocatPair) -> None:
    with running(make_presented_config(tmp_path, pair)) as gateway, chromium() as driver:
        assert gateway.web is not None
        driver.set_window_size(1366, 900)
        fd = pair.open_peer()
        try:
            os.write(fd, b"temp=20\ntemp=22.5\n")
            driver.get(gateway.web.url)
            wait = WebDriverWait(driver, TIMEOUT)
            wait.until(lambda d: field_text(d, "thermo", "temp") == "22.5 °C")
        finally:
            os.close(fd)
        canvas = driver.find_element(By.CSS_SELECTOR, 'section[data-device="thermo"] .chart[data-field="temp"] canvas')
        # The newest point is at the right edge of the 5 min window: hover there.
        from selenium.webdriver.common.action_chains import ActionChains
        ActionChains(driver).move_to_element_with_offset(canvas, canvas.size["width"] // 2 - 2, 0).perform()
        tip = driver.find_element(By.CSS_SELECTOR, 'section[data-device="thermo"] .chart[data-field="temp"] .tip')
        wait.until(lambda d: tip.is_displayed())
        assert tip.text.endswith("22.5 °C")
        assert ":" in tip.text.split()[0]  # hh:mm:ss first
        rng = driver.find_element(By.CSS_SELECTOR, 'section[data-device="thermo"] .chart[data-field="temp"] .range')
        assert "min 20.0 °C" in rng.text and "last 22.5 °C" in rng.text
        assert driver.save_screenshot("/tmp/dash-shots/hover.png")


def test_rfc2217_clients_and_line_settings_show_on_the_card(tmp_path: Path, pair: SocatPair) -> None:
    port = free_port(0)
    gw = parse_config(f"""
[gateway]
name = "lab"
state_dir = {json.dumps(str(tmp_path / "state"))}

[web]
listen = "127.0.0.1:{free_port(0)}"

[[device]]
name = "esp"
port = {json.dumps(str(pair.dev))}
profile = "raw"
rfc2217 = "127.0.0.1:{port}"
""", "<test>", check_profile=check_profile)
    with running(gw) as gateway, chromium() as driver:
        assert gateway.web is not None
        driver.get(gateway.web.url)
        wait = WebDriverWait(driver, TIMEOUT)
        line = 'section[data-device="esp"] .rfc2217'
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, line).get_attribute("data-clients") == "0")
        with serial.serial_for_url(f"rfc2217://127.0.0.1:{port}", baudrate=9600, timeout=TIMEOUT) as remote:
            wait.until(lambda d: d.find_element(By.CSS_SELECTOR, line).get_attribute("data-baudrate") == "9600")
            element = driver.find_element(By.CSS_SELECTOR, line)
            assert element.get_attribute("data-clients") == "1"
            assert "9600 8N1" in element.text
            remote.baudrate = 19200
            wait.until(lambda d: d.find_element(By.CSS_SELECTOR, line).get_attribute("data-baudrate") == "19200")
        # The client left: the configured settings are back (rfc2217_revert), and the card says so.
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, line).get_attribute("data-clients") == "0")
        assert driver.find_element(By.CSS_SELECTOR, line).get_attribute("data-baudrate") == "115200"
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
