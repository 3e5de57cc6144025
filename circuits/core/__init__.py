"""circuits.core: components, events, handlers, the loop, timers, workers."""

from .bridge import Bridge
from .clock import FakeClock, MonotonicClock
from .components import BaseComponent, Component, SingletonError
from .debugger import Debugger
from .events import Event
from .handlers import handler, reprhandler
from .loader import Loader
from .manager import Manager
from .pollers import BasePoller, EPoll, Poll, Poller, Select
from .process import start_process
from .tasks import wait_future
from .timers import Timer
from .values import Value
from .workers import Worker, task

Manager.process_starter = start_process

__all__ = [
    "BaseComponent", "BasePoller", "Bridge", "Component", "Debugger", "EPoll", "Event",
    "FakeClock", "Loader", "Manager", "MonotonicClock", "Poll", "Poller", "Select",
    "SingletonError", "Timer", "Value", "Worker", "handler", "reprhandler", "task", "wait_future",
]
