"""Config: an INI file (configparser) as a component, with load/save events.

``get`` never raises for a missing section or option: it returns the
default, because application code reading optional settings should not be
a wall of try/except. Saving writes a temporary file and renames it, so a
crash mid-write never leaves a truncated configuration behind.
"""

from __future__ import annotations

import os
from configparser import ConfigParser, NoOptionError, NoSectionError
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler

__all__ = ["Config", "ConfigEvent", "Load", "Save", "load", "save"]


class ConfigEvent(Event):
    """Base of the config events; they go to the "config" channel by default."""

    channels = ("config",)
    success = True  # load_success / save_success tell when the file was read or written


class load(ConfigEvent):
    """(Re)read the configuration file."""


class save(ConfigEvent):
    """Write the configuration file."""


Load = load
Save = save


class Config(BaseComponent):
    """Settings read from (and saved to) ``filename`` (see module doc)."""

    channel: Any = "config"

    def __init__(self, filename: str, defaults: dict[str, Any] | None = None, channel: Any = channel) -> None:
        super().__init__(channel=channel)
        self.filename = filename
        self.parser = ConfigParser(defaults={k: str(v) for k, v in (defaults or {}).items()},
                                   interpolation=None)

    @handler("load")
    def _on_load(self) -> list[str]:
        """Read the file (a missing file is not an error: defaults apply)."""
        return self.parser.read(self.filename, encoding="utf-8")

    @handler("save")
    def _on_save(self) -> str:
        directory = os.path.dirname(os.path.abspath(self.filename))
        os.makedirs(directory, exist_ok=True)
        tmp = f"{self.filename}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            self.parser.write(f)
        os.replace(tmp, self.filename)
        return self.filename

    # -- reading and writing settings ------------------------------------------
    def get(self, section: str, option: str, default: Any = None, raw: bool = False) -> Any:
        try:
            return self.parser.get(section, option, raw=raw)
        except (NoSectionError, NoOptionError):
            return default

    def getint(self, section: str, option: str, default: int | None = None) -> int | None:
        value = self.get(section, option)
        return default if value is None else int(value)

    def getfloat(self, section: str, option: str, default: float | None = None) -> float | None:
        value = self.get(section, option)
        return default if value is None else float(value)

    def getboolean(self, section: str, option: str, default: bool | None = None) -> bool | None:
        try:
            return self.parser.getboolean(section, option)
        except (NoSectionError, NoOptionError):
            return default

    def set(self, section: str, option: str, value: Any) -> None:
        """Set an option, creating the section if needed (values are stored as str)."""
        if section != self.parser.default_section and not self.parser.has_section(section):
            self.parser.add_section(section)
        self.parser.set(section, option, str(value))

    def add_section(self, section: str) -> None:
        if not self.parser.has_section(section):
            self.parser.add_section(section)

    def has_section(self, section: str) -> bool:
        return self.parser.has_section(section)

    def has_option(self, section: str, option: str) -> bool:
        return self.parser.has_option(section, option)

    def sections(self) -> list[str]:
        return self.parser.sections()

    def items(self, section: str) -> list[tuple[str, str]]:
        try:
            return self.parser.items(section)
        except NoSectionError:
            return []
