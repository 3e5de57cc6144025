"""Events: the messages components send each other, and the built-in ones."""

from __future__ import annotations

from typing import Any, ClassVar

from .names import event_name

#: The delivery flags that ask for more than delivery: a follow-up event
#: (``success``, ``<name>_done``) or the ``complete`` bookkeeping.
FOLLOW_UP_FLAGS = ("success", "complete", "alert_done")


class _FollowUpFlag:
    """One of FOLLOW_UP_FLAGS: a class default an instance may override.

    Setting it on an instance marks that instance as not *plain*, so the
    dispatcher's common path (see ``Event._circuits_plain``) needs one
    attribute read per event instead of one per flag: on Python 3.11 each
    read of a class default through an instance of one of many Event
    classes costs ~250 machine instructions, a tenth of an event's cost.
    """

    def __init__(self, name: str, default: Any = False) -> None:
        self.name = name
        self.default = default

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self.default
        return obj.__dict__.get(self.name, self.default)

    def __set__(self, obj: Any, value: Any) -> None:
        d = obj.__dict__
        d[self.name] = value
        d["_circuits_plain"] = False

    def __delete__(self, obj: Any) -> None:
        obj.__dict__.pop(self.name, None)


class _StateFlag(_FollowUpFlag):
    """``stopped`` / ``cancelled``: setting one marks the instance as not
    plain, and ``stopped`` is mirrored on the event's Value, where the
    dispatcher reads it after each handler (a read from one Value class is
    cheaper than one from the many Event classes)."""

    def __set__(self, obj: Any, value: Any) -> None:
        d = obj.__dict__
        d[self.name] = value
        d["_circuits_plain"] = False
        if self.name == "stopped":
            v = d.get("value")
            if v is not None:
                v._circuits_stop = value


def _own_stopped(cls: type) -> bool:
    """True if ``cls`` defines ``stopped`` itself (e.g. a property computed
    from its Value, as circuits.web's ``request`` does)."""
    for c in cls.__mro__:
        if "stopped" in c.__dict__:
            return not isinstance(c.__dict__["stopped"], _StateFlag)
    return False


def _recompute_plain(cls: type) -> None:
    """Set ``_circuits_plain`` and ``_circuits_own_stop`` of ``cls`` and its
    subclasses from their flags."""
    todo = [cls]
    while todo:
        c = todo.pop()
        own = _own_stopped(c)
        type.__setattr__(c, "_circuits_own_stop", own)
        type.__setattr__(c, "_circuits_plain", not own and not any(getattr(c, f) for f in FOLLOW_UP_FLAGS))
        todo.extend(c.__subclasses__())


class _EventType(type):
    """Keeps ``_circuits_plain`` true to the flags when a class's flag is
    set at run time (3.x code does ``task.complete = True`` on a class)."""

    def __setattr__(cls, name: str, value: Any) -> None:
        if name in FOLLOW_UP_FLAGS:
            value = _FollowUpFlag(name, value)
        super().__setattr__(name, value)
        if name in FOLLOW_UP_FLAGS or name == "stopped":
            _recompute_plain(cls)


class Event(metaclass=_EventType):
    """A message sent to one or more channels.

    Positional and keyword arguments are passed on to the handlers. The
    optional class (or instance) attributes ``channels``, ``success``,
    ``failure``, ``complete``, ``alert_done`` and ``*_channels`` control
    delivery and the follow-up events (see the manual, "Events").
    """

    name: ClassVar[str] = "event"
    #: Channels to deliver to when fire() is given none (a tuple).
    channels: tuple[Any, ...] = ()
    success: bool = _FollowUpFlag("success")  # type: ignore[assignment]
    failure: bool = False
    complete: bool = _FollowUpFlag("complete")  # type: ignore[assignment]
    alert_done: bool = _FollowUpFlag("alert_done")  # type: ignore[assignment]
    #: True while nothing but delivery is asked of this event: no follow-up
    #: flag set (on its class or on it), no waiter, no task, no ``complete``
    #: cause. The dispatcher then skips the follow-up checks. Anything that
    #: asks for more, or stops or cancels it, sets it False on the instance.
    _circuits_plain: bool = True
    #: True for a class that computes ``stopped`` itself: the dispatcher
    #: then asks it after each handler instead of the Value's mirror.
    _circuits_own_stop: bool = False
    notify: bool | str = False
    # Set per instance while it is processed; class defaults keep __init__ cheap.
    value: Any = None
    handler: Any = None
    stopped: bool = _StateFlag("stopped")  # type: ignore[assignment]
    cancelled: bool = _StateFlag("cancelled")  # type: ignore[assignment]
    waitingHandlers: int = 0
    parent: Event | None = None
    _cause: Event | None = None
    _effects: int = 0
    _priority: float = 0
    _waiters: list[Any] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for flag in FOLLOW_UP_FLAGS:  # a class-body ``success = True``
            if flag in cls.__dict__ and not isinstance(cls.__dict__[flag], _FollowUpFlag):
                type.__setattr__(cls, flag, _FollowUpFlag(flag, cls.__dict__[flag]))
        _recompute_plain(cls)
        if "name" not in cls.__dict__:
            cls.name = event_name(cls.__name__)
        else:
            cls.name = event_name(cls.__dict__["name"])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = [*args]  # (a list display: cheaper than a call to list())
        self.kwargs = kwargs

    @classmethod
    def create(cls, _name: str, *args: Any, **kwargs: Any) -> Event:
        """An event of a new Event subclass named ``_name``."""
        return _event_class(cls, _name)(*args, **kwargs)

    def child(self, name: str, *args: Any, **kwargs: Any) -> Event:
        """A follow-up event named ``<this name>_<name>`` (success, failure, ...)."""
        event = Event.create(f"{self.name}_{name}", *args, **kwargs)
        event.parent = self
        return event

    def add_waiter(self, waiter: Any) -> None:
        """Call ``waiter.done(value)`` once this event is done (internal)."""
        d = self.__dict__
        waiters = d.get("_waiters")
        if waiters is None:
            d["_waiters"] = [waiter]
        else:
            waiters.append(waiter)
        d["_circuits_plain"] = False

    def stop(self) -> None:
        """No further handlers are invoked for this event."""
        self.stopped = True

    def cancel(self) -> None:
        """Do not deliver this event if it has not been dispatched yet."""
        self.cancelled = True

    # Events behave a little like their argument list.
    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, int):
            return self.args[key]
        if isinstance(key, str):
            return self.kwargs[key]
        raise TypeError(f"an event is indexed by position (int) or keyword (str), not {key!r}")

    def __setitem__(self, key: int | str, value: Any) -> None:
        if isinstance(key, int):
            self.args[key] = value
        elif isinstance(key, str):
            self.kwargs[key] = value
        else:
            raise TypeError(f"an event is indexed by position (int) or keyword (str), not {key!r}")

    def __repr__(self) -> str:
        channels = ",".join(_channel_repr(c) for c in self.channels)  # empty until fired
        # The 3.x text, which code and doctests compare against: the
        # positional part and the keyword part, one space between them
        # (so an event without arguments shows "( )").
        positional = ", ".join(repr(a) for a in self.args)
        keywords = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"<{self.name}[{channels}] ({positional} {keywords})>"


def _channel_repr(channel: Any) -> str:
    return channel if isinstance(channel, str) else getattr(channel, "name", repr(channel))


_created: dict[tuple[type, str], type[Event]] = {}


def _event_class(base: type[Event], name: str) -> type[Event]:
    key = (base, name)
    cls = _created.get(key)
    if cls is None:
        cls = type(name, (base,), {"name": name, "__module__": __name__})
        if len(_created) < 10_000:
            _created[key] = cls
    return cls


class DerivedEvent(Event):
    """Base of the follow-up events (success, failure, complete)."""


class Success(DerivedEvent):
    """All handlers of an event ran without error: args (event, value)."""


class Failure(DerivedEvent):
    """A handler of an event raised: args (event, error triple)."""


class Complete(DerivedEvent):
    """An event and everything it caused, recursively, was processed."""


class started(Event):
    """The application (a root component) started running: args (manager,)."""


class stopped(Event):
    """The application stopped: args (manager,)."""


class signal(Event):
    """A signal arrived: args (signo, stack)."""


class registered(Event):
    """A component joined a tree: args (component, manager)."""


class unregistered(Event):
    """A component left its tree: args (component, manager)."""


class unregister(Event):
    """Ask a component to unregister: args (component=None)."""


class prepare_unregister(Event):
    """A component and its subtree are about to be detached: args (component,)."""

    complete = True

    def in_subtree(self, component: Any) -> bool:
        """True if ``component`` is in the subtree about to be detached."""
        target = self.args[0]
        while component is not None:
            if component is target:
                return True
            parent = component.parent
            if parent is component:
                return False
            component = parent
        return False


class generate_events(Event):
    """Asks event generators for events; they may shorten ``time_left``.

    ``time_left`` is the time the loop may wait for I/O; a negative value
    means unlimited. A generator that will have an event within t seconds
    calls ``reduce_time_left(t)``; one that has events now fires them (the
    loop then does not wait).
    """

    def __init__(self, lock: Any = None, max_wait: float = -1) -> None:
        # Handlers get no arguments (as in 3.x: ``def generate_events(self,
        # event)``); what they may need is on the event.
        super().__init__()
        self.lock = lock
        self.max_wait = max_wait
        self._time_left = max_wait

    @property
    def time_left(self) -> float:
        return self._time_left

    def reduce_time_left(self, time_left: float) -> None:
        if time_left >= 0 and (self._time_left < 0 or time_left < self._time_left):
            self._time_left = time_left


class exception(Event):
    """A handler raised: args (type, value, traceback), handler= and fevent=."""

    def __init__(self, type: Any, value: Any, traceback: Any,
                 handler: Any = None, fevent: Any = None) -> None:
        super().__init__(type, value, traceback, handler=handler, fevent=fevent)


# 2.x names.
Error = exception
Started = started
Stopped = stopped
Signal = signal
Registered = registered
Unregistered = unregistered
Unregister = unregister
PrepareUnregister = prepare_unregister
GenerateEvents = generate_events
