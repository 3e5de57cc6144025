"""The Value future: what an event's handlers returned.

Every fired event carries a :class:`Value`. Handlers' non-``None`` return
values are collected in it (one value, or a list when several handlers
returned something). A Value may wrap another Value (a handler returned the
Value of an event it fired), in which case reading ``.value`` follows the
chain to the innermost result.
"""

from __future__ import annotations

from typing import Any


class Value:
    """A future result of an event's handlers (see module docstring)."""

    # One Value per fired event: the attributes every event touches are
    # slots; the rarely set ones live in a lazily created __dict__ and read
    # their defaults from the class.
    __slots__ = ("event", "manager", "result", "handled", "_value", "_circuits_stop",
                 "__dict__", "__weakref__")

    #: True (or an event name) to fire a ``<event>_value_changed`` event
    #: whenever a result arrives.
    notify: bool | str = False
    #: True while a generator handler may still add results.
    promise: bool = False
    #: True if a handler raised; ``value`` then holds the error triple.
    errors: bool = False
    _parent: Value | None = None

    def __init__(self, event: Any = None, manager: Any = None) -> None:
        self.event = event
        self.manager = manager
        #: True once any handler has produced a result.
        self.result = False
        #: True once every handler of the event has run.
        self.handled = False
        self._value: Any = None
        #: The event's ``stopped``, mirrored here for the dispatcher.
        self._circuits_stop = bool(getattr(event, "stopped", False))

    # -- reading ---------------------------------------------------------
    def getValue(self) -> Any:
        value = self._value
        while isinstance(value, Value):
            value = value._value
        if value.__class__ is list and any(isinstance(v, Value) for v in value):
            # Several handlers, one of which returned the Value of an event
            # it fired: each item reads as its result.
            return [v.getValue() if isinstance(v, Value) else v for v in value]
        return value

    # -- writing ---------------------------------------------------------
    def setValue(self, value: Any) -> None:
        if isinstance(value, Value):
            # Its results will reach us (and our waiters) through _parent.
            value._parent = self
        self._value = self._merged_with(value)
        self._announce(value)

    def _merged_with(self, value: Any) -> Any:
        """The stored result once ``value`` is added: one value, then a list."""
        if not self.result:
            return value  # nothing yet (or only None): this one replaces it
        if isinstance(self._value, list):
            self._value.append(value)
            return self._value
        return [self._value, value]

    def _announce(self, value: Any) -> None:
        """Tell this Value and every Value waiting on it that ``value`` came in."""
        chain: list[Value] = []
        node: Value | None = self
        while node is not None:
            chain.append(node)
            node = node._parent
        if isinstance(value, Value):
            # A nested Value: mirror its state; its own results notify later.
            for waiter in chain:
                waiter.errors = value.errors
                waiter.result = value.result
        elif value is not None:
            for waiter in chain:
                waiter.result = True
                waiter.inform()

    value = property(getValue, setValue)

    def inform(self, force: bool = False) -> None:
        """Fire the change notification if one was asked for."""
        if self.promise and not force:
            return
        notify = self.notify or getattr(self.event, "notify", False)
        if not notify or self.manager is None or self.event is None:
            return
        if isinstance(notify, str):
            from_name = notify
            event = self.event.create(from_name, self)
        else:
            event = self.event.child("value_changed", self)
        self.manager.fire(event, self.manager)

    # -- conveniences ----------------------------------------------------
    def __getitem__(self, index: Any) -> Any:
        return self.getValue()[index]

    def __iter__(self) -> Any:
        return iter(self.getValue())

    def __contains__(self, item: Any) -> bool:
        return item in self.getValue()

    def __repr__(self) -> str:
        return f"<Value ({self.getValue()!r}) result={self.result} errors={self.errors}>"

    def __str__(self) -> str:
        return str(self.getValue())
