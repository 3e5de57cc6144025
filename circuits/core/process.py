"""Running a manager in a child process (``Manager.start(process=True)``)."""

from __future__ import annotations

from typing import Any

from .bridge import link_process


def start_process(manager: Any, link: Any = None) -> tuple[Any, Any]:
    """Fork a process that runs ``manager``; with ``link``, bridge their events.

    Returns (process, the Bridge in this process or None).
    """
    # Imported here: multiprocessing costs ~1 MB of RSS in every program
    # that imports circuits, and only start(process=True) needs it.
    import multiprocessing

    context = multiprocessing.get_context("fork")
    if link is None:
        process = context.Process(target=manager._circuits_run_quietly, name=manager.name, daemon=True)
        process.start()
        return process, None
    return link_process(manager, link, context)
