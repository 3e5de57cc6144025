"""Events: the messages components send each other, and the built-in ones."""

from __future__ import annotations

from typing import Any, ClassVar

from .eventflags import EventType, instance_flag, recompute_plain
from .names import event_name


class Event(metaclass=EventType):
    """A message sent to one or more channels.

    Positional and keyword arguments are passed on to the handlers. The
    optional class (or instance) attributes ``channels``, ``success``,
    ``failure``, ``complete``, ``alert_done`` and ``*_channels`` control
    delivery and the follow-up events (see the manual, "Events").
    """

    name: ClassVar[str] = "event"
    #: Channels to deliver to when fire() is given none (a tuple).
    channels: tuple[Any, ...] = ()
    failure: bool = False
    # The flags (see eventflags): properties on an instance, their values
    # under _circuits_flag_<name>, on the class or on the instance.
    success = instance_flag("success")
    complete = instance_flag("complete")
    alert_done = instance_flag("alert_done")
    stopped = instance_flag("stopped")
    cancelled = instance_flag("cancelled")
    _circuits_flag_success: Any = False
    _circuits_flag_complete: Any = False
    _circuits_flag_alert_done: Any = False
    _circuits_flag_stopped: Any = False
    _circuits_flag_cancelled: Any = False
    #: True while nothing but delivery is asked of this event: no flag set
    #: (on its class or on it), no waiter, no task, no ``complete`` cause.
    #: The dispatcher then skips the follow-up checks. Whatever asks for
    #: more sets it False on the instance (see eventflags).
    _circuits_plain: bool = True
    #: True for a class that computes ``stopped`` itself: the dispatcher
    #: then asks it after each handler instead of the Value's mirror.
    _circuits_own_stop: bool = False
    notify: bool | str = False
    # Set per instance while it is processed; class defaults keep __init__ cheap.
    value: Any = None
    handler: Any = None
    waitingHandlers: int = 0
    parent: Event | None = None
    _cause: Event | None = None
    _effects: int = 0
    _priority: float = 0
    _waiters: list[Any] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        recompute_plain(cls)
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
        # (attributes, not self.__dict__: reading __dict__ makes Python 3.11
        # build a dict out of the instance's inline values)
        waiters = self._waiters
        if waiters is None:
            self._waiters = [waiter]
        else:
            waiters.append(waiter)
        self._circuits_plain = False

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
