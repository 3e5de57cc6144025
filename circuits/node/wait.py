"""What a task yields while a node request is out (used by Client and Server)."""

from __future__ import annotations

from typing import Any

from ..core.tasks import Suspension

__all__ = ["Answered", "Reply"]


class Reply(Suspension):
    """Resumed with ``(result, errors)`` when the peer's value packet comes back."""


class Answered(Reply):
    """A reply known at once (the request could not be sent): resumes on attach."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def attach(self, manager: Any, task: Any) -> None:
        super().attach(manager, task)
        self.resume((self.error, True))
