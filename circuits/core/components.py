"""BaseComponent and Component: the building blocks of an application."""

from __future__ import annotations

import inspect
from typing import Any

from .dispatcher import walk
from .events import prepare_unregister, registered, unregistered
from .handlers import handler
from .manager import Manager
from .names import event_name


class SingletonError(Exception):
    """A second instance of a ``singleton = True`` component joined a tree."""


def _class_handlers(cls: type) -> list[tuple[str, Any]]:
    """(attribute name, function) of every handler of ``cls``, honouring override."""
    cached = cls.__dict__.get("_circuits_handlers")
    if cached is not None:
        return cached
    # attr -> True while a base class's attribute of that name still counts:
    # a subclass that redefines a handler method with an explicit @handler
    # (no override=True) adds its handler to the base's, as in 3.x; a plain
    # redefinition replaces the method, as Python overriding does.
    adds: dict[str, bool] = {}
    overridden: set[str] = set()
    found: list[tuple[str, Any]] = []
    for klass in cls.__mro__:
        overriding_here: set[str] = set()
        for attr, f in vars(klass).items():
            if attr in adds and not adds[attr]:
                continue
            is_handler = getattr(f, "handler", False) is True and callable(f)
            adds[attr] = is_handler and not f.override and not getattr(f, "implicit", False)
            if not is_handler:
                continue
            if overridden.intersection(f.names):
                continue
            found.append((attr, f))
            if f.override:
                overriding_here.update(f.names)
        overridden |= overriding_here
    cls._circuits_handlers = found  # type: ignore[attr-defined]
    return found


class BaseComponent(Manager):
    """A Manager with a channel whose @handler methods are registered.

    ``channel`` (class attribute or ``channel=`` keyword, default ``"*"``)
    is where its handlers listen and where it fires by default. After set-up
    ``init(*args, **kwargs)`` is called if the class defines it.
    """

    channel: Any = "*"
    singleton: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._circuits_handlers = None  # type: ignore[attr-defined]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.channel = kwargs.get("channel", self.channel) or "*"
        for _attr, f in _class_handlers(type(self)):
            # f.__get__, not getattr: an instance attribute may share the name.
            self._circuits_file_handler(f.__get__(self, type(self)), f.names)
        init = getattr(self, "init", None)
        if callable(init):
            init(*args, **kwargs)

    # -- the tree ----------------------------------------------------------
    def register(self, parent: Manager) -> BaseComponent:
        """Insert this component (and its subtree) as a child of ``parent``."""
        if parent is self.parent and parent is not self:
            return self
        if self.parent is not self:
            self._circuits_detach()
        new_root = parent.root
        if self.singleton:
            for node in walk(new_root):
                if type(node) is type(self) and node is not self:
                    raise SingletonError(f"{type(self).__name__} is a singleton and already in this tree")
        self.parent = parent
        if parent is not self:
            parent.components.append(self)
            _move_work(self, new_root)
            self._circuits_update_root(new_root)
            own_loop = self._circuits_loop
            if own_loop is not None and own_loop is not new_root._circuits_loop:
                self._circuits_loop = None
                own_loop.merge_into(new_root.loop)
            new_root._circuits_table.invalidate()
            self.fire(registered(self, parent))
        return self

    def unregister(self) -> BaseComponent:
        """Detach this component's subtree, in two stages (see the manual).

        ``prepare_unregister`` goes out first; when it and everything it
        caused are processed, ``unregistered`` is fired, and the subtree is
        detached once that has been delivered (to it too).
        """
        if self._circuits_unregister_pending or self.parent is self:
            return self
        self._circuits_unregister_pending = True
        # From now on the subtree hears only its unregister lifecycle, also
        # for events queued already: the tables are rebuilt without it.
        self.root._circuits_table.invalidate()
        event = prepare_unregister(self)
        event._completers = [self._circuits_unregister_now]  # type: ignore[attr-defined]
        self.fire(event)
        return self

    def _circuits_unregister_now(self) -> None:
        event = unregistered(self, self.parent)
        self.fire(event)
        event.add_waiter(_AfterDelivery(self._circuits_detach))

    def _circuits_detach(self) -> None:
        self._circuits_unregister_pending = False
        parent = self.parent
        if parent is self:
            return
        old_root = self.root
        if self in parent.components:
            parent.components.remove(self)
        self.parent = self
        self._circuits_update_root(self)
        old_root._circuits_table.invalidate()
        self._circuits_table.invalidate()

    def _circuits_update_root(self, root: Manager) -> None:
        for node in list(walk(self)):
            old = node.root
            node.root = root
            if old is not root:
                node._root_changed(old, root)

    def _root_changed(self, old: Manager, new: Manager) -> None:
        """Hook: move loop resources (timers, descriptors) to the new root."""

    # -- introspection -----------------------------------------------------
    @classmethod
    def handlers(cls) -> list[Any]:
        """The handler functions of this class."""
        return [f for _, f in _class_handlers(cls)]

    @classmethod
    def handles(cls, *names: str) -> bool:
        """True if every name is handled by this class."""
        from_names = {n for f in cls.handlers() for n in f.names}
        return all(event_name(n) in from_names for n in names)


class _AfterDelivery:
    """Runs a function once an event has been delivered."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def done(self, value: Any) -> None:
        self.fn()


def _move_work(component: Manager, root: Manager) -> None:
    """Events a component fired while it was its own root go to the new root."""
    if component._circuits_queue and component._circuits_queue is not root._circuits_queue:
        root._circuits_queue.extend(component._circuits_queue)
        component._circuits_queue.clear()
    if component._circuits_ready and component._circuits_ready is not root._circuits_ready:
        root._circuits_ready.extend(component._circuits_ready)
        component._circuits_ready.clear()


# Names of the framework's own methods: never implicit handlers. ``tick``
# is the exception: the loop never calls it by that name (see Runner), and
# ``def tick(self)`` commonly handles a Timer's ``tick`` events.
_RESERVED = (frozenset(dir(BaseComponent)) | {"init"}) - {"tick"}
# Manager methods the loop and the tree call: a Component method of the same
# name (that does not call the original) would silently break the application.
_LOOP_METHODS = frozenset({"run", "flush", "fire", "fireEvent", "stop", "register",
                           "unregister", "addHandler", "removeHandler"})


def _calls_super(f: Any) -> bool:
    return "super" in f.__code__.co_names


class Component(BaseComponent):
    """A BaseComponent whose public methods are handlers of their own name.

    A method named ``foo`` handles ``foo`` events; names starting with ``_``
    and methods marked ``@handler(False)`` are left alone.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        for attr, value in list(vars(cls).items()):
            if attr == "tick" and inspect.isfunction(value) and _calls_super(value):
                continue  # a loop pass of its own (see Runner.tick), not a handler
            if attr in _LOOP_METHODS and inspect.isfunction(value) and not _calls_super(value):
                raise TypeError(
                    f"{cls.__name__}.{attr} replaces Manager.{attr}, which circuits itself calls; "
                    f"give the method another name and mark it @handler({attr!r}) to handle "
                    f"{attr!r} events (or call super().{attr}(...) from it)")
            if attr.startswith("_") or attr in _RESERVED or not inspect.isfunction(value):
                continue
            if hasattr(value, "handler"):
                continue
            wrapped = handler(attr)(value)
            wrapped.implicit = True  # type: ignore[attr-defined]
            setattr(cls, attr, wrapped)
        super().__init_subclass__(**kwargs)
