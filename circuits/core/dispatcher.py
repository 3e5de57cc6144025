"""Which handlers an event reaches, in which order (cached per root)."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .handlers import describe_handler

if TYPE_CHECKING:
    from .manager import Manager

#: One entry of a dispatch list: (bound handler, wants the event, is a filter).
Entry = tuple[Any, bool, bool]


def walk(root: Manager) -> Iterator[Manager]:
    """The tree below and including ``root``, parents before children."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.components))


#: The events a component still receives between unregister() and its
#: detachment: its own unregister lifecycle, so it can clean up.
LEAVING_EVENTS = frozenset({"prepare_unregister", "prepare_unregister_complete", "unregistered"})


def _listening(root: Manager, name: str) -> Iterator[Manager]:
    """The nodes of ``walk(root)`` that hear ``name``: subtrees that are
    being unregistered hear only LEAVING_EVENTS (delivery stops at once)."""
    if name in LEAVING_EVENTS:
        yield from walk(root)
        return
    stack = [root]
    while stack:
        node = stack.pop()
        if node._circuits_unregister_pending and node is not root:
            continue
        yield node
        stack.extend(reversed(node.components))


def _matches(handler: Any, owner: Any, channel: Any) -> bool:
    hchannel = handler.channel
    if hchannel is None:
        hchannel = getattr(owner, "channel", "*")
    return channel == "*" or hchannel == "*" or hchannel == channel or channel is owner


class HandlerTable:
    """Dispatch lists keyed by (event name, channels), built from the tree.

    The cache is cleared whenever the tree or any handler changes, so a
    steady-state event costs one dict lookup.
    """

    def __init__(self, root: Manager) -> None:
        self.root = root
        self._cache: dict[tuple[str, tuple[Any, ...]], list[Entry]] = {}
        self._has_generators: bool | None = None

    def invalidate(self) -> None:
        self._cache.clear()
        self._has_generators = None

    def get(self, name: str, channels: tuple[Any, ...]) -> list[Entry]:
        key = (name, channels)
        try:
            return self._cache[key]
        except KeyError:
            pass
        entries = self._build(name, channels)
        self._cache[key] = entries
        return entries

    def _build(self, name: str, channels: tuple[Any, ...]) -> list[Entry]:
        found: dict[int, Any] = {}
        named = False
        for node in _listening(self.root, name):
            for h in node._handlers.get(name, ()):
                if any(_matches(h, node, c) for c in channels):
                    found.setdefault(id(h), h)
                    named = True
            for h in node._handlers.get("*", ()):
                if any(_matches(h, node, c) for c in channels):
                    found.setdefault(id(h), h)
            for h in node._circuits_globals:
                found.setdefault(id(h), h)
        # Stable sort: equal priorities keep tree order (parents first).
        ordered = sorted(found.values(), key=lambda h: (h.priority, h.filter), reverse=True)
        entries: list[Entry] = [(h, h.event, h.filter) for h in ordered]
        if name == "exception" and not named:
            entries.append((print_exception, False, False))
        return entries

    def has_generators(self) -> bool:
        """True if some component handles ``generate_events`` by name."""
        if self._has_generators is None:
            self._has_generators = any(
                node._handlers.get("generate_events") for node in walk(self.root))
        return self._has_generators


def print_exception(etype: Any, evalue: Any, etraceback: Any,
                    handler: Any = None, fevent: Any = None) -> None:
    """Fallback for an error nobody handles: never swallow it silently."""
    where = f" in {describe_handler(handler)}" if handler is not None else ""
    about = f" while handling {fevent!r}" if fevent is not None else ""
    lines = [f"Unhandled error{where}{about}:\n", "Traceback (most recent call last):\n"]
    lines.extend(etraceback if isinstance(etraceback, list) else traceback.format_tb(etraceback))
    lines.extend(traceback.format_exception_only(etype, evalue))
    sys.stderr.write("".join(lines))
    sys.stderr.flush()
