"""What follows an event's handlers: its waiters, its follow-up events
(``success``, ``failure``, ``<name>_done``, ``complete``) and the report of
a handler's error. Half of :class:`~circuits.core.manager.Manager`,
called on the root by the dispatcher and the task trampoline."""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

from .dispatcher import print_exception
from .events import Event, exception

if TYPE_CHECKING:
    from .manager import Manager


class Completion:
    """Waiters, follow-up events and error reports of dispatched events."""

    root: Manager
    _circuits_watchers: dict[Any, list[Any]]
    _circuits_cause: Event | None
    fire: Any  # Manager.fire

    def _circuits_attach_watchers(self, event: Event) -> None:
        waiting = self._circuits_watchers.get(event.name)
        if not waiting:
            return
        keep = []
        for waiter in waiting:
            if waiter.wants(event):
                event.add_waiter(waiter)
            else:
                keep.append(waiter)
        if keep:
            self._circuits_watchers[event.name] = keep
        else:
            del self._circuits_watchers[event.name]

    def _circuits_handler_failed(self, event: Event, fn: Any, exc_info: Any) -> None:
        etype, evalue, etb = exc_info
        # The events get the traceback formatted, so they can cross threads
        # and processes and hold no frames; the event's own Value keeps the
        # traceback object, as in 3.x (``etype, evalue, tb = value``).
        err = (etype, evalue, traceback.format_tb(etb))
        event.handler = fn
        event.value.errors = True
        event.value.value = (etype, evalue, etb)
        if event.failure:
            channels = getattr(event, "failure_channels", None) or event.channels
            self.fire(event.child("failure", event, err), *channels)
        if event.name == "exception":
            # An error handler failed: report it directly, as another
            # ``exception`` event would fail the same way, forever.
            print_exception(etype, evalue, err[2], handler=fn, fevent=event)
            return
        self.fire(exception(etype, evalue, err[2], handler=fn, fevent=event), "*")

    def _circuits_callback_failed(self, callback: Any, error: Exception) -> None:
        """An I/O, timer or thread callback raised: report it like a handler error."""
        root = self.root
        root.fire(exception(type(error), error, traceback.format_tb(error.__traceback__),
                            handler=callback, fevent=None), "*")

    def _circuits_done(self, event: Event, failed: bool = False) -> None:
        value = event.value
        value.handled = True
        if event._circuits_flag_alert_done:  # (flags under their keys: see eventflags)
            self.fire(event.child("done", value.getValue()), *event.channels)
        if event._circuits_flag_success and not failed and not value.errors:
            channels = getattr(event, "success_channels", None) or event.channels
            self.fire(event.child("success", event, value.getValue()), *channels)
        waiters = event._waiters
        if waiters:
            event._waiters = None
            for waiter in waiters:
                waiter.done(value)
        self._circuits_settle(event)

    def _circuits_settle(self, event: Event) -> None:
        """Count ``event`` as processed for the ``complete`` bookkeeping."""
        cause = event._cause
        if cause is None:
            return
        cause._effects -= 1
        if cause._effects == 0:
            cause._cause = None
            completers = getattr(cause, "_completers", None)
            channels = getattr(cause, "complete_channels", None) or cause.channels
            # Not an effect of the event being handled now (a task's event may
            # have ``cause`` as its cause): the complete event must not count
            # towards ``cause`` again, or it would complete twice.
            root = self.root
            current, root._circuits_cause = root._circuits_cause, None
            try:
                self.fire(cause.child("complete", cause, cause.value.getValue()), *channels)
            finally:
                root._circuits_cause = current
            for fn in completers or ():
                fn()
