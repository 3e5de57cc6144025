"""circuits.core: components, events, handlers, the loop, timers, workers."""

from .bridge import Bridge, ipc
from .clock import FakeClock, MonotonicClock
from .components import BaseComponent, Component, SingletonError
from .debugger import Debugger
from .events import Event
from .handlers import handler, reprhandler
from .loader import Loader
from .manager import TIMEOUT, Manager
from .pollers import BasePoller, EPoll, Poll, Poller, Select
from .process import start_process
from .tasks import Sleep, wait_future
from .tasks import TimeoutError as TimeoutError  # noqa: A004 - see below
from .tasks import sleep as sleep
from .timers import Timer
from .values import Value
from .workers import Worker, task

Manager.process_starter = staticmethod(start_process)

# TimeoutError and sleep are importable by name, as in 3.x, but left out of
# __all__: a star import must not shadow the builtin TimeoutError (it would
# narrow every ``except TimeoutError`` below it) or time.sleep.

__all__ = [
    "BaseComponent", "BasePoller", "Bridge", "Component", "Debugger", "EPoll", "Event",
    "FakeClock", "Loader", "Manager", "MonotonicClock", "Poll", "Poller", "Select",
    "SingletonError", "Sleep", "TIMEOUT", "Timer", "Value", "Worker", "handler", "ipc",
    "reprhandler", "task", "wait_future",
]
