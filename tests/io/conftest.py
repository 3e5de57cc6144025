"""Fixtures for the I/O tests: an app to drive, and a socat null-modem pair."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from circuits import Manager
from circuits.core.events import stopped

from .helpers import Recorder, Socat


@pytest.fixture
def app() -> Iterator[Manager]:
    manager = Manager()
    yield manager
    # What Manager.stop() fires: components close their descriptors.
    manager.fire(stopped(manager))
    for _ in range(100):
        if not manager.root._circuits_queue:
            break
        manager.tick(0)
    manager.loop.close()


@pytest.fixture
def recorder(app: Manager) -> Recorder:
    return Recorder().register(app)


@pytest.fixture
def socat(tmp_path: Path) -> Iterator[Socat]:
    pair = Socat(tmp_path)
    pair.start()
    yield pair
    pair.stop()
