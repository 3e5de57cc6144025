"""circuits.tools: development tools for looking at (and taking apart) a component tree.

``graph`` draws the tree as text, ``dot`` as Graphviz source, ``inspect``
lists the handlers each event name reaches, ``reprhandler`` names one
handler, ``kill`` dismantles a subtree, ``tryimport`` imports the first of
several alternative modules.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from circuits.core.handlers import reprhandler
from circuits.core.manager import describe

__all__ = ["dot", "edges", "findroot", "graph", "inspect", "kill", "reprhandler", "tryimport", "walk"]


def _children(x: Any) -> list[Any]:
    return list(getattr(x, "components", ()))


def walk(x: Any, depth: int = 0) -> Iterator[tuple[int, Any]]:
    """(depth, component) of ``x`` and everything below it, parents first.

    Children come in registration order. Iterative, so a deep tree does not
    hit the recursion limit; a component met twice (a corrupted tree) is
    yielded once.
    """
    seen: set[int] = set()
    stack: list[tuple[int, Any]] = [(depth, x)]
    while stack:
        level, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield level, node
        stack.extend((level + 1, child) for child in reversed(_children(node)))


def findroot(x: Any) -> Any:
    """The root of the tree ``x`` belongs to."""
    root = getattr(x, "root", None)
    if root is not None:
        return root
    while getattr(x, "parent", x) is not x:
        x = x.parent
    return x


def edges(x: Any) -> list[tuple[Any, Any]]:
    """(parent, child) pairs of the tree below ``x``, parents first."""
    return [(node, child) for _, node in walk(x) for child in _children(node)]


def graph(x: Any, name: str | None = None) -> str:
    """The component tree rooted at ``x`` as text.

    One line ``* <repr>`` per component; each level of the tree is indented
    by one more space. ``name`` names the graph (see :func:`dot`); the text
    form has no title line, so that it reads like the tutorial's output.
    """
    return "\n".join(f"{' ' * level}* {describe(node)}" for level, node in walk(x))


def dot(x: Any, name: str | None = None) -> str:
    """The component tree rooted at ``x`` as Graphviz ``digraph`` source.

    ``name`` is the graph's name (default: the name of ``x``). Render it with
    e.g. ``dot -Tpng``; no file is written here.
    """
    title = name if name is not None else getattr(x, "name", type(x).__name__)
    ids = {id(node): f"n{i}" for i, (_, node) in enumerate(walk(x))}
    lines = [f"digraph {_quote(title)} {{"]
    for _, node in walk(x):
        label = f"{getattr(node, 'name', type(node).__name__)}/{getattr(node, 'channel', '*')}"
        lines.append(f"    {ids[id(node)]} [label={_quote(label)}];")
    for parent, child in edges(x):
        lines.append(f"    {ids[id(parent)]} -> {ids[id(child)]};")
    lines.append("}")
    return "\n".join(lines)


def _quote(text: Any) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _own_handlers(node: Any) -> Iterator[tuple[str, Any]]:
    """(event name, bound handler) of the handlers registered on ``node`` itself.

    A handler of every event (on its channel, or on every channel) is listed
    under ``*``; its channel tells which.
    """
    for name, handlers in getattr(node, "_handlers", {}).items():
        for h in handlers:
            yield name, h
    for h in getattr(node, "_circuits_globals", ()):
        yield "*", h


def inspect(x: Any) -> str:
    """The components of the tree at ``x`` and the handlers of each event name.

    For each event name: how many handlers, then one line per handler (its
    component, channel and priority), highest priority first, the way the
    dispatcher orders them.
    """
    nodes = [node for _, node in walk(x)]
    by_name: dict[str, list[Any]] = {}
    for node in nodes:
        for name, h in _own_handlers(node):
            by_name.setdefault(name, []).append(h)
    lines = [f"Components: {len(nodes)}"]
    lines.extend(f" {node!r}" for node in nodes)
    lines.append("")
    lines.append(f"Event Handlers: {len(by_name)}")
    for name in sorted(by_name):
        handlers = sorted(by_name[name], key=lambda h: getattr(h, "priority", 0), reverse=True)
        lines.append(f" {name}; {len(handlers)}")
        lines.extend(f"  {reprhandler(h)} priority={getattr(h, 'priority', 0)}" for h in handlers)
    return "\n".join(lines)


def kill(x: Any) -> None:
    """Unregister ``x`` and every component below it.

    Children go first, so that afterwards every component of the subtree
    stands alone (is its own root), not only ``x``. Unregistering takes its
    usual two stages: the components are detached as the loop (or a
    ``flush()``) processes the events it fires.
    """
    for child in _children(x):
        kill(child)
    x.unregister()


def tryimport(modules: str | Iterable[str], obj: str | None = None, message: str | None = None) -> Any:
    """Import the first of ``modules`` (a name or names) that can be imported.

    Returns that module, or its attribute ``obj`` when given (a module lacking
    it counts as failing). When none works, ``message`` (if any) is printed
    to stderr and None is returned. Only ImportError and a missing ``obj``
    are treated as "does not work": any other error while importing is a
    bug in that module and propagates.
    """
    names = (modules,) if isinstance(modules, str) else tuple(modules)
    for module_name in names:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if obj is None:
            return module
        try:
            return getattr(module, obj)
        except AttributeError:
            continue
    if message is not None:
        print(message, file=sys.stderr)
    return None
