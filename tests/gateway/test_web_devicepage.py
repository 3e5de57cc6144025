"""The device page (/device/NAME) in a real headless Chromium against a real
gateway on a socat pair: the hex view shows what the device side writes, a
line typed into the write console reaches the device side, and the console
is absent -- and the write refused by the server -- for a read-only device
and when nobody is logged in.

Skipped where Chromium, chromedriver or selenium are missing.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import select
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import mqtt_fixtures as fx  # registered by this folder's conftest
import pytest
from browser import AVAILABLE, chromium
from mqtt_fixtures import free_port

from gateway.config import GatewayConfig
from gateway.passwords import hash_password
from gateway.socat import SocatPair

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(not AVAILABLE, reason="chromium, chromedriver and selenium are needed")]

if AVAILABLE:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

TIMEOUT = 20.0
SHOTS = Path("/tmp/dash-shots")
USERS = f'[web.users]\nalice = "{hash_password("s3cret", iterations=1000)}"\n'
SIZES = [(1366, 900), (390, 844)]


def make_config(tmp_path: Path, pair: SocatPair, web: str = "") -> GatewayConfig:
    return fx.web_gateway_config(
        tmp_path, fx.device_toml("thermo", pair.dev, f'baudrate = 19200\ntcp = "127.0.0.1:{free_port(0)}"'),
        fx.device_toml("meter", tmp_path / "no-such-tty", "read_only = true"), web=web)


def post_write(address: tuple[str, int], device: str, body: dict[str, Any], user: str | None = None,
               headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection(*address, timeout=TIMEOUT)
    try:
        sent = {"Content-Type": "application/json"} | (headers or {})
        if user is not None:
            sent["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
            # As a browser does: a GET first. The server reads no body before
            # it knows its sender (413 for a POST with new credentials).
            conn.request("GET", f"/api/device/{device}", headers={"Authorization": sent["Authorization"]})
            conn.getresponse().read()
        conn.request("POST", f"/api/device/{device}/write", json.dumps(body), sent)
        response = conn.getresponse()
        text = response.read()
        return response.status, json.loads(text) if text.startswith(b"{") else {}
    finally:
        conn.close()


def read_until(fd: int, wanted: bytes, timeout: float = TIMEOUT) -> bytes:
    """What the device side reads, until ``wanted`` is in it (or the deadline)."""
    got = b""
    deadline = time.monotonic() + timeout
    while wanted not in got:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{wanted!r} never reached the device side (got {got!r})")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            got += os.read(fd, 4096)
    return got


def hex_text(driver: Any) -> str:
    return " ".join(driver.find_element(By.ID, "hex").text.split())


def shoot(driver: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SHOTS / name))


def no_errors_in(driver: Any) -> None:
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []


@pytest.mark.parametrize("size", SIZES, ids=["desktop", "phone"])
def test_hex_view_console_clients_and_settings(tmp_path: Path, pair: SocatPair, size: tuple[int, int]) -> None:
    width, height = size
    with fx.running_gateway(make_config(tmp_path, pair, USERS), TIMEOUT) as (gateway, _), \
            chromium(*size) as driver:
        assert gateway.web is not None
        host, port = gateway.web.address
        driver.set_window_size(width, height)
        fd = pair.open_peer()
        tcp = socket.create_connection(tuple(gateway.bridges["thermo"].address), timeout=TIMEOUT)
        try:
            # A reading before the page opens: the backlog shows it.
            os.write(fd, b"temp=21\n")
            driver.get(f"http://alice:s3cret@{host}:{port}/device/thermo")
            wait = WebDriverWait(driver, TIMEOUT)
            wait.until(lambda d: d.find_element(By.ID, "link").text == "live")
            wait.until(lambda d: "74 65 6d 70 3d 32 31 0a" in hex_text(d))
            # Live, after the page watches.
            os.write(fd, b"temp=42.5\n")
            wait.until(lambda d: "74 65 6d 70 3d 34 32 2e" in hex_text(d))
            assert "temp=42." in driver.find_element(By.ID, "hex").text  # the ASCII column
            assert driver.find_elements(By.CSS_SELECTOR, "#hex .chunk.rx")
            # The console: a line typed, sent with CR LF, arrives on the device side.
            Select(driver.find_element(By.ID, "eol")).select_by_value("crlf")
            box = driver.find_element(By.ID, "data")
            box.send_keys("hello gateway")
            box.submit()
            read_until(fd, b"hello gateway\r\n")
            wait.until(lambda d: d.find_element(By.ID, "sent").text == "sent 15 bytes")
            wait.until(lambda d: "68 65 6c 6c 6f" in hex_text(d))  # the TX side of the view
            assert driver.find_elements(By.CSS_SELECTOR, "#hex .chunk.tx")
            # Hex mode, with the keyboard only: Enter submits the form.
            Select(driver.find_element(By.ID, "mode")).select_by_value("hex")
            box.clear()
            box.send_keys("01 02 ff\n")
            read_until(fd, b"\x01\x02\xff")
            # The TCP client and this page's WebSocket are listed; the settings are the port's.
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#clients tr[data-kind="TCP"]'))
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#clients tr[data-kind="WebSocket"]'))
            # The page re-renders these tables when the port's state comes in
            # (it is sent after the pass's answers): an element found may be
            # replaced before its text is read, so read it inside a wait.
            rerendered = WebDriverWait(driver, TIMEOUT, ignored_exceptions=(StaleElementReferenceException,))
            rerendered.until(lambda d: "127.0.0.1:" in d.find_element(
                By.CSS_SELECTOR, '#clients tr[data-kind="TCP"]').text)
            rerendered.until(lambda d: d.find_element(
                By.CSS_SELECTOR, '#settings dd[data-setting="baudrate"]').text == "19200")
            assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
            # Every card inside the screen (a grid track widened by a long hex line would not be).
            assert driver.execute_script(
                "return [...document.querySelectorAll('main .card')].every("
                "c => c.getBoundingClientRect().right <= window.innerWidth + 0.5)")
            shoot(driver, f"device-{width}.png")
            no_errors_in(driver)
        finally:
            tcp.close()
            os.close(fd)


def test_parse_errors_are_listed_with_their_bytes_in_hex(tmp_path: Path, pair: SocatPair) -> None:
    with fx.running_gateway(make_config(tmp_path, pair, USERS), TIMEOUT) as (gateway, _), chromium() as driver:
        assert gateway.web is not None
        host, port = gateway.web.address
        fd = pair.open_peer()
        try:
            os.write(fd, b"no equals sign here\n")
            # The dark theme, for the screenshot.
            driver.set_window_size(1366, 900)
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                                   {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
            driver.get(f"http://alice:s3cret@{host}:{port}/device/thermo")
            wait = WebDriverWait(driver, TIMEOUT)
            wait.until(lambda d: "6e 6f 20 65 71" in d.find_element(By.ID, "errors").text)
            wait.until(lambda d: "6e 6f 20 65 71" in hex_text(d))
            shoot(driver, "device-dark-errors.png")
        finally:
            os.close(fd)
        no_errors_in(driver)


@pytest.mark.parametrize("size", SIZES, ids=["desktop", "phone"])
def test_no_console_for_a_read_only_device_and_the_server_refuses(tmp_path: Path, pair: SocatPair,
                                                                  size: tuple[int, int]) -> None:
    with fx.running_gateway(make_config(tmp_path, pair, USERS), TIMEOUT) as (gateway, _), \
            chromium(*size) as driver:
        assert gateway.web is not None
        host, port = gateway.web.address
        driver.get(f"http://alice:s3cret@{host}:{port}/device/meter")
        wait = WebDriverWait(driver, TIMEOUT)
        wait.until(lambda d: "read-only" in d.find_element(By.ID, "console-why").text)
        assert driver.find_elements(By.ID, "console") == []
        assert driver.find_elements(By.ID, "data") == []
        wait.until(lambda d: "not found" in d.find_element(By.ID, "reason").text)  # offline, and why
        shoot(driver, f"device-readonly-{size[0]}.png")
        no_errors_in(driver)
    # Logged in, but read-only: 403 from the server, whatever a page shows.
    with fx.running_gateway(make_config(tmp_path, pair, USERS), TIMEOUT) as (gateway, _):
        assert gateway.web is not None
        address = gateway.web.address
        status, body = post_write(address, "meter", {"data": "x"}, user="alice:s3cret")
        assert status == 403 and "read-only" in body["error"]
        assert gateway.web.device_api.refused == 1 and gateway.web.device_api.writes == 0


def test_no_console_and_no_write_without_a_login(tmp_path: Path, pair: SocatPair) -> None:
    # Without [web.users] nobody is known: no console, and the server refuses.
    with fx.running_gateway(make_config(tmp_path, pair), TIMEOUT) as (gateway, _), chromium() as driver:
        assert gateway.web is not None
        driver.get(gateway.web.url + "device/thermo")
        wait = WebDriverWait(driver, TIMEOUT)
        wait.until(lambda d: "[web.users]" in d.find_element(By.ID, "console-why").text)
        assert driver.find_elements(By.ID, "console") == []
        fd = pair.open_peer()
        try:
            status, body = post_write(gateway.web.address, "thermo", {"data": "x", "eol": "lf"})
            assert status == 403 and "[web.users]" in body["error"]
            # Nothing reached the device: a write that does get through shows up first.
            gateway.links["thermo"].serial.write(b"marker\n")
            assert read_until(fd, b"marker\n") == b"marker\n"
        finally:
            os.close(fd)
        no_errors_in(driver)


def test_the_write_api_refuses_strangers_and_other_origins(tmp_path: Path, pair: SocatPair,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="gateway.web.devicepage")
    with fx.running_gateway(make_config(tmp_path, pair, USERS), TIMEOUT) as (gateway, _):
        assert gateway.web is not None
        address = gateway.web.address
        fd = pair.open_peer()
        try:
            assert post_write(address, "thermo", {"data": "x"})[0] == 401  # no credentials
            assert post_write(address, "thermo", {"data": "x"}, user="alice:wrong")[0] == 401
            status, _ = post_write(address, "thermo", {"data": "x"}, user="alice:s3cret",
                                   headers={"Origin": "http://evil.example"})
            assert status == 403
            status, _ = post_write(address, "thermo", {"data": "x"}, user="alice:s3cret",
                                   headers={"Content-Type": "text/plain"})
            assert status == 415
            status, body = post_write(address, "thermo", {"data": "zz", "mode": "hex"}, user="alice:s3cret")
            assert status == 400 and "hex" in body["error"]
            status, body = post_write(address, "ghost", {"data": "x"}, user="alice:s3cret")
            assert status == 404
            # Then a good one: the only bytes that reach the device.
            status, body = post_write(address, "thermo", {"data": "ok", "eol": "lf"}, user="alice:s3cret")
            assert status == 200 and body == {"sent": 3}
            assert read_until(fd, b"ok\n") == b"ok\n"
            # Who wrote is logged; the refused ones wrote nothing.
            assert [r.getMessage() for r in caplog.records if "written from the dashboard" in r.getMessage()] \
                == ["thermo: 3 bytes written from the dashboard by alice (127.0.0.1)"]
        finally:
            os.close(fd)


@pytest.fixture(autouse=True, scope="module")
def _clean_shots() -> None:
    shutil.rmtree(SHOTS / "none", ignore_errors=True)


def test_each_dashboard_card_links_to_its_device_page_by_keyboard(tmp_path: Path, pair: SocatPair) -> None:
    with fx.running_gateway(make_config(tmp_path, pair), TIMEOUT) as (gateway, _), chromium(390, 844) as driver:
        assert gateway.web is not None
        driver.get(gateway.web.url)
        wait = WebDriverWait(driver, TIMEOUT)
        link = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, 'section[data-device="thermo"] .name a'))
        link.send_keys(Keys.ENTER)  # focused and followed with the keyboard
        wait.until(lambda d: d.current_url.endswith("/device/thermo"))
        wait.until(lambda d: d.find_element(By.ID, "link").text == "live")
        assert driver.find_element(By.ID, "title").text == "thermo"
        back = driver.find_element(By.ID, "back")
        back.send_keys(Keys.ENTER)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'section[data-device="meter"]'))
        no_errors_in(driver)


# The WCAG 2.1 contrast ratio of every text element's colour against the
# first opaque background behind it (section 1.4.3: 4.5:1 for normal text).
CONTRAST_JS = """
function rgb(s) { const m = s.match(/[\\d.]+/g).map(Number); return m.length > 3 ? m : m.concat([1]); }
function lum([r, g, b]) {
  const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}
function bg(el) {
  for (; el; el = el.parentElement) {
    const c = rgb(getComputedStyle(el).backgroundColor);
    if (c[3] > 0.99) return c;
  }
  return [255, 255, 255, 1];
}
const bad = [];
for (const el of document.querySelectorAll(arguments[0])) {
  if (!el.offsetParent || el.disabled || !el.textContent.trim()) continue;
  const fg = lum(rgb(getComputedStyle(el).color)), back = lum(bg(el));
  const ratio = (Math.max(fg, back) + 0.05) / (Math.min(fg, back) + 0.05);
  if (ratio < 4.5) bad.push(el.tagName + "." + el.className + " '" + el.textContent.trim().slice(0, 20) + "' " + ratio.toFixed(2));
}
return bad;
"""
TEXT = ("#hex .when span, #hex .hx, #hex .asc, .dir, .legend, .note, th, td, dt, dd, label, button, "
        "select, #sent, #back, #title, .pill, ol.errors li span, .bytes")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_on_the_device_page_meets_wcag_aa_contrast(tmp_path: Path, pair: SocatPair, theme: str) -> None:
    with fx.running_gateway(make_config(tmp_path, pair, USERS), TIMEOUT) as (gateway, _), chromium() as driver:
        assert gateway.web is not None
        host, port = gateway.web.address
        driver.set_window_size(1366, 900)
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                               {"features": [{"name": "prefers-color-scheme", "value": theme}]})
        fd = pair.open_peer()
        try:
            os.write(fd, b"temp=1\nbroken\n")
            driver.get(f"http://alice:s3cret@{host}:{port}/device/thermo")
            wait = WebDriverWait(driver, TIMEOUT)
            wait.until(lambda d: "62 72 6f 6b 65 6e" in d.find_element(By.ID, "errors").text)
            box = driver.find_element(By.ID, "data")
            box.send_keys("x\n")
            read_until(fd, b"x\n")
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#hex .chunk.tx"))
            wait.until(lambda d: d.find_element(By.ID, "sent").text.startswith("sent"))
        finally:
            os.close(fd)
        assert driver.execute_script(CONTRAST_JS, TEXT) == []
