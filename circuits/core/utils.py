"""Finding components in a tree, and importing modules safely."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from .dispatcher import walk


def findroot(component: Any) -> Any:
    """The root of the tree ``component`` is in."""
    while component.parent is not component:
        component = component.parent
    return component


def flatten(root: Any, visited: set[int] | None = None) -> Iterator[Any]:
    """Every component of the tree below and including ``root``."""
    visited = visited if visited is not None else set()
    for node in walk(root):
        if id(node) not in visited:
            visited.add(id(node))
            yield node


def _find(root: Any, test: Any, all: bool) -> Any:
    found = [c for c in walk(root) if test(c)]
    if all:
        return found
    return found[0] if found else None


def findchannel(root: Any, channel: Any, all: bool = False) -> Any:  # noqa: A002 (documented name)
    """The component(s) listening on ``channel``."""
    return _find(root, lambda c: getattr(c, "channel", None) == channel, all)


def findtype(root: Any, component: type, all: bool = False) -> Any:  # noqa: A002
    """The component(s) that are instances of ``component``."""
    return _find(root, lambda c: isinstance(c, component), all)


findcmp = findtype


def safeimport(name: str) -> ModuleType | None:
    """Import (or re-import) a module by name; None if it cannot be imported."""
    try:
        if name in sys.modules:
            return importlib.reload(sys.modules[name])
        # A plugin written since the finders listed its directory must be seen.
        importlib.invalidate_caches()
        return importlib.import_module(name)
    except Exception:  # noqa: BLE001 - a broken plugin must not stop the loader
        sys.modules.pop(name, None)
        return None
