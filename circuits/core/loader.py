"""Loader: load components from modules found on given paths."""

from __future__ import annotations

import inspect
import sys
from typing import Any

from .components import BaseComponent
from .events import Event
from .handlers import handler
from .utils import safeimport


class load(Event):
    """Load the component defined in module ``name``."""


class Loader(BaseComponent):
    """Imports a module and instantiates (and registers) the component it defines."""

    channel = "loader"

    def __init__(self, auto_register: bool = True, init_args: tuple[Any, ...] | None = None,
                 init_kwargs: dict[str, Any] | None = None, paths: list[str] | None = None,
                 channel: Any = channel) -> None:
        super().__init__(channel=channel)
        self._auto_register = auto_register
        self._init_args = tuple(init_args or ())
        self._init_kwargs = dict(init_kwargs or {})
        for path in paths or ():
            if path not in sys.path:
                sys.path.append(path)

    @handler("load")
    def load(self, name: str) -> BaseComponent | None:
        module = safeimport(name)
        if module is None:
            return None
        classes = [cls for _, cls in inspect.getmembers(module, inspect.isclass)
                   if issubclass(cls, BaseComponent) and cls.__module__ == module.__name__]
        if not classes:
            return None
        component = classes[0](*self._init_args, **self._init_kwargs)
        if self._auto_register:
            component.register(self)
        return component

