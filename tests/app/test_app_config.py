"""Config: get/set with defaults, save then load, the load/save events."""

from __future__ import annotations

from typing import Any

from circuits import BaseComponent, Event, Manager, handler
from circuits.app import Config
from circuits.app.config import Load, Save


class Tape(BaseComponent):
    def init(self, *args: Any, **kwargs: Any) -> None:
        self.names: list[str] = []

    @handler(channel="*", priority=100)
    def _record(self, event: Event, *args: Any, **kwargs: Any) -> None:
        self.names.append(event.name)


def test_get_set_and_defaults(tmp_path):
    config = Config(str(tmp_path / "app.ini"), defaults={"port": 8000})
    assert config.get("web", "port") is None  # no such section yet
    assert config.get("web", "host", "localhost") == "localhost"
    config.set("web", "port", 8080)
    config.set("web", "debug", "yes")
    assert config.get("web", "port") == "8080"
    assert config.getint("web", "port") == 8080
    assert config.getboolean("web", "debug") is True
    assert config.getfloat("web", "missing", 1.5) == 1.5
    assert config.has_section("web") and config.has_option("web", "port")
    assert config.sections() == ["web"]
    assert dict(config.items("web"))["debug"] == "yes"
    assert config.items("nope") == []


def test_save_and_load_through_events(tmp_path):
    path = tmp_path / "conf" / "app.ini"
    app = Manager()
    tape = Tape().register(app)
    config = Config(str(path)).register(app)
    config.set("db", "url", "sqlite:///x.db")
    config.set("db", "percent", "100%")  # no interpolation surprises
    app.fire(Save())
    app.flush()
    assert path.read_text().startswith("[db]\n")
    assert "save_success" in tape.names
    assert not (tmp_path / "conf" / "app.ini.tmp").exists()

    other = Config(str(path), channel="config2").register(app)
    value = app.fire(Load(), "config2")
    app.flush()
    assert value.value == [str(path)]
    assert other.get("db", "url") == "sqlite:///x.db"
    assert other.get("db", "percent") == "100%"


def test_loading_a_missing_file_keeps_the_defaults(tmp_path):
    app = Manager()
    config = Config(str(tmp_path / "none.ini"), defaults={"level": "info"}).register(app)
    app.fire(Load())
    app.flush()
    config.add_section("log")
    assert config.get("log", "level") == "info"
