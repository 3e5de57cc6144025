"""The @handler decorator: marks a method as an event handler."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .names import event_name


def handler(*names: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a method as a handler for the events ``names``.

    Keyword arguments: ``channel`` (default: the component's channel),
    ``priority`` (higher runs first), ``filter`` (a non-None return stops
    the other handlers), ``override`` (replace base-class handlers of the
    same names). ``@handler(False)`` marks a method as *not* a handler on a
    :class:`~circuits.core.components.Component`. With no names the method
    handles every event on its channel (or on every channel with
    ``channel="*"``).
    """

    def wrapper(f: Callable[..., Any]) -> Callable[..., Any]:
        if names and names[0] is False:
            f.handler = False  # type: ignore[attr-defined]
            return f
        f.handler = True  # type: ignore[attr-defined]
        f.names = tuple(event_name(n) for n in names)  # type: ignore[attr-defined]
        f.channel = kwargs.get("channel")  # type: ignore[attr-defined]
        f.priority = kwargs.get("priority", 0)  # type: ignore[attr-defined]
        f.filter = kwargs.get("filter", False)  # type: ignore[attr-defined]
        f.override = kwargs.get("override", False)  # type: ignore[attr-defined]
        f.event = _wants_event(f)  # type: ignore[attr-defined]
        return f

    return wrapper


def _wants_event(f: Callable[..., Any]) -> bool:
    """True if the first argument after ``self`` is named ``event``."""
    try:
        params = list(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        return False
    if params and params[0] == "self":
        params = params[1:]
    return bool(params) and params[0] == "event"


def is_handler(f: Any) -> bool:
    return getattr(f, "handler", False) is True


def reprhandler(h: Any) -> str:
    """A handler as circuits 3.x prints it: ``<handler[channel][names] (Class.method)>``.

    ``channel`` is the handler's own channel, else its component's; a
    handler of every event shows ``*`` as its names. Used in error reports
    (the Debugger's ``ERROR <handler...>`` line). Anything that is not a
    handler (it has no ``names``) raises AttributeError, as in 3.x.
    """
    names = ",".join(h.names) or "*"
    owner = getattr(h, "__self__", None)
    channel = getattr(h, "channel", None)
    if channel is None:
        channel = getattr(owner, "channel", "*")
    where = f"{type(owner).__name__}." if owner is not None else ""
    return f"<handler[{channel}][{names}] ({where}{getattr(h, '__name__', h)})>"


def describe_handler(h: Any) -> str:
    """:func:`reprhandler` for error reports: never raises (a task's or a
    callback's function may not be a decorated handler)."""
    try:
        return reprhandler(h)
    except AttributeError:
        return f"<handler[?][?] ({getattr(h, '__qualname__', repr(h))})>"


class HandlerMetaClass(type):
    """Kept for 2.x code that names it; classes use __init_subclass__ now."""
