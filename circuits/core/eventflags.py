"""Event flags (``success``, ``complete``, ``alert_done``, ``stopped``,
``cancelled``) kept cheap to skip.

Most events ask for nothing but delivery. The dispatcher's common path
reads one attribute for that, ``_circuits_plain``, instead of one per flag:
on Python 3.11 each read of a class default through an instance of one of
many Event classes costs ~250 machine instructions, and fire + dispatch
read eleven of them per event.

So that ``_circuits_plain`` is never wrong, every way of setting a flag
goes through here:

- the class body (``class hello(Event): success = True``) and the class at
  run time (``task.complete = True``): the value is kept under
  ``_circuits_flag_<name>`` on the class (a property of the metaclass) and
  the class's and its subclasses' ``_circuits_plain`` are recomputed;
- an instance (``event.success = True``, ``event.stop()``, before fire or
  inside a handler): a property of Event whose getter is C code
  (``attrgetter``), so a read costs about what a plain attribute does; its
  setter marks the instance as not plain. The core itself reads the keys.

A subclass may compute ``stopped`` itself (a property: circuits.web's
``request`` is stopped once a handler answered it); the dispatcher then
asks it after each handler. The other flags are values.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

#: Flags that ask for a follow-up: ``<name>_success``, ``<name>_done``, or
#: the ``complete`` bookkeeping.
FOLLOW_UP_FLAGS = ("success", "complete", "alert_done")
#: Flags that end delivery.
STATE_FLAGS = ("stopped", "cancelled")
FLAGS = FOLLOW_UP_FLAGS + STATE_FLAGS


def flag_key(name: str) -> str:
    """Where a flag's value is kept (on the class, or on the instance)."""
    return "_circuits_flag_" + name


def instance_flag(name: str) -> property:
    """The instance side of flag ``name`` (an attribute of Event)."""
    key = flag_key(name)
    mirror = name == "stopped"

    def set_flag(event: Any, value: Any) -> None:
        setattr(event, key, value)
        event._circuits_plain = False
        if mirror:  # the dispatcher reads stopped from the Value, see manager
            v = event.value
            if v is not None:
                v._circuits_stop = bool(value)

    def del_flag(event: Any) -> None:
        if key in vars(event):
            delattr(event, key)

    return property(attrgetter(key), set_flag, del_flag, f"The event's {name} flag.")


def _class_flag(name: str) -> property:
    key = flag_key(name)

    def get(cls: type) -> Any:
        return getattr(cls, key)

    def set_(cls: type, value: Any) -> None:
        type.__setattr__(cls, key, value)
        recompute_plain(cls)

    return property(get, set_)


class EventType(type):
    """The metaclass of Event: class-level flag reads and writes (see module doc)."""

    success = _class_flag("success")
    complete = _class_flag("complete")
    alert_done = _class_flag("alert_done")
    stopped = _class_flag("stopped")
    cancelled = _class_flag("cancelled")

    def __new__(mcs, name: str, bases: tuple[type, ...], ns: dict[str, Any], **kwargs: Any) -> EventType:
        # A class body's plain flag value moves to its key (a property or
        # other descriptor there is the class's own and stays).
        for flag in FLAGS:
            if flag in ns and not hasattr(ns[flag], "__get__"):
                ns[flag_key(flag)] = ns.pop(flag)
        return super().__new__(mcs, name, bases, ns, **kwargs)


def _own(cls: type, name: str, base: type) -> bool:
    """True if ``cls`` defines flag ``name`` itself (as a property)."""
    for c in cls.__mro__:
        if name in c.__dict__:
            return c is not base
    return False


def recompute_plain(cls: type) -> None:
    """Set ``_circuits_plain`` and ``_circuits_own_stop`` of ``cls`` and of
    its subclasses from their flags."""
    base = next(c for c in reversed(cls.__mro__) if isinstance(c, EventType))
    todo = [cls]
    while todo:
        c = todo.pop()
        own_stop = _own(c, "stopped", base)
        raised = any(getattr(c, flag_key(f)) for f in FLAGS)
        type.__setattr__(c, "_circuits_own_stop", own_stop)
        type.__setattr__(c, "_circuits_plain", not (own_stop or raised))
        todo.extend(c.__subclasses__())
