"""Worker: run blocking functions in threads or processes; results come back as values."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from .components import BaseComponent
from .events import Event
from .handlers import handler
from .tasks import wait_future


class task(Event):
    """Run ``f(*args, **kwargs)`` in a Worker; the event's value is its result."""

    success = True
    failure = True

    def __init__(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(f, *args, **kwargs)


Task = task  # 2.x name


class Worker(BaseComponent):
    """Runs ``task`` events in a pool of threads (or processes with ``process=True``).

    The loop never blocks: the task's handler suspends until the pool's
    future resolves, and the result (or exception, as an ``exception``
    event and a ``task_failure``) is delivered in the loop's thread.
    """

    channel = "worker"

    def init(self, process: bool = False, workers: int | None = None, channel: Any = channel) -> None:
        self.process = process
        self.workers = workers or os.cpu_count() or 1
        self._executor: Executor | None = None

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            if self.process:
                # (here: ProcessPoolExecutor imports multiprocessing, see process.py)
                from concurrent.futures import ProcessPoolExecutor

                self._executor = ProcessPoolExecutor(self.workers)
            else:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix=f"{self.name}-worker")
        return self._executor

    @handler("task")
    def _on_task(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        result = yield wait_future(self.executor.submit(f, *args, **kwargs))
        return result

    @handler("stopped", "unregistered", channel="*")
    def _on_stopped(self, component: Any, *args: Any) -> None:
        if component is self or component is self.root:
            self.shutdown()

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
