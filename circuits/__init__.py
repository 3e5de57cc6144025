"""circuits: a lightweight, event-driven, component-based application framework."""

from .core import (
    BaseComponent,
    Bridge,
    Component,
    Debugger,
    Event,
    FakeClock,
    Loader,
    Manager,
    Timer,
    Value,
    Worker,
    handler,
    ipc,
    reprhandler,
    task,
)
from .core import sleep as sleep  # importable by name; not in __all__ (time.sleep)
from .core.events import (
    Error,
    GenerateEvents,
    PrepareUnregister,
    Registered,
    Signal,
    Started,
    Stopped,
    Unregister,
    Unregistered,
)
from .version import __version__

__all__ = [
    "BaseComponent", "Bridge", "Component", "Debugger", "Error", "Event", "FakeClock",
    "GenerateEvents", "Loader", "Manager", "PrepareUnregister", "Registered", "Signal",
    "Started", "Stopped", "Timer", "Unregister", "Unregistered", "Value",
    "Worker", "__version__", "handler", "ipc", "reprhandler", "task",
]
