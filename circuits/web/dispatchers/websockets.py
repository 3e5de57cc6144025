"""The documented ``circuits.web.dispatchers.websockets`` module.

``WebSockets(path, wschannel)`` is :class:`~circuits.web.websockets.WebSocketsDispatcher`
(its ``wchannel`` keyword is accepted for 2.x code).
"""

from __future__ import annotations

from typing import Any

from ..websockets.dispatcher import WebSocketsDispatcher

__all__ = ["WebSockets", "WebSocketsDispatcher"]


class WebSockets(WebSocketsDispatcher):
    """``WebSockets(path=None, wschannel="wsserver", ...)``; ``wchannel=`` is the 2.x spelling."""

    def __init__(self, path: str | None = None, wschannel: Any = "wsserver", *args: Any, **kwargs: Any) -> None:
        if "wchannel" in kwargs:
            wschannel = kwargs.pop("wchannel")
        super().__init__(path, wschannel, *args, **kwargs)
