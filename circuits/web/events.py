"""The events of circuits.web.

``request(request, response)`` is fired by the HTTP component for every
complete request; ``response(response)`` sends one; ``stream(response,
data)`` sends a piece of a streamed body (``None`` ends it). They are
*WebEvents*: their ``success`` and ``failure`` follow-ups are fired
(``request_success`` is how the HTTP component learns the handlers' result).
"""

from __future__ import annotations

from typing import Any

from ..core.events import Event

__all__ = ["Request", "Response", "Stream", "WebEvent", "request", "response", "stream",
           "terminate", "upgraded"]


class WebEvent(Event):
    """An event with ``success`` and ``failure`` follow-ups (``<name>_success`` / ``<name>_failure``)."""

    channels = ("web",)
    success = True
    failure = True


class request(WebEvent):
    """request(request, response): a complete request arrived.

    Handlers run by priority. The first handler that returns something
    (a body, a Response, an HTTP error, a coroutine, another event's Value)
    or raises *ends* the handling: later (lower priority) handlers do not
    run. This is what lets an authentication handler guard a controller.
    """

    _stopped = False

    @property  # type: ignore[override]
    def stopped(self) -> bool:
        if self._stopped:
            return True
        value = self.value
        # A result, a pending coroutine or an error: the request is taken.
        return value is not None and (value._value is not None or value.promise or value.errors)

    @stopped.setter
    def stopped(self, flag: bool) -> None:
        self._stopped = flag

    @classmethod
    def create(cls, _name: str, *args: Any, **kwargs: Any) -> Event:
        """An event named exactly ``_name`` (a URL segment: not uncamelled)."""
        event = Event.create(_name, *args, **kwargs)
        type(event).name = _name
        return event


class response(WebEvent):
    """response(response): send this response to its client."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if args:
            # Answered: a request handler that fired this and returned None gets no 404 on top.
            args[0].answered = True


class stream(WebEvent):
    """stream(response, data): send one piece of a streamed body; ``data=None`` ends it."""


class terminate(Event):
    """Ask for a connection to be closed."""


class upgraded(Event):
    """upgraded(request, response, data): the HTTP component handed a connection over.

    Fired after a ``101 Switching Protocols`` response went out. ``data``
    holds the bytes the client already sent after the request; from now on
    the connection's ``read`` events are the new protocol's alone.
    """


# 2.x names.
Request = request
Response = response
Stream = stream
