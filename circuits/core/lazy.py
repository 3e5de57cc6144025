"""Package attributes imported from their modules on first use (PEP 562).

A package that re-exports many names (circuits.web, its dispatchers and
websockets, circuits.protocols.telnet) would otherwise import every module
that defines one, and a program that uses one name would hold them all::

    _HOMES = {"Server": ".servers", "Static": ".dispatchers.static"}
    __all__ = sorted(_HOMES)
    __getattr__, __dir__ = lazy_attributes(__name__, _HOMES, globals())
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_attributes(package: str, homes: dict[str, str],
                    namespace: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package``: a name of
    ``homes`` is imported from its (relative) module when first asked for,
    then kept in ``namespace`` as an ordinary attribute."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return __getattr__, __dir__
