"""A WebSocket client of the dashboard's /ws on its own thread (websocket-client), for the tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import websocket

TIMEOUT = 15.0


class WsClient:
    """A WebSocket client on its own thread, collecting the gateway's messages."""

    def __init__(self, base: str) -> None:
        self.messages: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.closed = False
        self.ws = websocket.create_connection(base.replace("http://", "ws://") + "/ws", timeout=TIMEOUT)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while True:
                text = self.ws.recv()
                if not text:
                    break
                with self.cond:
                    self.messages.append(json.loads(text))
                    self.cond.notify_all()
        except (websocket.WebSocketException, OSError):
            pass
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait(self, predicate: Callable[[list[dict[str, Any]]], bool], what: str,
             timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self.messages), timeout), f"/ws: no {what}"
            return list(self.messages)

    def readings(self) -> list[dict[str, Any]]:
        with self.cond:
            return [m for m in self.messages if m["type"] == "reading"]

    def close(self) -> None:
        self.ws.close()
        self.thread.join(TIMEOUT)
