"""Environment: an application's directory of configuration and logs.

Layout (made by ``create``, checked by ``load``)::

    <path>/VERSION              "circuits environment, version 1"
    <path>/conf/<envname>.ini   the configuration (a Config component)
    <path>/log/<envname>.log    the log (a Logger component, as configured)

``create`` makes the layout (keeping an existing configuration) and then
loads it; ``load`` refuses a directory that is not an environment (no or a
different VERSION), so a typo in a path cannot make the application write
its logs into some random directory. Once loaded, ``env.config`` and
``env.log`` are registered children (channels "config" and "logger" by
default, so ``Info("text")`` and ``Load()`` reach them as in 2.x).
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from .config import Config
from .config import load as load_config
from .config import save as save_config
from .log import Logger

__all__ = ["Create", "Environment", "EnvironmentError", "Load", "create", "load"]

VERSION = 1
VERSION_TEXT = f"circuits environment, version {VERSION}\n"


class EnvironmentError(Exception):  # noqa: A001 - the 2.x name, scoped to this module
    """The directory is not a (compatible) environment."""


class EnvironmentEvent(Event):
    """Base of the environment events; they go to the "env" channel by default."""

    channels = ("env",)
    success = True  # create_success / load_success: the environment is ready


class create(EnvironmentEvent):
    """Create the environment's directories and configuration, then load it."""


class load(EnvironmentEvent):
    """Load an existing environment (configuration and logger)."""


Create = create
Load = load


class Environment(BaseComponent):
    """An application environment in ``path`` named ``envname`` (see module doc)."""

    channel: Any = "env"

    def __init__(self, path: str, envname: str, channel: Any = channel, defaults: dict[str, Any] | None = None,
                 config_channel: Any = "config", logger_channel: Any = "logger") -> None:
        super().__init__(channel=channel)
        self.path = os.path.abspath(os.path.expanduser(path))
        self.envname = envname
        self.defaults = dict(defaults or {})
        self.config_channel = config_channel
        self.logger_channel = logger_channel
        self.config: Config | None = None
        self.log: Logger | None = None

    @property
    def config_file(self) -> str:
        return os.path.join(self.path, "conf", f"{self.envname}.ini")

    @property
    def log_file(self) -> str:
        return os.path.join(self.path, "log", f"{self.envname}.log")

    @property
    def version_file(self) -> str:
        return os.path.join(self.path, "VERSION")

    @handler("create")
    def _on_create(self) -> Generator[Any, Any, str]:
        for sub in ("", "conf", "log"):
            os.makedirs(os.path.join(self.path, sub), exist_ok=True)
        with open(self.version_file, "w", encoding="utf-8") as f:
            f.write(VERSION_TEXT)
        if not os.path.exists(self.config_file):
            config = Config(self.config_file, channel=f"{self.channel}.new-config").register(self)
            config.set("logging", "type", "file")
            config.set("logging", "level", "info")
            config.set("logging", "file", self.log_file)
            for key, value in self.defaults.items():
                section, _, option = key.rpartition(".")
                config.set(section or "general", option, value)
            yield self.call(save_config(), config.channel)
            config.unregister()
        yield self.call(load(), self.channel)
        return self.path

    @handler("load")
    def _on_load(self) -> Generator[Any, Any, str]:
        try:
            with open(self.version_file, encoding="utf-8") as f:
                version = f.read()
        except FileNotFoundError:
            raise EnvironmentError(f"{self.path} is not an environment (no VERSION file)") from None
        if version != VERSION_TEXT:
            raise EnvironmentError(f"{self.path}: unsupported environment version {version.strip()!r}")
        if self.config is None:
            self.config = Config(self.config_file, channel=self.config_channel).register(self)
        yield self.call(load_config(), self.config_channel)
        if self.log is None:
            self.log = Logger(self.config.get("logging", "file", self.log_file), self.envname,
                              self.config.get("logging", "type", "file"),
                              self.config.get("logging", "level", "info"),
                              channel=self.logger_channel).register(self)
        return self.path
