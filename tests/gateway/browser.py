"""Headless Chromium for the dashboard tests (test_web_dashboard, test_web_devicepage).

``chromium()`` starts one with a throw-away profile; given a width and
height it emulates a phone (viewport, pixel ratio, touch user agent).
The tests skip themselves where Chromium, chromedriver or selenium are
missing (``AVAILABLE``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
AVAILABLE = (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)
             and importlib.util.find_spec("selenium") is not None)


@contextmanager
def chromium(width: int | None = None, height: int | None = None) -> Iterator[Any]:
    from selenium import webdriver  # here: the module loads where selenium is missing
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    if width is not None:
        # A phone: its viewport, its pixel ratio and a touch user agent.
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0},
            "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Mobile Safari/537.36"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
