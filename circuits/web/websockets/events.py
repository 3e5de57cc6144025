"""Events of the WebSocket components and the adapter that listens for them.

Applications talk to a WebSocket through its *wschannel*: they handle
``read`` (and ``connect``/``disconnect`` on the server, ``connected``/
``disconnected`` on the client) there, and fire ``write``/``close`` there.
The :class:`ChannelAdapter` is a tiny child component sitting on that
channel, so the owner's own channel (where its TCP events arrive) and the
application's channel stay apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...core.components import BaseComponent
from ...core.events import Event
from ...core.handlers import handler
from ...core.values import Value

__all__ = ["ChannelAdapter", "not_connected"]


class not_connected(Event):
    """The WebSocket client could not open its connection: (url, reason)."""


class ChannelAdapter(BaseComponent):
    """Forwards ``write``/``close`` on a wschannel to its owner's callbacks.

    A ``read`` handler on the wschannel may also *return* data: it is sent
    back to the same peer (``read`` events are fired with ``notify``).
    """

    def __init__(self, channel: Any, write: Callable[..., Any], close: Callable[..., Any],
                 broadcast: Callable[..., Any] | None = None) -> None:
        super().__init__(channel=channel)
        self._write = write
        self._close = close
        self._broadcast = broadcast

    @handler("write")
    def _on_write(self, *args: Any) -> None:
        self._write(*args)

    @handler("close")
    def _on_close(self, *args: Any, **kwargs: Any) -> None:
        self._close(*args, **kwargs)

    @handler("broadcast")
    def _on_broadcast(self, *args: Any, **kwargs: Any) -> Any:
        if self._broadcast is not None:
            return self._broadcast(*args, **kwargs)
        return None

    @handler("read_value_changed")
    def _on_read_value_changed(self, value: Value) -> None:
        data = value.getValue()
        if isinstance(data, (bytes, bytearray, str)):
            self._write(*value.event.args[:-1], data)
