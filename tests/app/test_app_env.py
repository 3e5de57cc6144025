"""Environment: create the layout, load it, refuse a directory that is not one."""

from __future__ import annotations

import uuid
from typing import Any

from circuits import BaseComponent, Event, Manager, handler
from circuits.app import Environment
from circuits.app.env import VERSION_TEXT, Create, Load
from circuits.app.log import info


class Errors(BaseComponent):
    def init(self, *args: Any, **kwargs: Any) -> None:
        self.errors: list[BaseException] = []
        self.names: list[str] = []

    @handler("exception", channel="*")
    def _on_error(self, etype: Any, evalue: Any, tb: Any, handler: Any = None, fevent: Any = None) -> None:
        self.errors.append(evalue)

    @handler(channel="*", priority=100)
    def _record(self, event: Event, *args: Any, **kwargs: Any) -> None:
        self.names.append(event.name)


def test_create_then_load(tmp_path):
    name = f"app{uuid.uuid4().hex[:6]}"
    path = tmp_path / "env"
    app = Manager()
    errors = Errors().register(app)
    env = Environment(str(path), name, defaults={"web.port": 8000}).register(app)
    app.fire(Create())
    app.flush()
    assert errors.errors == []
    assert (path / "VERSION").read_text() == VERSION_TEXT
    assert (path / "conf" / f"{name}.ini").is_file()
    assert env.config is not None and env.log is not None
    assert env.config.get("web", "port") == "8000"
    assert env.config.get("logging", "file") == str(path / "log" / f"{name}.log")
    assert "create_success" in errors.names and "load_success" in errors.names
    app.fire(info("environment ready"))
    app.flush()
    env.log.close()
    assert "environment ready" in (path / "log" / f"{name}.log").read_text()

    # A second application loads what the first created (and keeps its config).
    env.config.set("web", "port", "9000")
    other = Manager()
    errors2 = Errors().register(other)
    env2 = Environment(str(path), name).register(other)
    other.fire(Load())
    other.flush()
    assert errors2.errors == []
    assert env2.config is not None and env2.config.get("web", "port") == "8000"
    assert env2.log is not None
    env2.log.close()


def test_loading_a_directory_that_is_not_an_environment_fails(tmp_path):
    app = Manager()
    errors = Errors().register(app)
    env = Environment(str(tmp_path), "app").register(app)
    app.fire(Load())
    app.flush()
    assert [type(e).__name__ for e in errors.errors] == ["EnvironmentError"]
    assert "no VERSION file" in str(errors.errors[0])
    assert env.config is None and env.log is None
    (tmp_path / "VERSION").write_text("something else\n")
    app.fire(Load())
    app.flush()
    assert "unsupported environment version" in str(errors.errors[1])
