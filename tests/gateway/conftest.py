"""Makes tests/gateway/mqtt_fixtures.py, modbus_harness.py, browser.py, ptyio.py, gwrun.py and
wsclient.py importable by name, and gives the tests a socat pair for a device named "thermo" (``pair``).

pytest runs with --import-mode=importlib, so test modules cannot import
each other; this conftest is imported before the tests of this folder and
loads the shared helpers once.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.socat import SocatPair

for _name in ("mqtt_fixtures", "modbus_harness", "browser", "ptyio", "gwrun", "wsclient"):
    if _name not in sys.modules:
        _spec = importlib.util.spec_from_file_location(_name, Path(__file__).with_name(f"{_name}.py"))
        assert _spec is not None and _spec.loader is not None
        _module = importlib.util.module_from_spec(_spec)
        sys.modules[_name] = _module
        _spec.loader.exec_module(_module)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[SocatPair]:
    """A virtual serial pair; the gateway opens ``pair.dev``, the test the other end."""
    socat = SocatPair(tmp_path, "thermo").start()
    yield socat
    socat.unplug()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "modbus(keys): [device.modbus] keys of the Modbus tests' gateway")
